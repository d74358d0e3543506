"""The `civique` command: migrate, demo (idempotent, with its indexed documents), create-admin,
prepare-models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civique.auth.models import User
from civique.db.engine import make_engine, make_session_factory
from civique.demo_documents import demo_files
from civique.documents.models import Chunk, Document, DocumentVersion
from civique.governance.policy_models import Charter, CharterAcceptance
from civique.lab.demo_data import TEAM_SIZES
from civique.orgs.models import Organisation


def _civique(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CIVIQUE_DATA_DIR": str(data_dir),
        "CIVIQUE_EMBEDDED_ENABLED": "false",
        "CIVIQUE_LOG_JSON": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "civique.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _count(data_dir: Path, model: type) -> int:
    engine = make_engine(f"sqlite:///{data_dir / 'civique.db'}")
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return count


def _statuses(data_dir: Path) -> set[str]:
    engine = make_engine(f"sqlite:///{data_dir / 'civique.db'}")
    with make_session_factory(engine)() as session:
        found = set(session.scalars(select(DocumentVersion.status)).all())
    engine.dispose()
    return found


def test_demo_is_idempotent_and_prints_logins(tmp_path: Path) -> None:
    first = _civique(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert "Commune d'Exemple" in first.stdout and "agent@exemple.test" in first.stdout
    users = _count(tmp_path, User)
    # One account per role, plus the staff of the seeded past challenge (no password).
    assert users == 6 + sum(TEAM_SIZES)
    assert _count(tmp_path, Document) == len(demo_files())
    assert _statuses(tmp_path) == {"ready"}
    assert _count(tmp_path, Chunk) > len(demo_files())
    second = _civique(tmp_path, "demo")
    assert second.returncode == 0 and _count(tmp_path, User) == users
    assert _count(tmp_path, Organisation) == 1
    assert _count(tmp_path, DocumentVersion) == len(demo_files())
    # A French charter v1, accepted by every demo user: the home page opens at once.
    assert _count(tmp_path, Charter) == 1
    assert _count(tmp_path, CharterAcceptance) >= 6


def test_migrate_then_create_admin(tmp_path: Path) -> None:
    assert _civique(tmp_path, "migrate").returncode == 0
    created = _civique(
        tmp_path,
        "create-admin",
        "--email",
        "chef@ville.test",
        "--org",
        "ville",
        "--role",
        "org_admin",
        stdin="un mot de passe solide\n",
    )
    assert created.returncode == 0, created.stderr
    assert _count(tmp_path, User) == 1
    weak = _civique(
        tmp_path, "create-admin", "--email", "x@ville.test", "--org", "ville", stdin="court\n"
    )
    assert weak.returncode == 2 and _count(tmp_path, User) == 1
    assert "au moins 12 caractères" in weak.stderr and "Traceback" not in weak.stderr


@pytest.mark.slow
def test_prepare_models_reports_a_verified_file(tmp_path: Path, embedded_model_file: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for source in embedded_model_file.parent.glob(embedded_model_file.name + "*"):
        os.link(source, models / source.name)
    env = {**os.environ, "CIVIQUE_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "civique.cli", "prepare-models"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and "sha256 verified" in result.stdout


def test_vault_keys_check_and_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civique.governance.vault import Vault
    from civique.settings import Settings

    old = _civique(tmp_path, "vault", "new-key").stdout.strip()
    new = _civique(tmp_path, "vault", "new-key").stdout.strip()
    assert old != new and len(old) == 44
    assert _civique(tmp_path, "migrate").returncode == 0
    settings = Settings(_env_file=None, data_dir=tmp_path, vault_keys=[old])  # type: ignore[call-arg]
    engine = make_engine(settings.sqlalchemy_url)
    with make_session_factory(engine)() as session:
        session.add(Organisation(slug="ville", name="Ville"))
        session.commit()
        org_id = session.scalars(select(Organisation.id)).one()
        Vault(settings).add(session, org_id, "c:1", "[PERSONNE_1]", "PERSONNE", "Anne Roux")
        session.commit()
    engine.dispose()
    monkeypatch.setenv("CIVIQUE_VAULT_KEYS", old)
    assert _civique(tmp_path, "vault", "check").returncode == 0
    monkeypatch.setenv("CIVIQUE_VAULT_KEYS", new)
    wrong = _civique(tmp_path, "vault", "check")
    assert wrong.returncode == 2 and "cannot decrypt" in wrong.stderr
    monkeypatch.setenv("CIVIQUE_VAULT_KEYS", f"{new},{old}")
    rotated = _civique(tmp_path, "vault", "rotate")
    assert rotated.returncode == 0 and "1 entries" in rotated.stdout, rotated.stderr
    monkeypatch.setenv("CIVIQUE_VAULT_KEYS", new)
    assert _civique(tmp_path, "vault", "check").returncode == 0
    monkeypatch.setenv("CIVIQUE_VAULT_KEYS", "pas-une-cle")
    bad = _civique(tmp_path, "vault", "check")
    assert bad.returncode == 2 and "not a Fernet key" in bad.stderr


def _register_of_three(data_dir: Path) -> list[int]:
    """A migrated database with an organisation and three registered outputs."""
    from civique.settings import Settings
    from tests.governance.outputs import make_output
    from tests.helpers import make_tenant

    assert _civique(data_dir, "migrate").returncode == 0
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    engine = make_engine(settings.sqlalchemy_url)
    with make_session_factory(engine)() as session:
        tenant = make_tenant(session, "ville")
        made = [make_output(session, settings, tenant, f"Courrier {n}") for n in range(3)]
    engine.dispose()
    return made


def _tamper(data_dir: Path, statement: str) -> None:
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{data_dir / 'civique.db'}")
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def test_audit_verify_passes_then_names_the_first_broken_entry(tmp_path: Path) -> None:
    _register_of_three(tmp_path)
    good = _civique(tmp_path, "audit", "verify")
    assert good.returncode == 0, good.stderr
    assert "ville · registre : intact, 3 entrées" in good.stdout
    assert "ville · journal d'audit : intact" in good.stdout
    head = _civique(tmp_path, "audit", "head", "--org", "ville")
    assert head.returncode == 0
    noted = head.stdout.splitlines()[0].rsplit(" ", 1)[1]
    assert noted.startswith("3:") and len(noted) == 2 + 64
    anchored = _civique(tmp_path, "audit", "verify", "--org", "ville", "--expect-head", noted)
    assert anchored.returncode == 0
    _tamper(
        tmp_path,
        "UPDATE register_events SET payload = replace(payload, 'fake-1', 'x') WHERE seq = 2",
    )
    broken = _civique(tmp_path, "audit", "verify")
    assert broken.returncode == 1
    assert "ville · registre : ROMPU à l'entrée 2" in broken.stdout
    assert "L'entrée 2 a été modifiée" in broken.stdout
    assert "dernière tête intacte : 1:" in broken.stdout


def test_audit_verify_catches_a_removed_tail_with_the_noted_head(tmp_path: Path) -> None:
    made = _register_of_three(tmp_path)
    noted = _civique(tmp_path, "audit", "head").stdout.splitlines()[0].rsplit(" ", 1)[1]
    # A careful attacker removes the last entry, its output and moves the stored head back.
    _tamper(tmp_path, "DELETE FROM register_events WHERE seq = 3")
    _tamper(tmp_path, f"DELETE FROM output_records WHERE id = {made[2]}")
    _tamper(
        tmp_path,
        "UPDATE chain_heads SET seq = 2, hash = (SELECT hash FROM register_events WHERE seq = 2) "
        "WHERE chain = 'register_events'",
    )
    assert _civique(tmp_path, "audit", "verify").returncode == 0  # undetectable from inside
    caught = _civique(tmp_path, "audit", "verify", "--org", "ville", "--expect-head", noted)
    assert caught.returncode == 1 and "n'est plus dans le registre" in caught.stdout
    unknown = _civique(tmp_path, "audit", "verify", "--org", "inconnue")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    needs_org = _civique(tmp_path, "audit", "verify", "--expect-head", noted)
    assert needs_org.returncode == 2 and "--org" in needs_org.stderr
