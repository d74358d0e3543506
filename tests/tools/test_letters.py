"""The letters tool with a scripted fake model: form, variables refused, grounding and its ACL,
mentions and citation findings on the output page, validation of refusals, DOCX letterhead."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.governance import validation
from civique.llm.models import OutputRecord
from civique.llm.providers import fake
from civique.llm.types import ChatMessage
from civique.orgs.models import Organisation
from civique.settings import Settings
from civique.tools import org_settings
from civique.tools.letters import library
from civique.tools.models import ToolRun
from tests.chat.test_grounded_chat import SECRET, _ingest
from tests.helpers import Tenant, login

_SKELETON = re.compile(r"<SQUELETTE>\n(.*?)\n</SQUELETTE>", re.S)
_SOURCE = re.compile(r'<source id="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)
REFUSAL = {
    "recipient": "Mme Jeanne Martin\n3 rue des Lilas\n69001 Lyon",
    "subject": "Demande de permis de stationnement",
    "reference": "PS-2027-114",
    "request_date": "2027-02-03",
    "request": "un permis de stationnement pour une benne",
    "legal_basis": "l'article 12 du règlement de voirie",
    "reasons": "la benne occuperait un passage piéton",
    "authority": "Monsieur le Maire",
    "court": "tribunal administratif de Lyon",
    "place": "Lyon",
    "date": "2027-03-12",
    "signatory": "Le Maire, Paul Durand",
}
REMEDIES = re.compile(r"\nVoies et délais de recours.*?\n\n(?=Le recours gracieux)", re.S)


@dataclass
class Script:
    """The fake model's answers (from the prompt's last message), and every prompt seen."""

    prompts: list[list[ChatMessage]]
    reply: Callable[[str], str]


def skeleton_reply(prompt: str) -> str:
    """The filled skeleton as the letter (a model that follows the template to the letter)."""
    found = _SKELETON.search(prompt)
    return found[1] if found else "Pas de squelette."


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Iterator[Script]:
    """The fake model answers with `script.reply(last message)`."""
    recorded = Script([], skeleton_reply)

    def scripted(messages: list[ChatMessage]) -> str:
        recorded.prompts.append(list(messages))
        return recorded.reply(messages[-1].content)

    monkeypatch.setattr(fake, "fake_reply", scripted)
    yield recorded


def _form(**variables: str) -> dict[str, str]:
    return {f"variables.{k}": v for k, v in variables.items()}


def _run(client: TestClient, csrf: str, template: str, **data: object) -> object:
    return client.post(
        "/tools/letters",
        data={"csrf_token": csrf, "template": template, **data},
        follow_redirects=False,
    )


def _output_id(response: object) -> int:
    assert response.status_code == 303, response.text  # type: ignore[attr-defined]
    return int(response.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]


def test_form_offers_the_enabled_templates_and_the_chosen_ones_fields(
    agent_client: tuple[TestClient, str], db: Session, tenant: Tenant
) -> None:
    client, csrf = agent_client
    page = client.get("/tools/letters").text
    for template in library.builtins().values():
        assert f'<option value="{template.id}"' in page and template.title in page
    # No template chosen: the first one's variables (acknowledgement), posted as variables.<name>
    first = library.list_templates(db, tenant.org.id)[0]
    assert f'name="variables.{first.variables[0].name}"' in page
    refusal = client.get("/tools/letters?template=refusal").text
    assert '<option value="refusal" selected>' in refusal
    assert 'name="variables.court"' in refusal and 'type="date"' in refusal
    assert 'name="_refresh"' in refusal  # without script: a button shows the chosen fields
    # Changing the template keeps what was typed and shows the new template's fields.
    shown = client.post(
        "/tools/letters",
        data={
            "csrf_token": csrf,
            "template": "convocation",
            "request": "Mon texte",
            "_refresh": "1",
        },
    )
    assert shown.status_code == 200 and 'name="variables.agenda"' in shown.text
    assert "Mon texte</textarea>" in shown.text and "variables.court" not in shown.text
    library.set_enabled(db, tenant.users["org_admin"], "refusal", False)
    assert '<option value="refusal"' not in client.get("/tools/letters").text
    refused = _run(client, csrf, "refusal", **_form(**REFUSAL))
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert 'id="field-template-error">Choisissez l’un des modèles proposés.' in refused.text  # type: ignore[attr-defined]


def test_missing_variables_are_named_and_values_kept(
    agent_client: tuple[TestClient, str], db: Session, script: Script
) -> None:
    client, csrf = agent_client
    partial = {k: v for k, v in REFUSAL.items() if k not in ("court", "reasons")}
    response = _run(client, csrf, "refusal", request="Courrier de Mme Martin", **_form(**partial))
    assert response.status_code == 422  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    assert "Tribunal administratif compétent" in text and "Motifs du refus" in text
    assert 'id="field-variables.court-error">« Tribunal administratif' in text
    assert 'value="Demande de permis de stationnement"' in text
    assert "Courrier de Mme Martin</textarea>" in text and 'aria-invalid="true"' in text
    bad_date = _run(client, csrf, "refusal", **_form(**{**REFUSAL, "date": "demain"}))
    assert "variables.date-error" in bad_date.text  # type: ignore[attr-defined]
    assert db.scalars(select(ToolRun)).all() == [] and script.prompts == []
    # The stream (page script) gets the same field names.
    headers = {"accept": "text/event-stream", "x-csrf-token": csrf}
    streamed = client.post(
        "/tools/letters", data={"template": "refusal", **_form(**partial)}, headers=headers
    )
    assert streamed.status_code == 422
    assert set(streamed.json()["error"]["fields"]) == {"variables.court", "variables.reasons"}


def test_a_refusal_letter_is_drafted_checked_and_validated_by_default(
    agent_client: tuple[TestClient, str], db: Session, settings: Settings, script: Script
) -> None:
    client, csrf = agent_client
    output_id = _output_id(
        _run(client, csrf, "refusal", request="Je demande un permis.", **_form(**REFUSAL))
    )
    [prompt] = script.prompts
    assert "N'invente jamais un montant" in prompt[0].content
    assert "<DEMANDE>\nJe demande un permis.\n</DEMANDE>" in prompt[1].content
    assert "Lyon, le 12 mars 2027" in prompt[1].content  # dates written out in full
    record = db.get(OutputRecord, output_id)
    assert record is not None and record.prompt_template == "letters.letter"
    assert record.sources in (None, [])
    page = client.get(f"/outputs/{output_id}").text
    assert "Aucune règle enfreinte dans le texte actuel." in page
    # A refusal needs a validator by default: the export is refused until approved.
    assert validation.needs_validation(db, settings, record.org_id, "letters", record)
    assert client.get(f"/outputs/{output_id}/export?fmt=docx").status_code == 403
    assert not validation.needs_validation(db, settings, record.org_id, "letters")


def test_mentions_findings_appear_then_go_once_the_text_has_them(
    agent_client: tuple[TestClient, str], db: Session, tenant: Tenant, script: Script
) -> None:
    org_settings.update_settings(db, tenant.users["org_admin"], {"letters": (True, "never")})
    script.reply = lambda prompt: REMEDIES.sub("\n", skeleton_reply(prompt))
    client, csrf = agent_client
    output_id = _output_id(_run(client, csrf, "refusal", **_form(**REFUSAL)))
    record = db.get(OutputRecord, output_id)
    assert record is not None and "Voies et délais" not in record.output
    page = client.get(f"/outputs/{output_id}").text
    assert "Indiquez la juridiction ou l&#39;autorité de recours." in page
    # The court went with the paragraph; "recours" and "deux mois" remain in the next one.
    assert {c for c in _codes(client, output_id) if c.startswith("mention.")} == {"mention.court"}
    full = skeleton_reply(script.prompts[0][-1].content)
    saved = client.post(f"/outputs/{output_id}/final", data={"csrf_token": csrf, "text": full})
    assert saved.status_code in (200, 303)
    assert not {c for c in _codes(client, output_id) if c.startswith("mention.")}
    # A placeholder left for a missing fact is an error until it is completed.
    todo = full.replace("Le Maire, Paul Durand", "[À COMPLÉTER : signataire]")
    client.post(f"/outputs/{output_id}/final", data={"csrf_token": csrf, "text": todo})
    assert "letter.to_complete" in _codes(client, output_id)


def _codes(client: TestClient, output_id: int) -> set[str]:
    """The finding codes of an output, through the tool's check on its current text."""
    from civique.tools.outputs import output_tool

    app: FastAPI = client.app  # type: ignore[assignment]
    with app.state.sessions() as session:
        record = session.get(OutputRecord, output_id)
        assert record is not None
        extras = output_tool(session, record)
        assert extras is not None
        return {f.code for f in extras.findings}


