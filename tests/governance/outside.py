"""A model server outside the organisation's walls, for privacy tests: not cleared for personal
data, and it keeps every prompt it receives so tests can assert on what left."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.llm.providers.fake import FakeProvider
from civique.llm.types import CancelToken, ChatMessage, ChatParams, ModelInfo, ProviderEvent
from civique.orgs.models import OrgModel

MODEL = "outside/echo"


class Outside(FakeProvider):
    """Echoes like the fake model; cleared for internal data only."""

    name = "outside"

    def __init__(self) -> None:
        super().__init__()
        self.received: list[list[ChatMessage]] = []

    def models(self) -> list[ModelInfo]:
        """One chat model cleared for internal data only."""
        return [ModelInfo(MODEL, "outside", "chat", "Serveur externe", "x-1", "internal")]

    def stream_chat(
        self, model: str, messages: list[ChatMessage], params: ChatParams, cancel: CancelToken
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Keep what was received, then echo like the fake model."""
        self.received.append(list(messages))
        return super().stream_chat(model, messages, params, cancel)

    def sent(self) -> str:
        """Everything the last prompt held."""
        return "\n".join(m.content for m in self.received[-1])


def install(app: FastAPI, db: Session, org_id: int) -> Outside:
    """Register the outside server in the app and allow its model in the organisation."""
    provider = Outside()
    app.state.gateway.registry.register(provider)
    db.add(OrgModel(org_id=org_id, model_id=MODEL, roles=[]))
    db.commit()
    return provider


def chat_once(client: TestClient, csrf: str, model: str, text: str) -> int:
    """A new conversation with `model`, one question, its reply read to the end; the id."""
    response = client.post("/chat", data={"csrf_token": csrf, "model_id": model},
                           follow_redirects=False)
    conv = int(response.headers["location"].rsplit("/", 1)[1])
    posted = client.post(f"/chat/{conv}/messages", data={"csrf_token": csrf, "text": text},
                         headers={"accept": "application/json"}).json()
    with client.stream("GET", f"/chat/messages/{posted['reply_id']}/stream") as stream:
        "".join(stream.iter_text())
    return conv
