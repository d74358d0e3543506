"""PostgreSQL keyword search at scale: common words do not select candidates by themselves."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from civique.documents import files, index_pg, ingest, search, service
from tests.helpers import Tenant

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def filled(app: FastAPI, db: Session, tenant: Tenant) -> dict[str, int]:
    """Twelve notes that all say "commune"; two of them also say "cimetière"."""
    agent = tenant.users["agent"]
    collection = service.create_collection(db, agent, "Notes", "personal")
    ctx = app.state.jobs.ingest
    documents: dict[str, int] = {}
    for n in range(12):
        extra = " Le cimetière ferme à 18 heures." if n in (3, 8) else ""
        body = f"Note {n} de la commune sur la voirie et les travaux du quartier {n}.{extra}"
        outcome = files.add_file(
            db, ctx.store, ctx.settings, agent, collection.id, f"note{n}.txt", body.encode()
        )
        assert outcome.document_id is not None
        documents[f"note{n}"] = outcome.document_id
    assert ingest.run_pending(ctx) == 12
    return documents


def _found(db: Session, tenant: Tenant, query: str) -> set[int]:
    hits = search.ranked(db, tenant.users["agent"], query, None, None, None, 50, "keyword")
    return {h.document_id for h in hits}


def test_without_statistics_any_word_matches(
    db: Session, tenant: Tenant, filled: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_pg, "COMMON_ROWS", 5)
    assert _found(db, tenant, "commune cimetière") == set(filled.values())


def test_common_words_leave_the_choice_to_the_rare_ones(
    db: Session, tenant: Tenant, filled: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db.execute(text("ANALYZE chunk_search"))
    db.commit()
    monkeypatch.setattr(index_pg, "COMMON_ROWS", 5)  # "commune" is in 12 chunks, "cimetière" in 2
    assert _found(db, tenant, "commune cimetière") == {filled["note3"], filled["note8"]}
    # Only common words: the chunks holding all of them.
    assert _found(db, tenant, "commune voirie") == set(filled.values())
    assert _found(db, tenant, "commune quartier 7") == {filled["note7"]}


def test_the_candidates_ranked_are_bounded(
    db: Session, tenant: Tenant, filled: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_pg, "MAX_CANDIDATES", 4)
    assert len(_found(db, tenant, "commune")) == 4
