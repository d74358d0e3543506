"""The real app served by Uvicorn on 127.0.0.1, and an API token for the main test tenant."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from civique.auth.service import create_api_token
from tests.helpers import Tenant
from tests.live import serve_in_thread


@dataclass(frozen=True)
class LiveServer:
    """A running Civique: its base URL and the app object it serves."""

    url: str
    app: FastAPI

    @property
    def api_url(self) -> str:
        """Base URL of the OpenAI-compatible API (what `openai.OpenAI(base_url=…)` takes)."""
        return f"{self.url}/api/v1"


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    """The app under test behind a real Uvicorn (both databases, like `app`)."""
    with serve_in_thread(app) as url:
        yield LiveServer(url, app)


@pytest.fixture
def api_token(db: Session, tenant: Tenant) -> str:
    """A personal API token of the agent of `tenant` (clear value)."""
    _token, clear = create_api_token(db, tenant.users["agent"], "tests")
    return clear
