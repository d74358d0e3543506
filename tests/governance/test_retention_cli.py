"""`civique retention purge [--dry-run]`: counts per organisation, nothing deleted in a dry run,
nothing left for a second run."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from civique.auth.service import create_user
from civique.chat.models import Conversation
from civique.db.base import utcnow
from civique.db.engine import make_engine, make_session_factory
from civique.governance import policy
from civique.orgs.service import create_organisation
from tests.test_cli import _civique


def _conversations(data_dir: Path) -> int:
    engine = make_engine(f"sqlite:///{data_dir / 'civique.db'}")
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(Conversation)) or 0
    engine.dispose()
    return count


def _organisation_with_old_conversations(data_dir: Path, hold: bool = False) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'civique.db'}")
    with make_session_factory(engine)() as session:
        org = create_organisation(session, None, "ville", "Ville", [])
        admin = create_user(session, org.id, "admin@ville.test", "Admin", "org_admin")
        for age in (400, 200, 5):
            session.add(
                Conversation(
                    org_id=org.id,
                    user_id=admin.id,
                    model_id="fake/echo",
                    updated_at=utcnow() - timedelta(days=age),
                )
            )
        session.commit()
        periods = {**dict.fromkeys(policy.RETENTION_KINDS), "conversations": 90}
        policy.update_policy(session, admin, [], periods, hold)
    engine.dispose()


def test_purge_from_the_command_line(tmp_path: Path) -> None:
    assert _civique(tmp_path, "migrate").returncode == 0
    nothing = _civique(tmp_path, "retention", "purge")
    assert nothing.returncode == 0 and "no organisation has a policy" in nothing.stdout
    _organisation_with_old_conversations(tmp_path)
    dry = _civique(tmp_path, "retention", "purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "ville: would delete 2 conversations, 0 vault entries, 0 documents" in dry.stdout
    assert _conversations(tmp_path) == 3
    done = _civique(tmp_path, "retention", "purge")
    assert "ville: deleted 2 conversations" in done.stdout and _conversations(tmp_path) == 1
    again = _civique(tmp_path, "retention", "purge")
    assert "ville: deleted 0 conversations" in again.stdout and _conversations(tmp_path) == 1


def test_purge_under_legal_hold_keeps_everything(tmp_path: Path) -> None:
    assert _civique(tmp_path, "migrate").returncode == 0
    _organisation_with_old_conversations(tmp_path, hold=True)
    held = _civique(tmp_path, "retention", "purge")
    assert held.returncode == 0 and "ville: legal hold, nothing purged" in held.stdout
    assert _conversations(tmp_path) == 3
