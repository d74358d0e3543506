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


class PrivacyIn(BaseModel):
    """How personal data is masked for a model not cleared for it."""

    case: str | None = Field(
        default=None,
        max_length=60,
        pattern=r"^[\w.:-]+$",
        description="Your key for the case (e.g. a file number): the same value gets the same "
        "placeholder in every request with this key, for you only. Without it, each request "
        "numbers its placeholders anew.",
    )
    keep: list[str] = Field(
        default_factory=list, max_length=50, description="Detected texts to send in clear."
    )
    extra: list[str] = Field(
        default_factory=list, max_length=50, description="Texts to mask although not detected."
    )


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
    privacy: PrivacyIn | None = Field(
        default=None,
        description="Civique extension, for models not cleared for personal data: a case key "
        "under which placeholders stay the same across requests, and corrections of the "
        "detection. The response's `privacy` says what was masked.",
    )


class PrivacyPreviewRequest(BaseModel):
    """POST /api/v1/privacy/preview."""

    model: str = Field(max_length=200)
    text: str = Field(description="The text that would be sent.")
    case: str | None = Field(default=None, max_length=60, pattern=r"^[\w.:-]+$")


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
