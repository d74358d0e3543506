"""Many chats streaming at once do not exhaust the database pool (a stream holds no connection)."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from civique.auth.service import create_api_token
from civique.settings import Settings
from tests.helpers import Tenant
from tests.live import serve_in_thread

STREAMS = 40  # well above the pool's 15 connections (5 + 10 overflow)


def test_many_concurrent_streams_all_finish(settings: Settings, tenant: Tenant) -> None:
    from civique.app import create_app

    slow = settings.model_copy(update={"fake_token_delay_seconds": 0.05})
    app: FastAPI = create_app(slow)
    with app.state.sessions() as db:
        _, token = create_api_token(db, tenant.users["agent"], "charge")
    body = {
        "model": "fake/echo",
        "stream": True,
        "messages": [{"role": "user", "content": "Bonjour à toutes et à tous"}],
    }

    async def one(client: httpx.AsyncClient) -> str:
        async with client.stream("POST", "/api/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            return "".join([line async for line in response.aiter_lines()])

    async def many(base: str) -> list[str]:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=20) as client:
            return list(await asyncio.gather(*(one(client) for _ in range(STREAMS))))

    # Each answer takes under a second; a starved pool makes requests wait for its 30 s
    # timeout, so the client's 20 s timeout turns that into a failure.
    with serve_in_thread(app) as base:
        results = asyncio.run(many(base))
    app.state.engine.dispose()
    assert all("[DONE]" in r for r in results)
