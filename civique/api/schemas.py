"""Request bodies of the OpenAI-compatible API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ChatMessageIn(BaseModel):
    """One message of the conversation sent by the client."""

    role: Literal["system", "user", "assistant"]
    content: str


class ChatCompletionRequest(BaseModel):
    """POST /api/v1/chat/completions."""

    model: str = Field(max_length=200)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    temperature: float = Field(default=0.3, ge=0.0, le=2.0)
    stop: str | list[str] | None = None


class EmbeddingRequest(BaseModel):
    """POST /api/v1/embeddings."""

    model: str = Field(max_length=200)
    input: str | list[str] = Field(description="A text or a list of up to 256 texts.")
