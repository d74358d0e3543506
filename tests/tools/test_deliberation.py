"""The deliberations and notes tool with the fake model: form, vote consistency, grounding and
its access rule, checklist findings on the output page, validation, the exported notice."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.demo_documents import demo_files
from civique.documents import files, ingest
from civique.documents.service import create_collection
from civique.governance import validation
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.providers import fake
from civique.llm.types import ChatMessage
from civique.tools.deliberation import citations
from civique.tools.registry import ToolContext
from tests.helpers import Tenant

COMPLETE = """Tarifs de la salle polyvalente

Le conseil municipal,

Vu le règlement de la salle polyvalente [1],

Considérant que les tarifs n'ont pas été revus depuis 2019,

Après en avoir délibéré, DÉCIDE :

Article 1er : Les tarifs de location sont fixés selon l'annexe.

Article 2 : Le maire est chargé de l'exécution de la présente délibération.

Membres en exercice : 19 ; présents : 15 ; représentés : 2.
Pour : 15 ; Contre : 1 ; Abstentions : 1.
Convocation du 3 mars 2027."""
INCOMPLETE = """Tarifs de la salle polyvalente

Le conseil municipal, DÉCIDE :

Article 1er : Les tarifs de location sont fixés selon l'annexe.

Article 3 : Le maire est chargé de l'exécution."""
FORM = {
    "kind": "fr_commune",
    "authority": "Conseil municipal de Villebois",
    "title": "Tarifs de la salle polyvalente",
    "summary": "Revoir les tarifs de location de la salle polyvalente, inchangés depuis 2019.",
    "meeting_date": "2027-03-12",
    "convocation_date": "2027-03-03",
}


@dataclass
class Script:
    """The fake model's reply, and every prompt it was given."""

    reply: Callable[[str], str]
    prompts: list[list[ChatMessage]] = field(default_factory=list)


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    """Replace the fake model's echo by a scripted draft (the incomplete one by default)."""
    recorded = Script(lambda _prompt: INCOMPLETE)

    def scripted(messages: list[ChatMessage]) -> str:
        recorded.prompts.append(list(messages))
        return recorded.reply(messages[-1].content)

    monkeypatch.setattr(fake, "fake_reply", scripted)
    yield recorded


def _run(client: TestClient, csrf: str, **changes: str) -> object:
    form = {"csrf_token": csrf, **FORM, **changes}
    return client.post("/tools/deliberation", data=form, follow_redirects=False)


def _output_id(response: object) -> int:
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    return int(response.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in document.paragraphs)
    footer = document.sections[0].footer.paragraphs[0].text
    return f"{body}\n{footer}\n{document.core_properties.subject}"


def test_the_form_has_kinds_dates_and_bounded_vote_fields(
    agent_client: tuple[TestClient, str],
) -> None:
    client, _ = agent_client
    assert 'href="/tools/deliberation"' in client.get("/tools").text
    form = client.get("/tools/deliberation").text
    assert '<select id="field-kind" name="kind"' in form and "Note aux élus" in form
    assert '<textarea id="field-summary" name="summary"' in form and 'maxlength="6000"' in form
    assert re.search(r'<input[^>]*type="date"[^>]*name="meeting_date"|name="meeting_date"[^>]*'
                     r'type="date"', form)
    votes = re.search(r"<input[^>]*name=\"votes_for\"[^>]*>", form)
    assert votes is not None and 'min="0"' in votes.group(0) and 'max="500"' in votes.group(0)


def test_inconsistent_votes_and_dates_are_named_field_by_field(
    agent_client: tuple[TestClient, str], db: Session, script: Script
) -> None:
    client, csrf = agent_client
    response = _run(
        client,
        csrf,
        convocation_date="2027-03-20",
        members_in_office="19",
        members_present="15",
        members_represented="2",
        votes_for="12",
        votes_against="4",
        votes_abstention="3",
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = response.text  # type: ignore[attr-defined]
    assert "La convocation doit précéder la séance." in page
    assert (
        "Les voix pour, contre et les abstentions (19) dépassent les 17 membres présents ou "
        "représentés." in page
    )
    assert 'value="Conseil municipal de Villebois"' in page  # nothing typed is lost
    too_many = _run(client, csrf, members_in_office="10", members_present="11")
    assert "dépassent les 10 membres en exercice" in too_many.text  # type: ignore[attr-defined]
    proxies = _run(client, csrf, members_present="2", members_represented="3")
    assert "au plus un pouvoir" in proxies.text  # type: ignore[attr-defined]
    assert not script.prompts and db.scalars(select(ModelCall)).first() is None


def test_a_case_summary_too_long_is_refused_with_the_limit(
    agent_client: tuple[TestClient, str], script: Script
) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, summary="Exposé. " * 1000)
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "6000" in response.text and not script.prompts  # type: ignore[attr-defined]


