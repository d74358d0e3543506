"""Settings: every field documented, default secrets refused in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from civique.settings import CasePattern, ProviderConfig, Settings

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"`CIVIQUE_{n.upper()}`" not in text]
    missing += [n for n in ProviderConfig.model_fields if f"`{n}`" not in text]
    missing += [n for n in CasePattern.model_fields if f"`{n}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"
    assert all(f.description for f in Settings.model_fields.values())


def test_production_refuses_default_secret() -> None:
    with pytest.raises(ValidationError, match="CIVIQUE_SECRET_KEY"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]
    key = "qUwgLwB6yJ9mH0N6xkQm0h3m5wPZzJ1bXbyGWmR0cHk="
    ok = Settings(_env_file=None, environment="production", secret_key="x" * 40, vault_keys=[key])  # type: ignore[call-arg]
    assert ok.secure_cookies is True


def test_providers_and_maps_parse_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVIQUE_PROVIDERS", '[{"name": "albert", "base_url": "http://x/v1", '
                       '"chat_models": ["m"], "classification_ceiling": "personal"}]')
    monkeypatch.setenv("CIVIQUE_OIDC_ROLE_MAP", '{"admins": "org_admin"}')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.providers[0].name == "albert"
    assert settings.providers[0].classification_ceiling == "personal"
    assert settings.oidc_role_map == {"admins": "org_admin"}


def test_personal_data_settings_parse_and_refuse_bad_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIVIQUE_PII_THRESHOLDS", '{"ORGANISATION": 0.9}')
    monkeypatch.setenv("CIVIQUE_PII_CASE_PATTERNS",
                       '[{"kind": "PERMIS", "pattern": "APA \\\\d{5}"}]')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.pii_thresholds == {"ORGANISATION": 0.9}
    assert settings.pii_case_patterns == [CasePattern(kind="PERMIS", pattern=r"APA \d{5}")]
    monkeypatch.delenv("CIVIQUE_PII_CASE_PATTERNS")
    assert [p.kind for p in Settings(_env_file=None).pii_case_patterns] == ["DOSSIER"] * 2  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="regular expression"):
        CasePattern(pattern="([unclosed")
    with pytest.raises(ValidationError, match="kind"):
        CasePattern(kind="dossier", pattern="x")
    with pytest.raises(ValidationError, match="CIVIQUE_PII_THRESHOLDS"):
        Settings(_env_file=None, pii_thresholds={"personne": 0.5})  # type: ignore[call-arg]
