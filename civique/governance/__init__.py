"""Governance: personal data, vault, register, validation, retention, rights (DESIGN.md §3)."""