def _collection(app: FastAPI, db: Session, owner_role: str, tenant: Tenant) -> int:
    owner = tenant.users[owner_role]
    collection = create_collection(db, owner, f"Règlements {owner_role}", "personal")
    ctx = app.state.jobs.ingest
    name, data = next((n, d) for n, d in demo_files() if n == "reglement-salle-polyvalente.pdf")
    assert files.add_file(db, ctx.store, ctx.settings, owner, collection.id, name, data).status == (
        "queued"
    )
    ingest.run_pending(ctx)
    return collection.id


def test_a_grounded_run_cites_readable_collections_only(
    app: FastAPI, agent_client: tuple[TestClient, str], db: Session, tenant: Tenant, script: Script
) -> None:
    client, csrf = agent_client
    mine = _collection(app, db, "agent", tenant)
    theirs = _collection(app, db, "validator", tenant)  # personal: the agent may not read it
    refused = _run(client, csrf, collections=f"{mine}, {theirs}")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "Vous ne pouvez pas lire" in refused.text  # type: ignore[attr-defined]
    assert not script.prompts
    output_id = _output_id(_run(client, csrf, collections=str(mine)))
    prompt = script.prompts[-1][-1].content
    assert '<source id="1"' in prompt and "<EXPOSE>" in prompt
    assert "Séance du 12 mars 2027" in prompt and "Convocation du 3 mars 2027" in prompt
    record = db.get(OutputRecord, output_id)
    assert record is not None and record.sources
    assert {s["document_id"] for s in record.sources} <= {
        d.id for d in _documents(db, mine)
    }
    assert record.prompt_template == "deliberation.fr_commune"
    page = client.get(f"/outputs/{output_id}").text
    assert "le projet n&#39;en cite aucune" in page or "le projet n'en cite aucune" in page


def _documents(db: Session, collection_id: int) -> list:
    from civique.documents.models import Document as Doc

    return list(db.scalars(select(Doc).where(Doc.collection_id == collection_id)))


def test_checklist_findings_show_then_go_once_the_text_is_fixed(
    agent_client: tuple[TestClient, str], db: Session, script: Script
) -> None:
    client, csrf = agent_client
    output_id = _output_id(_run(client, csrf))
    page = client.get(f"/outputs/{output_id}").text
    assert "Projet — validité juridique non garantie" in page
    assert "Citez les textes sur lesquels repose la décision dans des visas « Vu … »." in page
    assert "La numérotation passe de 1 à 3 : il manque 2." in page
    assert "Aucune règle enfreinte" not in page
    saved = client.post(
        f"/outputs/{output_id}/final",
        data={"csrf_token": csrf, "text": COMPLETE.replace(" [1]", "")},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    fixed = client.get(f"/outputs/{output_id}").text
    assert "Aucune règle enfreinte dans le texte actuel." in fixed
    assert "visas « Vu … »" not in fixed


def test_export_waits_for_approval_and_carries_the_legal_notice(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    script: Script,
) -> None:
    client, csrf = agent_client
    script.reply = lambda _prompt: COMPLETE.replace(" [1]", "")
    output_id = _output_id(_run(client, csrf))
    assert client.get(f"/outputs/{output_id}/export?format=docx").status_code == 403
    client.post(f"/outputs/{output_id}/submit", data={"csrf_token": csrf})
    assert client.get(f"/outputs/{output_id}/export?format=docx").status_code == 403
    validation.decide(db, tenant.users["validator"], output_id, "approve", "")
    exported = client.get(f"/outputs/{output_id}/export?format=docx")
    assert exported.status_code == 200
    text = _docx_text(exported.content)
    assert "Projet — validité juridique non garantie" in text and "Article 1er" in text
    document = Document(io.BytesIO(exported.content))
    assert "validité juridique non garantie" in (document.core_properties.comments or "")


def _context(sources: tuple[dict[str, object], ...]) -> ToolContext:
    return ToolContext(org_name="Villebois", sources=sources)


def test_citation_checks_name_unknown_sources_and_uncited_drafts() -> None:
    one = ({"n": 1, "chunk_id": 9, "document_id": 1, "title": "Règlement"},)
    unknown = citations.check("Vu le règlement [1], vu la loi [3],", _context(one))
    assert unknown[0].start is not None
    assert [(f.code, f.params["number"]) for f in unknown] == [("delib.citation_unknown", 3)]
    text = "Vu le règlement [1], vu la loi [3],"
    assert text[unknown[0].start or 0 : unknown[0].end] == "[3]"
    assert [f.code for f in citations.check("Vu le règlement,", _context(one))] == [
        "delib.citation_none"
    ]
    assert [f.code for f in citations.check("Vu la loi [2],", _context(()))] == [
        "delib.citation_unknown"
    ]
    assert citations.check("Vu [texte à préciser],", _context(())) == []
