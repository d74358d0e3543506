"""Health, readiness, metrics, security headers and logs."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from civique.app import create_app
from civique.ops.logs import JsonFormatter
from civique.settings import Settings


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "model:fake": True}


def test_readiness_fails_without_the_model_file(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broken = settings.model_copy(
        update={"embedded_enabled": True, "embedded_model_path": tmp_path / "absent.gguf"}
    )
    app = create_app(broken)
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["model:embedded"] is False
    app.state.engine.dispose()


def test_metrics_count_requests_by_route(client: TestClient) -> None:
    client.get("/healthz")
    client.get("/chat/12345")
    body = client.get("/metrics").text
    assert 'civique_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="/chat/{conversation_id}"' in body  # templated, never the raw id
    assert "/chat/12345" not in body


def test_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"


def test_openapi_and_docs_are_served_locally(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/chat/completions" in spec["paths"]
    docs = client.get("/docs").text
    assert "/static/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/static/swagger-ui-bundle.js").status_code == 200


def test_json_logs_drop_secret_fields() -> None:
    record = logging.LogRecord("civique", logging.INFO, __file__, 1, "login ok", None, None)
    record.user_id = 7
    record.password = "hunter2"
    record.api_token = "civ_secret"
    record.content = "message de l'agent"
    line = json.loads(JsonFormatter().format(record))
    assert line["user_id"] == 7 and line["message"] == "login ok"
    assert "hunter2" not in json.dumps(line) and "civ_secret" not in json.dumps(line)
    assert "message de l'agent" not in json.dumps(line)


@pytest.mark.parametrize("path", ["/api/v1/models", "/api/v1/embeddings"])
def test_api_requires_a_token(client: TestClient, path: str) -> None:
    response = client.request("GET" if path.endswith("models") else "POST", path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_access_log_names_the_route_not_the_secret_path(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="civique.access"):
        client.get("/invite/super-secret-one-time-token")
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "civique.access"]
    assert lines and '"route": "/invite/{token}"' in lines[-1]
    assert "super-secret" not in "".join(lines)


def test_oversized_form_is_refused_before_it_is_read(
    agent_client: tuple[TestClient, str], settings: Settings
) -> None:
    client, csrf = agent_client
    huge = b"x" * (settings.max_form_bytes + 10)
    response = client.post("/chat", data={"csrf_token": csrf}, files={"f": ("big.bin", huge)})
    assert response.status_code == 413 and "trop volumineux" in response.text


def test_expired_session_on_a_form_returns_to_the_page(client: TestClient) -> None:
    response = client.post(
        "/chat/3/messages",
        data={"text": "brouillon"},
        headers={"referer": "http://testserver/chat/3"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/chat/3"
    foreign = client.post(
        "/chat/3/messages", headers={"referer": "https://evil.example/x"}, follow_redirects=False
    )
    assert foreign.headers["location"] == "/login?next=/"


def test_openapi_describes_only_the_json_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert paths and all(path.startswith("/api/") for path in paths)
    assert {"/api/v1/models", "/api/v1/embeddings"} <= set(paths)
