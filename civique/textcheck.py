"""Validation of free text typed by users (messages, titles, names)."""

from __future__ import annotations

import unicodedata

from civique.errors import UserError

_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def clean_text(text: str, limit: int, *, allow_empty: bool = False) -> str:
    """Return `text` normalised (NFC, stripped); refuse empty, too long or control characters."""
    text = unicodedata.normalize("NFC", text).strip()
    if not text and not allow_empty:
        raise UserError("empty")
    if len(text) > limit:
        raise UserError("too_long", length=len(text), limit=limit)
    if "\ufffd" in text:  # what a decoder leaves in place of invalid UTF-8 bytes
        raise UserError("invalid_utf8")
    if any(unicodedata.category(ch) in {"Cc", "Cs"} and ch not in _ALLOWED_CONTROLS for ch in text):
        raise UserError("control_chars")
    return text
