"""Request bodies of the OpenAI-compatible API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_EMBEDDING_INPUTS = 256


class TextPart(BaseModel):
    """A text part of a message written as a list of parts (images are not accepted)."""

    type: Literal["text"]
    text: str


class ChatMessageIn(BaseModel):
    """One message of the conversation sent by the client."""

    # "developer" is what recent OpenAI clients send in place of "system".
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    def text(self) -> str:
        """The content as one string (parts joined by blank lines)."""
        if isinstance(self.content, str):
            return self.content
        return "\n\n".join(part.text for part in self.content)


class ChatCompletionRequest(BaseModel):
    """POST /api/v1/chat/completions."""

    model: str = Field(max_length=200)
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=200)
    stream: bool | None = False
    n: int = Field(default=1, ge=1, le=1, description="Only one answer per request.")
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(
        default=None, ge=1, le=8192, description="Newer name of `max_tokens`; wins when both."
    )
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="Default 0.3.")
    stop: str | list[str] | None = None
    collections: list[int] | None = Field(
        default=None,
        max_length=50,
        description="Civique extension: ids of document collections. The last user message is "
        "then answered from their documents only, and the response carries `citations`.",
    )


class EmbeddingRequest(BaseModel):
    """POST /api/v1/embeddings."""

    model: str = Field(max_length=200)
    input: str | list[str] = Field(
        description=f"A text or a list of up to {MAX_EMBEDDING_INPUTS} texts."
    )
    encoding_format: Literal["float", "base64"] = Field(
        default="float",
        description="`base64`: little-endian float32 vectors, base64-encoded "
        "(what the official clients ask for by default).",
    )
