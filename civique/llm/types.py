"""Types shared by the gateway and the providers (no provider code here)."""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Literal, Protocol

ModelKind = Literal["chat", "embedding", "transcription", "rerank"]


@dataclass(frozen=True)
class ModelInfo:
    """A model a provider offers."""

    id: str
    provider: str
    kind: ModelKind
    label: str
    version: str
    classification_ceiling: str = "internal"
    context_tokens: int = 4096


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat prompt."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatParams:
    """Generation parameters."""

    max_tokens: int = 1024
    temperature: float = 0.3
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delta:
    """A piece of generated text."""

    text: str


@dataclass(frozen=True)
class Queued:
    """The request waits for the model; `position` 1 is next."""

    position: int


@dataclass(frozen=True)
class Usage:
    """Token counts reported at the end of a generation."""

    tokens_in: int
    tokens_out: int
    finish_reason: str = "stop"


ProviderEvent = Delta | Queued | Usage


@dataclass
class EmbeddingResult:
    """Vectors for a list of inputs."""

    vectors: list[list[float]]
    tokens_in: int


@dataclass
class CancelToken:
    """Set by the caller to stop a generation early (thread-safe)."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        """Ask the generation to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once `cancel` was called."""
        return self._event.is_set()


class ProviderError(Exception):
    """A provider failed; `code` is one of unavailable, timeout, busy, upstream, bad_request."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class Provider(Protocol):
    """What every provider implements; only the gateway calls these methods."""

    name: str

    def models(self) -> list[ModelInfo]:
        """The models this provider serves."""
        ...

    def stream_chat(
        self, model: str, messages: list[ChatMessage], params: ChatParams, cancel: CancelToken
    ) -> AsyncGenerator[ProviderEvent, None]:
        """An async iterator of `ProviderEvent`, ending with one `Usage`."""
        ...

    async def embed(
        self, model: str, inputs: list[str], purpose: str = "passage"
    ) -> EmbeddingResult:
        """Embed texts; `purpose` is `passage` (indexed text) or `query` (a search)."""
        ...

    async def transcribe(
        self, model: str, audio: bytes, filename: str, language: str | None
    ) -> str:
        """Turn speech into text."""
        ...

    async def rerank(self, model: str, query: str, documents: list[str]) -> list[float]:
        """One relevance score per document (higher is more relevant), in the documents' order."""
        ...

    async def ready(self) -> bool:
        """True when the provider can serve requests."""
        ...


def count_words(text: str) -> int:
    """A rough token count for providers that report none (about 1.3 tokens per word)."""
    return max(1, round(len(text.split()) * 1.3)) if text.strip() else 0
