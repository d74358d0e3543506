"""Civique's OpenAI-compatible API for the organisation's other tools (/api/v1)."""
