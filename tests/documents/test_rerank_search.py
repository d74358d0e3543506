"""The optional reranker: it reorders the best fused hits, and a failing one leaves the fused order.

The fake reranker scores the share of the query's words found in a passage: plumbing, not quality.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.app import create_app
from civique.auth.models import User
from civique.chat import grounded
from civique.documents import files, ingest, search
from civique.documents.service import create_collection
from civique.llm.gateway import CallContext
from civique.llm.models import ModelCall
from civique.llm.providers.fake import FAIL_MARKER
from civique.settings import Settings
from tests.helpers import login, make_tenant

QUERY = "tarifs piscine municipale"
# Passages sharing 0 to 3 of the query's words, so the reranker has an order of its own to impose.
TEXTS = {
    "piscine.txt": "Piscine. La piscine, encore la piscine : piscine couverte et piscine d'été.",
    "tarifs.txt": "Les tarifs de la piscine municipale sont affichés à l'accueil du centre.",
    "cantine.txt": "Tarifs de la cantine scolaire pour l'année, tarifs réduits et tarifs pleins.",
    "marche.txt": "Le marché se tient sur la place municipale le samedi matin.",
    "voirie.txt": "Travaux de voirie rue des Lilas : circulation alternée pendant deux semaines.",
    # every query word once in a long passage: BM25 ranks it low, the reranker first
    "bassin.txt": "Le conseil a voté le budget du bassin nautique, la rénovation des vestiaires, "
    "le parking agrandi, les nouveaux horaires d'été, l'accueil des écoles et des associations "
    "sportives, la sécurité des baigneurs et le contrôle de la qualité de l'eau chaque semaine ; "
    "en annexe figurent les tarifs de la piscine municipale.",
}


def _share(query: str, text: str) -> float:
    """What the fake reranker should answer, written out here from its definition."""
    wanted = set(re.findall(r"\w+", query.casefold()))
    return len(wanted & set(re.findall(r"\w+", text.casefold()))) / len(wanted)


@pytest.fixture
def reranked(settings: Settings) -> Iterator[FastAPI]:
    """Civique configured with the fake reranker, holding the passages above, ingested."""
    application = create_app(
        settings.model_copy(update={"documents_reranker_model": "fake/rerank"})
    )
    with application.state.sessions() as session:
        tenant = make_tenant(session, "rerank", ["fake/echo", "fake/embed"])
        agent = tenant.users["agent"]
        collection = create_collection(session, agent, "Commune", "personal")
        jobs = application.state.jobs.ingest
        for name, text in TEXTS.items():
            outcome = files.add_file(
                session, jobs.store, jobs.settings, agent, collection.id, name, text.encode()
            )
            assert outcome.status == "queued", outcome
        assert ingest.run_pending(jobs) == len(TEXTS)
        application.state.agent_email = agent.email
    yield application
    application.state.engine.dispose()


def _agent(app: FastAPI, session: Session) -> User:
    return session.scalars(select(User).where(User.email == app.state.agent_email)).one()


def _run(app: FastAPI, query: str, reranker: str = "", candidates: int = 20) -> list[search.Hit]:
    with app.state.sessions() as session:
        user = _agent(app, session)
        ctx = CallContext(user.org_id, user.id, user.role, tool="documents.search")
        return asyncio.run(search.search(
            app.state.gateway, session, user, ctx, query, limit=10,
            reranker=reranker, rerank_candidates=candidates,
        ))


def _order(hits: list[search.Hit]) -> list[int]:
    return [hit.chunk_id for hit in hits]


def _calls(app: FastAPI) -> list[tuple[str, str, str]]:
    with app.state.sessions() as session:
        rows = session.scalars(select(ModelCall).order_by(ModelCall.id))
        return [(c.kind, c.model_id, c.status) for c in rows]


def test_the_reranker_reorders_the_fused_hits(reranked: FastAPI) -> None:
    fused = _run(reranked, QUERY)
    assert len(fused) == len(TEXTS) and all(h.rerank_score is None for h in fused)
    hits = _run(reranked, QUERY, "fake/rerank")
    # sorted() is stable: equal scores keep the fused order, as the search promises
    expected = sorted(fused, key=lambda hit: -_share(QUERY, hit.text))
    assert _order(expected) != _order(fused)  # the case is built so the two orders disagree
    assert _order(hits) == _order(expected)
    assert [h.rerank_score for h in hits] == [_share(QUERY, h.text) for h in hits]
    assert hits[0].rerank_score == 1.0 and hits[-1].rerank_score == 0.0
    assert _calls(reranked)[-1] == ("rerank", "fake/rerank", "ok")


def test_only_the_first_candidates_are_reranked(reranked: FastAPI) -> None:
    fused = _run(reranked, QUERY)
    hits = _run(reranked, QUERY, "fake/rerank", candidates=3)
    head = sorted(fused[:3], key=lambda hit: -_share(QUERY, hit.text))
    assert _order(hits) == _order(head) + _order(fused[3:])
    assert [h.rerank_score is None for h in hits] == [False] * 3 + [True] * (len(TEXTS) - 3)


def test_a_limit_below_the_candidates_keeps_the_reranked_best(reranked: FastAPI) -> None:
    everything = _run(reranked, QUERY, "fake/rerank")
    with reranked.state.sessions() as session:
        user = _agent(reranked, session)
        ctx = CallContext(user.org_id, user.id, user.role)
        two = asyncio.run(search.search(
            reranked.state.gateway, session, user, ctx, QUERY, limit=2, reranker="fake/rerank"
        ))
    assert _order(two) == _order(everything)[:2]


@pytest.mark.parametrize(
    ("reranker", "query", "code"),
    [
        ("fake/nope", QUERY, "unknown_model"),
        ("fake/rerank", f"{QUERY} {FAIL_MARKER}", "unavailable"),
    ],
)
def test_a_failing_reranker_leaves_the_fused_order(
    reranked: FastAPI, caplog: pytest.LogCaptureFixture, reranker: str, query: str, code: str
) -> None:
    fused = _run(reranked, query)
    with caplog.at_level(logging.WARNING, logger="civique.documents.search"):
        hits = _run(reranked, query, reranker)
    assert _order(hits) == _order(fused) and len(hits) == len(TEXTS)
    assert all(h.rerank_score is None for h in hits)
    assert any(code in r.getMessage() for r in caplog.records), caplog.records
    if code == "unavailable":  # it reached the provider, so the failed call is on record
        assert _calls(reranked)[-1] == ("rerank", "fake/rerank", "error")


def test_the_api_answers_in_the_configured_reranker_order(reranked: FastAPI) -> None:
    expected = _run(reranked, QUERY, "fake/rerank")
    with TestClient(reranked) as client:
        login(client, reranked.state.agent_email)
        answer = client.get("/api/v1/search", params={"query": QUERY, "limit": 10})
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        assert [h["chunk_id"] for h in data] == _order(expected)
        assert [h["rerank_score"] for h in data] == [h.rerank_score for h in expected]
    assert _order(expected) != _order(_run(reranked, QUERY))


def test_grounded_chat_retrieves_in_the_configured_reranker_order(reranked: FastAPI) -> None:
    expected = _run(reranked, QUERY, "fake/rerank")[: grounded.PASSAGES]
    with reranked.state.sessions() as session:
        user = _agent(reranked, session)
        ctx = CallContext(user.org_id, user.id, user.role, tool="chat.grounded")
        collections = list({hit.collection_id for hit in expected})
        passages = asyncio.run(grounded.retrieve(
            reranked.state.gateway, session, user, ctx, QUERY, collections
        ))
    assert [p.hit.chunk_id for p in passages] == _order(expected)
    assert _order(expected) != _order(_run(reranked, QUERY)[: grounded.PASSAGES])
