"""A deterministic fake provider for plumbing tests, demos without a model, and benchmarks."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncGenerator

from civique.llm.types import (
    CancelToken,
    ChatMessage,
    ChatParams,
    Delta,
    EmbeddingResult,
    ModelInfo,
    ProviderError,
    ProviderEvent,
    Usage,
    count_words,
)

FAIL_MARKER = "[[fake:fail]]"
TIMEOUT_MARKER = "[[fake:timeout]]"


def fake_reply(messages: list[ChatMessage]) -> str:
    """The deterministic answer: it quotes the last user message."""
    last = next((m.content for m in reversed(messages) if m.role == "user"), "")
    return f"Réponse simulée n°{len(messages)} : vous avez écrit « {last[:500]} »."


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


class FakeProvider:
    """Streams `fake_reply` word by word, optionally slowly; fails on demand."""

    name = "fake"

    def __init__(self, token_delay: float = 0.0) -> None:
        self.token_delay = token_delay

    def models(self) -> list[ModelInfo]:
        """One chat model, one embedding model and one reranking model."""
        return [
            ModelInfo("fake/echo", "fake", "chat", "Modèle de test (écho)", "fake-1", "sensitive"),
            ModelInfo(
                "fake/embed", "fake", "embedding", "Embeddings de test", "fake-1", "sensitive"
            ),
            ModelInfo(
                "fake/rerank", "fake", "rerank", "Reclassement de test", "fake-1", "sensitive"
            ),
        ]

    async def stream_chat(
        self, model: str, messages: list[ChatMessage], params: ChatParams, cancel: CancelToken
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Yield the reply word by word, then the usage."""
        prompt = "\n".join(m.content for m in messages)
        if FAIL_MARKER in prompt:
            raise ProviderError("unavailable", "fake failure requested")
        if TIMEOUT_MARKER in prompt:
            raise ProviderError("timeout", "fake timeout requested")
        words = fake_reply(messages).split(" ")
        produced = 0
        for index, word in enumerate(words[: params.max_tokens]):
            if cancel.cancelled:
                break
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            produced += 1
            yield Delta(word if index == 0 else " " + word)
        reason = "stop" if produced == len(words) else "cancelled" if cancel.cancelled else "length"
        yield Usage(count_words(prompt), produced, reason)

    async def embed(
        self, model: str, inputs: list[str], purpose: str = "passage"
    ) -> EmbeddingResult:
        """Eight-dimensional vectors derived from a hash of each text."""
        vectors = []
        for text in inputs:
            digest = hashlib.sha256(text.encode()).digest()
            raw = [b / 255.0 - 0.5 for b in digest[:8]]
            norm = sum(v * v for v in raw) ** 0.5 or 1.0
            vectors.append([v / norm for v in raw])
        return EmbeddingResult(vectors, sum(count_words(t) for t in inputs))

    async def transcribe(
        self, model: str, audio: bytes, filename: str, language: str | None
    ) -> str:
        """Not offered by the fake provider."""
        raise ProviderError("bad_request", "the fake provider does not transcribe")

    async def rerank(self, model: str, query: str, documents: list[str]) -> list[float]:
        """Share of the query's words found in each document (plumbing only, not relevance)."""
        if FAIL_MARKER in query:
            raise ProviderError("unavailable", "fake failure requested")
        wanted = set(_words(query))
        return [
            len(wanted & set(_words(text))) / len(wanted) if wanted else 0.0 for text in documents
        ]

    async def ready(self) -> bool:
        """Always ready."""
        return True
