"""Settings: every field documented, default secrets refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from civique.settings import ProviderConfig, Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"`CIVIQUE_{n.upper()}`" not in text]
    missing += [n for n in ProviderConfig.model_fields if f"`{n}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"
    assert all(f.description for f in Settings.model_fields.values())


def test_production_refuses_default_secret() -> None:
    with pytest.raises(ValidationError, match="CIVIQUE_SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    ok = Settings(_env_file=None, environment="production", secret_key="x" * 40)  # type: ignore[call-arg]
    assert ok.secure_cookies is True


def test_providers_and_maps_parse_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVIQUE_PROVIDERS", '[{"name": "albert", "base_url": "http://x/v1", '
                       '"chat_models": ["m"], "classification_ceiling": "personal"}]')
    monkeypatch.setenv("CIVIQUE_OIDC_ROLE_MAP", '{"admins": "org_admin"}')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.providers[0].name == "albert"
    assert settings.providers[0].classification_ceiling == "personal"
    assert settings.oidc_role_map == {"admins": "org_admin"}
