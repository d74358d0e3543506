"""Tool pages and API with the fake model: form, run, stream, errors, admin page, exports."""

from __future__ import annotations

import io
import json

from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.governance import validation
from civique.llm.models import OutputRecord
from civique.llm.providers.fake import FAIL_MARKER
from civique.settings import Settings
from civique.tools import org_settings
from civique.tools.models import Proofreading, ToolRun
from tests.helpers import Tenant, login

TEXT = "Le demandeur est tenu de produire les pièces justificatives afférentes."


def _run(client: TestClient, csrf: str, **form: str) -> object:
    return client.post(
        "/tools/plain_language", data={"csrf_token": csrf, **form}, follow_redirects=False
    )


def test_tools_page_and_form_are_generated(agent_client: tuple[TestClient, str]) -> None:
    client, _ = agent_client
    listing = client.get("/tools")
    assert listing.status_code == 200 and 'href="/tools/plain_language"' in listing.text
    assert "Langage clair et FALC" in listing.text and 'href="/tools" aria-current="page"' in (
        listing.text
    )
    form = client.get("/tools/plain_language").text
    assert '<textarea id="field-text" name="text"' in form and 'aria-required="true"' in form
    assert '<select id="field-level" name="level"' in form
    assert '<option value="falc" >FALC (facile à lire et à comprendre)</option>' in form
    assert 'aria-describedby="field-text-help"' in form and "Texte à réécrire" in form


def test_a_run_without_script_redirects_to_the_output(
    agent_client: tuple[TestClient, str], db: Session
) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, text=TEXT, level="plain")
    assert response.status_code == 303
    output_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/outputs/{output_id}").text
    assert "Brouillon à vérifier" in page and "Langage clair et FALC" in page
    assert "Vérifications du texte" in page and "Régénérer" in page
    record = db.get(OutputRecord, output_id)
    assert record is not None and record.prompt_template == "plain_language.plain"


def test_bad_input_shows_the_form_again_with_errors_and_values(
    agent_client: tuple[TestClient, str], db: Session
) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, text="   ", level="haiku", audience="Des familles")
    assert response.status_code == 422
    assert "Des champs manquent ou ne sont pas valables : Texte à réécrire, Niveau." in (
        response.text
    )
    assert 'id="field-text-error">Ce champ est obligatoire.</p>' in response.text
    assert 'value="Des familles"' in response.text and 'aria-invalid="true"' in response.text
    assert db.scalars(select(ToolRun)).all() == []


