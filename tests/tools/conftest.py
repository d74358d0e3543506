"""Fixtures of the tool tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from civique.i18n import reset_locale, set_locale


@pytest.fixture
def english() -> Iterator[None]:
    """Checker messages in their English source form, whatever earlier tests loaded."""
    token = set_locale("en")
    yield
    reset_locale(token)
