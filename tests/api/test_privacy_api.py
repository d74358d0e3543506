"""The API's privacy extension: cases, corrections, the preview and the `privacy` field."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.governance.outside import MODEL, install
from tests.helpers import Tenant


@pytest.fixture
def api_client(app: FastAPI, api_token: str) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app) as client:
        yield client, api_token


TEXT = "Merci de préparer une réponse à Mme Irène Coppey, IBAN CH93 0076 2011 6238 5295 7."


def _ask(client: TestClient, token: str, **extra: object) -> dict[str, object]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": TEXT}], **extra}
    response = client.post(
        "/api/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


def test_a_case_keeps_its_placeholders_and_the_answer_is_restored(
    app: FastAPI, db: Session, tenant: Tenant, api_client: tuple[TestClient, str]
) -> None:
    client, token = api_client
    outside = install(app, db, tenant.org.id)
    first = _ask(client, token, privacy={"case": "dossier-2026-041"})
    sent = outside.sent()
    assert "Irène Coppey" not in sent and "CH93" not in sent
    content = first["choices"][0]["message"]["content"]  # type: ignore[index]
    assert "Irène Coppey" in content and "CH93 0076 2011 6238 5295 7" in content
    privacy = first["privacy"]
    assert privacy["masked"] == 2 and privacy["kinds"] == {"PERSONNE": 1, "IBAN": 1}  # type: ignore[index]
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Et Irène Coppey ?"}],
            "privacy": {"case": "dossier-2026-041", "extra": ["Coppey"]}}
    client.post("/api/v1/chat/completions", json=body,
                headers={"Authorization": f"Bearer {token}"})
    assert "[PERSONNE_1]" in outside.sent()


def test_streamed_answers_are_restored_and_end_with_privacy(
    app: FastAPI, db: Session, tenant: Tenant, api_client: tuple[TestClient, str]
) -> None:
    client, token = api_client
    install(app, db, tenant.org.id)
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": TEXT}]}
    with client.stream("POST", "/api/v1/chat/completions", json=body,
                       headers={"Authorization": f"Bearer {token}"}) as response:
        raw = "".join(response.iter_text())
    chunks = [json.loads(line[6:]) for line in raw.splitlines()
              if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "Irène Coppey" in text and "[PERSONNE_1]" not in text
    assert chunks[-1]["privacy"]["masked"] == 2


def test_preview_and_bad_privacy_requests(
    app: FastAPI, db: Session, tenant: Tenant, api_client: tuple[TestClient, str]
) -> None:
    client, token = api_client
    install(app, db, tenant.org.id)
    auth = {"Authorization": f"Bearer {token}"}
    preview = client.post("/api/v1/privacy/preview", json={"model": MODEL, "text": TEXT},
                          headers=auth).json()
    assert preview["applies"] is True
    assert [f["placeholder"] for f in preview["findings"]] == ["[PERSONNE_1]", "[IBAN_1]"]
    cleared = client.post("/api/v1/privacy/preview", json={"model": "fake/echo", "text": TEXT},
                          headers=auth).json()
    assert cleared["applies"] is False and cleared["findings"] == []
    bad_case = {"model": MODEL, "messages": [{"role": "user", "content": "x"}],
                "privacy": {"case": "un cas / avec espaces"}}
    refused = client.post("/api/v1/chat/completions", json=bad_case, headers=auth)
    assert refused.status_code == 400 and "case" in refused.text
    assert client.post("/api/v1/privacy/preview", json={"model": MODEL, "text": ""},
                       headers=auth).status_code == 400
    assert client.post("/api/v1/privacy/preview", json={"model": MODEL, "text": "x"}
                       ).status_code == 401
