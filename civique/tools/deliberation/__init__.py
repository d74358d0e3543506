"""Council deliberations and notes to elected officials."""
