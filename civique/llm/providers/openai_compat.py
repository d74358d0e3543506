"""Any OpenAI-compatible server (vLLM, Ollama, Albert API…) declared in settings."""

from __future__ import annotations

import json
import math
import os
from collections.abc import AsyncGenerator
from typing import Any

import httpx

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
from civique.settings import ProviderConfig


class OpenAICompatibleProvider:
    """Chat (streaming), embeddings, transcription and reranking over the OpenAI HTTP API."""

    def __init__(self, config: ProviderConfig, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.name = config.name
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            headers = {}
            key = os.environ.get(self.config.api_key_env, "") if self.config.api_key_env else ""
            if key:
                headers["Authorization"] = f"Bearer {key}"
            self._client = httpx.AsyncClient(
                base_url=self.config.base_url.rstrip("/") + "/",
                headers=headers,
                timeout=httpx.Timeout(self.config.timeout_seconds, connect=5.0),
                transport=self._transport,
            )
        return self._client

    def models(self) -> list[ModelInfo]:
        """The models listed for this server in settings."""
        ceiling = self.config.classification_ceiling
        found = [
            ModelInfo(f"{self.name}/{m}", self.name, "chat", f"{m} ({self.name})", m, ceiling)
            for m in self.config.chat_models
        ]
        found += [
            ModelInfo(f"{self.name}/{m}", self.name, "embedding", f"{m} ({self.name})", m, ceiling)
            for m in self.config.embedding_models
        ]
        found += [
            ModelInfo(
                f"{self.name}/{m}", self.name, "transcription", f"{m} ({self.name})", m, ceiling
            )
            for m in self.config.audio_models
        ]
        found += [
            ModelInfo(f"{self.name}/{m}", self.name, "rerank", f"{m} ({self.name})", m, ceiling)
            for m in self.config.rerank_models
        ]
        return found

    async def stream_chat(
        self, model: str, messages: list[ChatMessage], params: ChatParams, cancel: CancelToken
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Stream a chat completion, parsing server-sent events."""
        body = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        produced, usage, events = 0, None, 0
        reason = "stop"
        try:
            async with self._http().stream("POST", "chat/completions", json=body) as response:
                await _raise_for_status(response)
                async for line in response.aiter_lines():
                    if cancel.cancelled:
                        reason = "cancelled"
                        break
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    events += 1
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices", []):
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            produced += 1
                            yield Delta(text)
                        reason = choice.get("finish_reason") or reason
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", self.name) from exc
        except httpx.TransportError as exc:
            raise ProviderError("unavailable", self.name) from exc
        except ValueError as exc:
            raise ProviderError("upstream", "malformed stream") from exc
        if events == 0 and not cancel.cancelled:
            # e.g. a proxy's HTML page with status 200: recording an empty "ok" answer would hide it
            raise ProviderError("upstream", "the answer was not an event stream")
        tokens_in = (usage or {}).get("prompt_tokens") or sum(
            count_words(m.content) for m in messages
        )
        tokens_out = (usage or {}).get("completion_tokens") or produced
        yield Usage(tokens_in, tokens_out, reason)

    async def embed(
        self, model: str, inputs: list[str], purpose: str = "passage"
    ) -> EmbeddingResult:
        """Call /embeddings (`purpose` is not sent: the OpenAI API has no such field)."""
        data = await self._post_json("embeddings", {"model": model, "input": inputs})
        rows: list[dict[str, Any]] = sorted(data.get("data") or [], key=lambda r: r.get("index", 0))
        tokens = int((data.get("usage") or {}).get("prompt_tokens", 0))
        if len(rows) != len(inputs) or not all(isinstance(r.get("embedding"), list) for r in rows):
            raise ProviderError("upstream", "one vector per input was expected")
        return EmbeddingResult([r["embedding"] for r in rows], tokens)

    async def transcribe(
        self, model: str, audio: bytes, filename: str, language: str | None
    ) -> str:
        """Call /audio/transcriptions."""
        fields = {"model": model}
        if language:
            fields["language"] = language
        try:
            response = await self._http().post(
                "audio/transcriptions", data=fields, files={"file": (filename, audio)}
            )
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", self.name) from exc
        except httpx.TransportError as exc:
            raise ProviderError("unavailable", self.name) from exc
        await _raise_for_status(response)
        return str(_json_object(response).get("text", ""))

    async def rerank(self, model: str, query: str, documents: list[str]) -> list[float]:
        """Call {base_url}/rerank: vLLM, Jina and Cohere-like servers, or Text Embeddings Inference.

        TEI reads `texts` where the others read `documents`; each ignores the other's field.
        """
        if not documents:
            return []
        body = {
            "model": model,
            "query": query,
            "documents": documents,
            "texts": documents,
            "top_n": len(documents),
        }
        response = await self._post("rerank", body)
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderError("upstream", "the answer was not JSON") from exc
        rows = data.get("results") if isinstance(data, dict) else data
        return _rerank_scores(rows, len(documents))

    async def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return _json_object(await self._post(path, body))

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            response = await self._http().post(path, json=body)
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", self.name) from exc
        except httpx.TransportError as exc:
            raise ProviderError("unavailable", self.name) from exc
        await _raise_for_status(response)
        return response

    async def ready(self) -> bool:
        """True when GET /models answers."""
        try:
            response = await self._http().get("models")
        except httpx.HTTPError:
            return False
        return response.status_code < 500


async def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 400:
        await response.aread()
        status = response.status_code
        # 429 is the server's rate limit: "busy, try again", not a request the user got wrong
        code = "upstream" if status >= 500 else "busy" if status == 429 else "bad_request"
        raise ProviderError(code, f"HTTP {status}")


def _rerank_scores(rows: Any, count: int) -> list[float]:
    """Scores in the documents' order; refuses an answer that misses or repeats a document."""
    if not isinstance(rows, list) or len(rows) != count:
        raise ProviderError("upstream", "one score per document was expected")
    scores: dict[int, float] = {}
    for row in rows:
        entry: dict[str, Any] = row if isinstance(row, dict) else {}
        index, score = entry.get("index"), entry.get("relevance_score", entry.get("score"))
        # bool is an int; NaN or infinity would make the order meaningless
        if (
            not isinstance(index, int)
            or isinstance(index, bool)
            or not 0 <= index < count
            or index in scores
            or not isinstance(score, int | float)
            or isinstance(score, bool)
            or not math.isfinite(score)
        ):
            raise ProviderError("upstream", "each document must be scored once")
        scores[index] = float(score)
    return [scores[i] for i in range(count)]


def _json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; anything else is the server's fault, not a crash here."""
    try:
        data = response.json()
    except ValueError as exc:
        raise ProviderError("upstream", "the answer was not JSON") from exc
    if not isinstance(data, dict):
        raise ProviderError("upstream", "the answer was not a JSON object")
    return data
