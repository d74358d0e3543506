"""The vault: encrypted values, keyed hashes, key checks, rotation, purge; restoring streams."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.db.base import utcnow
from civique.governance.pseudonymise import StreamRestorer, restore
from civique.governance.vault import Vault, VaultEntry, VaultKeyError, new_key
from civique.settings import Settings
from tests.helpers import Tenant


def _vault(settings: Settings, *keys: str) -> Vault:
    return Vault(settings.model_copy(update={"vault_keys": list(keys)}))


def test_values_are_encrypted_and_found_by_their_hash(
    settings: Settings, db: Session, tenant: Tenant
) -> None:
    vault = _vault(settings, new_key())
    vault.add(db, tenant.org.id, "conversation:1", "[PERSONNE_1]", "PERSONNE", "Élodie Crausaz")
    db.commit()
    row = db.scalars(select(VaultEntry)).one()
    assert b"Crausaz" not in row.value
    mapping = vault.mapping(db, tenant.org.id, "conversation:1")
    assert mapping.values == {"[PERSONNE_1]": "Élodie Crausaz"}
    assert mapping.counts == {"PERSONNE": 1}
    # Case, accents and spacing do not matter when looking a data subject up.
    assert vault.scopes_holding(db, tenant.org.id, "elodie  CRAUSAZ") == [
        ("conversation:1", "[PERSONNE_1]")
    ]
    assert vault.scopes_holding(db, tenant.org.id + 1, "Élodie Crausaz") == []


def test_a_malformed_key_is_refused_with_a_clear_message(settings: Settings) -> None:
    with pytest.raises(VaultKeyError, match="not a Fernet key"):
        _vault(settings, "not-a-key")


def test_a_wrong_key_stops_the_start_and_changes_nothing(
    settings: Settings, db: Session, tenant: Tenant
) -> None:
    old = new_key()
    vault = _vault(settings, old)
    vault.add(db, tenant.org.id, "c:1", "[AVS_1]", "AVS", "756.9217.0769.85")
    db.commit()
    with pytest.raises(VaultKeyError, match="cannot decrypt"):
        _vault(settings, new_key()).check(db)
    assert vault.mapping(db, tenant.org.id, "c:1").values == {"[AVS_1]": "756.9217.0769.85"}


def test_the_app_refuses_to_start_with_a_wrong_key(
    settings: Settings, app: FastAPI, db: Session, tenant: Tenant
) -> None:
    from fastapi.testclient import TestClient

    from civique.app import create_app

    app.state.gateway.vault.add(db, tenant.org.id, "c:1", "[AVS_1]", "AVS", "756.1")
    db.commit()
    wrong = create_app(settings.model_copy(update={"vault_keys": [new_key()]}))
    with pytest.raises(VaultKeyError), TestClient(wrong):
        pass
    wrong.state.engine.dispose()


def test_rotation_re_encrypts_under_the_new_key(
    settings: Settings, db: Session, tenant: Tenant
) -> None:
    old, new = new_key(), new_key()
    _vault(settings, old).add(db, tenant.org.id, "c:1", "[PERSONNE_1]", "PERSONNE", "Luc Sierro")
    db.commit()
    rotating = _vault(settings, new, old)
    assert rotating.rotate(db) == 1
    after = _vault(settings, new)  # the old key can now be removed
    after.check(db)
    assert after.mapping(db, tenant.org.id, "c:1").values == {"[PERSONNE_1]": "Luc Sierro"}
    assert after.scopes_holding(db, tenant.org.id, "Luc Sierro") == [("c:1", "[PERSONNE_1]")]


def test_purge_and_forget(settings: Settings, db: Session, tenant: Tenant) -> None:
    vault = _vault(settings, new_key())
    vault.add(db, tenant.org.id, "c:1", "[PERSONNE_1]", "PERSONNE", "A")
    vault.add(db, tenant.org.id, "c:2", "[PERSONNE_1]", "PERSONNE", "B")
    db.commit()
    assert vault.purge(db, utcnow() - timedelta(days=1)) == 0
    assert vault.forget_scope(db, tenant.org.id, "c:1") == 1
    assert vault.purge(db, utcnow() + timedelta(seconds=1)) == 1
    db.commit()
    assert db.scalars(select(VaultEntry)).all() == []


def test_production_needs_vault_keys(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CIVIQUE_VAULT_KEYS"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="production",
            secret_key="x" * 40,
            data_dir=tmp_path,
        )


VALUES = {"[PERSONNE_1]": "Anne Roux", "[AVS_1]": "756.9217.0769.85"}
ANSWER = "Madame [PERSONNE_1] (AVS [AVS_1]) est inscrite [1]. [INCONNU_3] reste tel quel."


def test_restore_leaves_unknown_placeholders_and_citations() -> None:
    assert restore(ANSWER, VALUES) == (
        "Madame Anne Roux (AVS 756.9217.0769.85) est inscrite [1]. [INCONNU_3] reste tel quel."
    )


@given(st.lists(st.integers(min_value=1, max_value=len(ANSWER)), max_size=12))
def test_restoring_a_stream_cut_anywhere_gives_the_whole_text(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [ANSWER[a:b] for a, b in zip([0, *points], [*points, len(ANSWER)], strict=True)]
    restorer = StreamRestorer(VALUES)
    shown = "".join(restorer.feed(p) for p in pieces) + restorer.flush()
    assert shown == restore(ANSWER, VALUES)
