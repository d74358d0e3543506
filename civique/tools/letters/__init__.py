"""Letters and certificates from the organisation's template library."""
