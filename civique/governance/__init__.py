"""Governance: personal data, register, validation, retention, rights."""
