"""Human validation through the pages and the API (tokens), and the exported files: the
AI-assistance mention in the text and in the metadata of DOCX, ODT and PDF."""

from __future__ import annotations

import io
import zipfile

import pypdfium2
import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from odf import meta, teletype
from odf import text as odf_text
from odf.opendocument import load
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from civique.governance import register
from tests.governance.outputs import make_output
from tests.helpers import Tenant, login


@pytest.fixture
def strict_app(app: FastAPI) -> FastAPI:
    """The app with chat outputs needing validation."""
    app.state.settings = app.state.settings.model_copy(update={"validation_tools": ["chat"]})
    return app


def _bearer(db: Session, tenant: Tenant, role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {create_api_token(db, tenant.users[role], role)[1]}"}


def _approved(db: Session, app: FastAPI, tenant: Tenant, text: str) -> int:
    client = TestClient(app)
    agent, validator = _bearer(db, tenant, "agent"), _bearer(db, tenant, "validator")
    oid = make_output(db, app.state.settings, tenant, text)
    assert client.post(f"/api/v1/outputs/{oid}/submit", headers=agent).status_code == 200
    body = {"decision": "approve", "comment": "Conforme"}
    response = client.post(f"/api/v1/outputs/{oid}/validate", json=body, headers=validator)
    assert response.status_code == 200, response.text
    return oid


def test_api_withholds_the_text_until_approved(
    strict_app: FastAPI, db: Session, tenant: Tenant
) -> None:
    client = TestClient(strict_app)
    agent, validator = _bearer(db, tenant, "agent"), _bearer(db, tenant, "validator")
    oid = make_output(db, strict_app.state.settings, tenant, "Courrier sensible")
    got = client.get(f"/api/v1/outputs/{oid}", headers=agent).json()
    assert got["text_withheld"] and got["output"] is None and got["final_text"] is None
    assert got["needs_validation"] and got["validation"] == "not_required"
    refused = client.get(f"/api/v1/outputs/{oid}/export?format=pdf", headers=agent)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "validation_required"
    assert client.post(f"/api/v1/outputs/{oid}/submit", headers=agent).json()["validation"] == (
        "pending"
    )
    assert [
        i["id"] for i in client.get("/api/v1/validation/queue", headers=validator).json()["items"]
    ] == [oid]
    assert client.get("/api/v1/validation/queue", headers=agent).status_code == 403
    no_comment = client.post(
        f"/api/v1/outputs/{oid}/validate", json={"decision": "reject"}, headers=validator
    )
    assert no_comment.status_code == 400
    assert no_comment.json()["error"]["code"] == "validation_comment_required"
    body = {"decision": "approve", "comment": ""}
    ok = client.post(f"/api/v1/outputs/{oid}/validate", json=body, headers=validator).json()
    assert ok["validation"] == "approved" and ok["decision"]["by"] == "validator alpha"
    assert client.get(f"/api/v1/outputs/{oid}", headers=agent).json()["output"] == (
        "Courrier sensible"
    )


def test_api_refuses_self_approval_and_other_organisations(
    strict_app: FastAPI, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    client = TestClient(strict_app)
    own = _bearer(db, tenant, "validator")
    oid = make_output(db, strict_app.state.settings, tenant, "Ma note", role="validator")
    client.post(f"/api/v1/outputs/{oid}/submit", headers=own)
    response = client.post(
        f"/api/v1/outputs/{oid}/validate", json={"decision": "approve"}, headers=own
    )
    assert response.status_code == 403
    assert "votre propre" in response.json()["error"]["message"] or "own" in response.text
    outsider = _bearer(db, other_tenant, "validator")
    assert client.get(f"/api/v1/outputs/{oid}", headers=outsider).status_code == 404
    bad = client.get(f"/api/v1/outputs/{oid}/export?format=exe", headers=own)
    assert bad.status_code in (400, 403)


def test_api_chat_is_refused_when_it_needs_validation(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"validation_tools": ["api.chat"]})
    body = {"model": "fake/echo", "messages": [{"role": "user", "content": "Bonjour"}]}
    response = TestClient(app).post(
        "/api/v1/chat/completions", json=body, headers=_bearer(db, tenant, "agent")
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "validation_api_chat"


def test_pages_edit_submit_review_and_refuse_export(
    strict_app: FastAPI, db: Session, tenant: Tenant
) -> None:
    oid = make_output(db, strict_app.state.settings, tenant, "Le chat dort.")
    agent = TestClient(strict_app)
    csrf = login(agent, tenant.users["agent"].email)
    page = agent.get(f"/outputs/{oid}")
    assert page.status_code == 200 and "Le chat dort." in page.text
    empty = agent.post(f"/outputs/{oid}/final", data={"csrf_token": csrf, "text": " "})
    assert empty.status_code == 400
    agent.post(f"/outputs/{oid}/final", data={"csrf_token": csrf, "text": "Le chien <b>dort</b>."})
    assert agent.get(f"/outputs/{oid}/export?format=docx").status_code == 403
    agent.post(f"/outputs/{oid}/submit", data={"csrf_token": csrf})
    validator = TestClient(strict_app)
    vcsrf = login(validator, tenant.users["validator"].email)
    assert f"/validation/{oid}" in validator.get("/validation").text
    review = validator.get(f"/validation/{oid}").text
    assert "<del>" in review and "<ins>" in review and "&lt;b&gt;" in review
    rejected = validator.post(
        f"/validation/{oid}/decide", data={"csrf_token": vcsrf, "decision": "reject"}
    )
    assert rejected.status_code == 400
    decided = validator.post(
        f"/validation/{oid}/decide",
        data={"csrf_token": vcsrf, "decision": "approve"},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    exported = agent.get(f"/outputs/{oid}/export?format=docx")
    assert exported.status_code == 200
    assert 'filename="civique-sortie-' in exported.headers["content-disposition"]


def test_docx_carries_the_mention_in_body_and_core_properties(
    strict_app: FastAPI, db: Session, tenant: Tenant
) -> None:
    oid = _approved(db, strict_app, tenant, "Madame,\n\nVotre demande est acceptée.")
    response = TestClient(strict_app).get(
        f"/api/v1/outputs/{oid}/export?format=docx", headers=_bearer(db, tenant, "agent")
    )
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    document = Document(io.BytesIO(response.content))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Votre demande est acceptée." in body
    assert "validé par validator alpha" in body and "assistance d'une IA" in body
    assert "Org alpha" in document.sections[0].header.paragraphs[0].text
    props = document.core_properties
    assert "validé par validator alpha" in props.comments
    assert "assistance d'une IA" in props.subject and "Civique" in props.keywords
    kinds = [e.kind for e in register.events_of(db, tenant.org.id, oid)]
    assert kinds[-1] == "exported"
    assert register.verify_register(db, tenant.org.id).ok


def test_odt_carries_the_mention_in_text_and_meta(
    app: FastAPI, db: Session, tenant: Tenant
) -> None:
    oid = make_output(db, app.state.settings, tenant, "Procès-verbal de la séance.")
    response = TestClient(app).get(
        f"/api/v1/outputs/{oid}/export?format=odt", headers=_bearer(db, tenant, "agent")
    )
    assert response.headers["content-type"] == "application/vnd.oasis.opendocument.text"
    assert zipfile.ZipFile(io.BytesIO(response.content)).read("mimetype") == (
        b"application/vnd.oasis.opendocument.text"
    )
    document = load(io.BytesIO(response.content))
    text = "\n".join(teletype.extractText(p) for p in document.getElementsByType(odf_text.P))
    assert "Procès-verbal de la séance." in text
    assert "non soumis à validation" in text
    description = str(document.meta.getElementsByType(__import__("odf.dc").dc.Description)[0])
    assert "assistance d'une IA" in description
    fields = {
        f.getAttribute("name"): str(f) for f in document.meta.getElementsByType(meta.UserDefined)
    }
    assert fields["ai-model"].startswith("fake/echo") and fields["validation"] == "not_required"


def test_pdf_carries_the_mention_in_text_and_metadata(
    strict_app: FastAPI, db: Session, tenant: Tenant
) -> None:
    oid = _approved(db, strict_app, tenant, "Décision **favorable**.")
    response = TestClient(strict_app).get(
        f"/api/v1/outputs/{oid}/export?format=pdf", headers=_bearer(db, tenant, "agent")
    )
    assert response.headers["content-type"] == "application/pdf"
    pdf = pypdfium2.PdfDocument(response.content)
    text = pdf[0].get_textpage().get_text_range()
    assert "Décision favorable." in text and "validé par validator alpha" in text
    metadata = pdf.get_metadata_dict()
    assert "validé par validator alpha" in metadata["Subject"]
    assert "Civique" in metadata["Keywords"]