def _events(body: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    for block in body.strip().split("\n\n"):
        kind = block.split("\n")[0].removeprefix("event: ")
        found.append((kind, json.loads(block.split("\n")[1].removeprefix("data: "))))
    return found


def test_a_run_streams_then_names_its_output(agent_client: tuple[TestClient, str]) -> None:
    client, csrf = agent_client
    headers = {"accept": "text/event-stream", "x-csrf-token": csrf}
    response = client.post("/tools/plain_language", data={"text": TEXT}, headers=headers)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    assert events[0][0] == "part" and events[-1][0] == "done"
    streamed = "".join(str(d["text"]) for k, d in events if k == "delta")
    assert TEXT in streamed and str(events[-1][1]["url"]).startswith("/outputs/")
    refused = client.post("/tools/plain_language", data={"text": ""}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"] == {"text": "Ce champ est obligatoire."}


def test_a_failed_run_keeps_the_form_values(agent_client: tuple[TestClient, str]) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, text=f"Avis {FAIL_MARKER}", level="falc")
    assert response.status_code == 502 and "ne répond pas" in response.text
    assert f"Avis {FAIL_MARKER}</textarea>" in response.text


def test_a_disabled_tool_is_404_on_pages_and_api(
    agent_client: tuple[TestClient, str], db: Session, tenant: Tenant
) -> None:
    org_settings.update_settings(
        db, tenant.users["org_admin"], {"plain_language": (False, "inherit")}
    )
    client, csrf = agent_client
    assert client.get("/tools/plain_language").status_code == 404
    assert _run(client, csrf, text=TEXT).status_code == 404
    assert "/tools/plain_language" not in client.get("/tools").text
    api = client.post(
        "/api/v1/tools/plain_language/runs", json={"text": TEXT}, headers={"x-csrf-token": csrf}
    )
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    listed = [t["id"] for t in client.get("/api/v1/tools").json()["tools"]]
    assert "plain_language" not in listed and "letters" in listed
    assert client.get("/tools/no_such_tool").status_code == 404


def test_api_lists_and_runs_tools(
    agent_client: tuple[TestClient, str], db: Session, settings: Settings
) -> None:
    client, csrf = agent_client
    listed = client.get("/api/v1/tools").json()["tools"]
    assert [t["id"] for t in listed] == ["plain_language", "letters", "deliberation", "translation"]
    schema = listed[0]["input_schema"]
    assert schema["required"] == ["text"] and schema["properties"]["level"]["enum"] == [
        "plain",
        "falc",
    ]
    assert schema["properties"]["text"]["title"] == "Texte à réécrire"
    headers = {"x-csrf-token": csrf}
    run = client.post("/api/v1/tools/plain_language/runs", json={"text": TEXT}, headers=headers)
    assert run.status_code == 200, run.text
    body = run.json()
    assert body["status"] == "ok" and TEXT in body["text"] and body["validation"] == "not_required"
    assert body["needs_validation"] is False and body["parts"] == 1
    assert isinstance(body["findings"], list) and body["findings"]
    bad = client.post(
        "/api/v1/tools/plain_language/runs",
        json={"text": TEXT, "level": "x", "extra": 1},
        headers=headers,
    )
    assert bad.status_code == 422
    assert set(bad.json()["error"]["fields"]) == {"level", "extra"}
    assert client.post("/api/v1/tools/nope/runs", json={}, headers=headers).status_code == 404


def test_api_withholds_the_text_of_a_tool_needing_validation(
    agent_client: tuple[TestClient, str], db: Session, tenant: Tenant
) -> None:
    org_settings.update_settings(
        db, tenant.users["org_admin"], {"plain_language": (True, "always")}
    )
    client, csrf = agent_client
    body = client.post(
        "/api/v1/tools/plain_language/runs", json={"text": TEXT}, headers={"x-csrf-token": csrf}
    ).json()
    assert body["needs_validation"] and body["text_withheld"] and body["text"] is None


def test_admin_switches_tools_and_overrides_validation(
    app: object, client: TestClient, db: Session, tenant: Tenant, settings: Settings
) -> None:
    csrf = login(client, tenant.users["org_admin"].email)
    page = client.get("/admin/tools").text
    assert 'name="validation-plain_language"' in page and "Réglage de l'outil : non requise" in page
    saved = client.post(
        "/admin/tools",
        data={
            "csrf_token": csrf,
            "enabled": "plain_language",
            "validation-plain_language": "always",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert validation.needs_validation(db, settings, tenant.org.id, "plain_language")
    off = client.post("/admin/tools", data={"csrf_token": csrf}, follow_redirects=False)
    assert off.status_code == 303
    assert not org_settings.setting_of(db, tenant.org.id, "plain_language").enabled
    bad = client.post(
        "/admin/tools", data={"csrf_token": csrf, "validation-plain_language": "sometimes"}
    )
    assert bad.status_code == 400 and "toujours ou jamais" in bad.text


def test_agents_cannot_open_the_tools_admin_page(agent_client: tuple[TestClient, str]) -> None:
    client, _ = agent_client
    assert client.get("/admin/tools").status_code == 403


def test_regenerate_links_the_new_output_and_compares(
    agent_client: tuple[TestClient, str], db: Session
) -> None:
    client, csrf = agent_client
    first = int(_run(client, csrf, text=TEXT).headers["location"].rsplit("/", 1)[1])
    client.post(f"/outputs/{first}/final", data={"csrf_token": csrf, "text": "Texte corrigé."})
    again = client.post(
        f"/outputs/{first}/regenerate", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert again.status_code == 303
    second = int(again.headers["location"].rsplit("/", 1)[1])
    assert second != first
    run = db.scalars(select(ToolRun).where(ToolRun.output_id == second)).one()
    assert run.previous_output_id == first
    assert f'href="/outputs/{second}"' in client.get(f"/outputs/{first}").text
    compare = client.get(f"/outputs/{second}/compare").text
    assert '<del><span class="visually-hidden">[supprimé' in compare or "<del>" in compare
    assert "corrigé." in compare and "<ins>" in compare
    assert "pas de version précédente" in client.get(f"/outputs/{first}/compare").text


def test_falc_proofreading_is_recorded_and_exported(
    agent_client: tuple[TestClient, str], db: Session
) -> None:
    client, csrf = agent_client
    output = int(_run(client, csrf, text=TEXT, level="falc").headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/outputs/{output}").text
    assert "Pas encore relu" in page
    plain = client.get(f"/outputs/{output}/export?format=docx")
    assert plain.status_code == 200
    assert "FALC relu par" not in _docx_text(plain.content)
    assert "assistance d'une IA" in _docx_text(plain.content) or "IA" in _docx_text(plain.content)
    refused = client.post(
        f"/outputs/{output}/proofreading",
        data={"csrf_token": csrf, "name": "Léa Martin", "role": "", "checked_on": "2026-12-01"},
    )
    assert refused.status_code == 400 and 'value="Léa Martin"' in refused.text
    client.post(
        f"/outputs/{output}/proofreading",
        data={
            "csrf_token": csrf,
            "name": "Léa Martin",
            "role": "relectrice formée",
            "checked_on": "2026-12-01",
        },
    )
    assert db.scalars(select(Proofreading)).one().name == "Léa Martin"
    exported = _docx_text(client.get(f"/outputs/{output}/export?format=docx").content)
    assert "FALC relu par Léa Martin (relectrice formée) le 1 décembre 2026." in exported


def _docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in document.paragraphs)
    footer = document.sections[0].footer.paragraphs[0].text
    return f"{body}\n{footer}\n{document.core_properties.subject}"