def test_grounded_letter_cites_readable_sources_only(
    app: FastAPI,
    agent_client: tuple[TestClient, str],
    db: Session,
    tenant: Tenant,
    script: Script,
) -> None:
    org_settings.update_settings(db, tenant.users["org_admin"], {"letters": (True, "never")})
    rules = "Règlement de voirie.\n\nArticle 12 : aucune benne ne peut occuper un passage piéton.\n"
    mine = _ingest(
        app, db, tenant.users["agent"].id, tenant, "Voirie", [("voirie.md", rules.encode())]
    )
    secret = f"Règlement de voirie : benne autorisée avec le code {SECRET}.\n"
    theirs = _ingest(
        app, db, tenant.users["validator"].id, tenant, "Privée", [("secret.md", secret.encode())]
    )

    def citing(prompt: str) -> str:
        blocks = dict(_SOURCE.findall(prompt))
        words = " ".join(blocks["1"].split()[-6:]).rstrip(".")
        return f"{skeleton_reply(prompt)}\nSelon le règlement, « {words} » [1]. Voir aussi [7]."

    script.reply = citing
    client, csrf = agent_client
    page = client.get("/tools/letters?template=refusal").text
    assert "Voirie" in page and "Privée" not in page and f'value="{theirs}"' not in page
    refused = _run(
        client, csrf, "refusal", collections=[str(mine), str(theirs)], **_form(**REFUSAL)
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "field-collections-error" in refused.text and script.prompts == []  # type: ignore[attr-defined]
    output_id = _output_id(_run(client, csrf, "refusal", collections=str(mine), **_form(**REFUSAL)))
    [prompt] = script.prompts
    assert "passage piéton" in prompt[-1].content and SECRET not in prompt[-1].content
    assert "[1]" in prompt[0].content  # the rules ask for citations when sources are given
    record = db.get(OutputRecord, output_id)
    assert record is not None and record.sources and record.sources[0]["n"] == 1
    codes = _codes(client, output_id)
    assert "letter.citation_unverified" in codes  # [7] names no given source
    text = record.output.replace(" Voir aussi [7].", "")
    client.post(f"/outputs/{output_id}/final", data={"csrf_token": csrf, "text": text})
    assert "letter.citation_unverified" not in _codes(client, output_id)
    invented = text.replace("» [1]", "» [1]. Le règlement dit « benne toujours permise » [1]")
    client.post(f"/outputs/{output_id}/final", data={"csrf_token": csrf, "text": invented})
    assert "letter.citation_unverified" in _codes(client, output_id)


def test_export_docx_has_the_letterhead_and_the_mention(
    agent_client: tuple[TestClient, str], db: Session, tenant: Tenant, script: Script
) -> None:
    org = db.get(Organisation, tenant.org.id)
    assert org is not None
    org.address, org.phone, org.email = (
        "Hôtel de ville\n1 place de la Mairie",
        "04 72 00 00 00",
        "mairie@alpha.test",
    )
    db.commit()
    client, csrf = agent_client
    values = {
        "recipient": "M. Paul Petit",
        "subject": "Votre demande d'acte",
        "request_date": "2027-03-01",
        "request": "une copie d'acte",
        "answer": "Votre copie est jointe.",
        "date": "2027-03-12",
        "signatory": "La responsable de l'état civil, Anne Roy",
    }
    template = library.builtins()["reply"]
    wanted = {v.name: values.get(v.name, "x") for v in template.variables if v.required}
    output_id = _output_id(_run(client, csrf, "reply", **_form(**wanted)))
    exported = client.get(f"/outputs/{output_id}/export?fmt=docx")
    assert exported.status_code == 200
    document = Document(io.BytesIO(exported.content))
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    assert "Org alpha" in header and "1 place de la Mairie" in header
    assert "Tél. 04 72 00 00 00 · mairie@alpha.test" in header
    body = "\n".join(p.text for p in document.paragraphs)
    assert "assistance d’une IA" in body or "assistance d'une IA" in body
    assert wanted["subject"] in body
    for fmt in ("odt", "pdf"):
        assert client.get(f"/outputs/{output_id}/export?fmt={fmt}").status_code == 200


def test_api_runs_a_letter_with_json_variables(
    app: FastAPI, db: Session, tenant: Tenant, script: Script
) -> None:
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        body = {"template": "refusal", "variables": {**REFUSAL, "court": ""}}
        refused = client.post(
            "/api/v1/tools/letters/runs", json=body, headers={"x-csrf-token": csrf}
        )
        assert refused.status_code == 422
        assert "variables.court" in refused.json()["error"]["fields"]
        body["variables"]["court"] = "tribunal administratif de Lyon"  # type: ignore[index]
        done = client.post("/api/v1/tools/letters/runs", json=body, headers={"x-csrf-token": csrf})
        assert done.status_code in (200, 201), done.text
        assert done.json()["needs_validation"] is True
