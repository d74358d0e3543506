"""Governance: personal-data detection (pii), and later the vault, register, validation and
retention (DESIGN.md §3)."""
