"""The only way to call a model: permission → classification → pseudonymisation → call →
restoration → usage and output record.

A chat model not cleared for personal data (its ceiling below `personal`) never receives the
personal data found in the messages: they are replaced by the scope's placeholders
(`governance/pseudonymise.py`), the answer is restored as it streams, and the records keep the
pseudonymised text, which is what the model saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from civique.governance.pseudonymise import (
    Masked,
    Masking,
    Planned,
    Pseudonymiser,
    StreamRestorer,
    preview,
)
from civique.governance.vault import Vault
from civique.llm.registry import ProviderRegistry, UnknownModel
from civique.llm.types import (
    CancelToken,
    ChatMessage,
    ChatParams,
    Delta,
    EmbeddingResult,
    ModelInfo,
    ProviderError,
    Queued,
    Usage,
    count_words,
)
from civique.llm.usage import CallContext, CallOutcome, record_call, record_output
from civique.orgs.models import OrgModel
from civique.settings import CLASSIFICATION_ORDER, Settings

__all__ = ["CallContext", "Completed", "Gateway", "GatewayError"]

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """A call refused before reaching a model, or failed at the provider.

    Codes: unknown_model, model_not_allowed, wrong_kind, classification, unavailable, timeout,
    busy, upstream, bad_request.
    """

    def __init__(self, code: str, model_id: str = "") -> None:
        super().__init__(f"{code}: {model_id}")
        self.code = code
        self.model_id = model_id


@dataclass
class Completed:
    """The last event of a streamed chat: the full text and the records written."""

    text: str
    status: str  # ok | stopped | error
    call_id: int
    output_id: int | None
    tokens_in: int
    tokens_out: int
    error: str | None = None
    finish_reason: str = "stop"
    privacy: dict[str, Any] | None = None  # what was masked, or why nothing was


@dataclass(frozen=True)
class Privacy:
    """Where a call's placeholders live (a conversation, or one request) and the agent's
    corrections to the detection."""

    scope: str
    masking: Masking = field(default_factory=Masking)


def cleared_for_personal_data(info: ModelInfo) -> bool:
    """True when the model may receive personal data as it is."""
    return _rank(info.classification_ceiling) >= _rank("personal")


def effective_ceiling(platform: str, org: str | None) -> str:
    """The lower of the platform's ceiling and the organisation's clearance (never above the
    platform's, whatever is stored)."""
    if org is None or _rank(org) >= _rank(platform):
        return platform
    return org


BELOW_PERSONAL = CLASSIFICATION_ORDER[: CLASSIFICATION_ORDER.index("personal")]


class Gateway:
    """Checks, calls and records every model use."""

    def __init__(
        self, registry: ProviderRegistry, sessions: sessionmaker[Session], settings: Settings
    ) -> None:
        self.registry = registry
        self._sessions = sessions
        self._settings = settings
        self.vault = Vault(settings)

    @property
    def settings(self) -> Settings:
        """The settings the gateway was built with (the search reads its reranker there)."""
        return self._settings

    def allowed_models(
        self, session: Session, org_id: int, role: str, kind: str | None = None
    ) -> list[ModelInfo]:
        """Models the organisation enabled for this role, in registry order, default first,
        each with the ceiling that applies in the organisation (its clearance, if lower)."""
        rows = session.scalars(
            select(OrgModel).where(OrgModel.org_id == org_id, OrgModel.enabled.is_(True))
        ).all()
        allowed = {r.model_id: r for r in rows if not r.roles or role in r.roles}
        found = [
            dataclasses.replace(
                m,
                classification_ceiling=effective_ceiling(
                    m.classification_ceiling, allowed[m.id].clearance
                ),
            )
            for m in self.registry.models()
            if m.id in allowed and (kind is None or m.kind == kind)
        ]
        return sorted(found, key=lambda m: not allowed[m.id].is_default)

    def authorise(self, session: Session, ctx: CallContext, model_id: str, kind: str) -> ModelInfo:
        """Refuse unknown, disallowed or wrong-kind models and data above the model's ceiling."""
        try:
            info = self.registry.info(model_id)
        except UnknownModel:
            raise GatewayError("unknown_model", model_id) from None
        if info.kind != kind:
            raise GatewayError("wrong_kind", model_id)
        allowed = {m.id: m for m in self.allowed_models(session, ctx.org_id, ctx.role)}
        if info.id not in allowed:
            raise GatewayError("model_not_allowed", model_id)
        info = allowed[info.id]  # with the organisation's clearance: masking follows it too
        if _rank(ctx.classification) > _rank(info.classification_ceiling):
            raise GatewayError("classification", model_id)
        return info

    async def stream_chat(
        self,
        ctx: CallContext,
        model_id: str,
        messages: list[ChatMessage],
        params: ChatParams | None = None,
        cancel: CancelToken | None = None,
        privacy: Privacy | None = None,
    ) -> AsyncGenerator[Delta | Queued | Completed, None]:
        """Stream a chat answer; always ends with `Completed` (also on error or stop).

        Personal data is masked first when the model is not cleared for it (`privacy` names
        the placeholders' scope; without it, the call is its own scope)."""
        params = params or ChatParams()
        cancel = cancel or CancelToken()
        info = await asyncio.to_thread(self._authorise, ctx, model_id, "chat")
        masked = await asyncio.to_thread(self._mask, ctx, info, messages, privacy)
        sent = masked.messages if masked else messages
        restorer = StreamRestorer(masked.values) if masked else None
        provider, native = self.registry.provider_for(model_id)
        parts: list[str] = []
        shown: list[str] = []
        outcome = CallOutcome(status="ok")
        started = time.perf_counter()
        usage: Usage | None = None
        try:
            async with contextlib.aclosing(
                provider.stream_chat(native, sent, params, cancel)
            ) as stream:
                async for event in stream:
                    if isinstance(event, Delta):
                        if outcome.first_token_ms is None:
                            outcome.first_token_ms = _ms_since(started)
                        parts.append(event.text)
                        text = restorer.feed(event.text) if restorer else event.text
                        if text:
                            shown.append(text)
                            yield Delta(text)
                    elif isinstance(event, Queued):
                        yield event
                    elif isinstance(event, Usage):
                        usage = event
        except ProviderError as exc:
            outcome.status, outcome.error = "error", exc.code
        except (GeneratorExit, asyncio.CancelledError):
            cancel.cancel()
            outcome.status = "stopped"
            with anyio.CancelScope(shield=True):  # the caller left: still write the records
                await self._finish(ctx, info, sent, parts, outcome, usage, started, masked)
            raise
        if restorer is not None and (tail := restorer.flush()):
            shown.append(tail)
            yield Delta(tail)
        if cancel.cancelled and outcome.status == "ok":
            outcome.status = "stopped"
        done = await self._finish(ctx, info, sent, parts, outcome, usage, started, masked)
        done.text = "".join(shown)
        yield done

    async def record_output(
        self,
        ctx: CallContext,
        model_id: str,
        call_id: int,
        messages: list[ChatMessage],
        text: str,
        status: str,
        privacy: dict[str, Any] | None = None,
    ) -> int:
        """Record an output made of calls already recorded (a long text run in parts and put
        back together, or the draft kept when the model failed mid-answer); its id. The
        register gets it like any output, naming the last call."""
        info = self.registry.info(model_id)

        def write() -> int:
            with self._sessions() as session:
                record = record_output(session, ctx, info, call_id, messages, text, status, privacy)
                session.commit()
                return record.id

        return await asyncio.to_thread(write)

    def preview_masking(
        self, session: Session, ctx: CallContext, model_id: str, text: str, scope: str | None
    ) -> tuple[ModelInfo, list[Planned] | None]:
        """What would be masked in `text` for this model (None: the model is cleared, nothing
        would be); the placeholders are those the scope would give, nothing is stored."""
        info = self.authorise(session, ctx, model_id, "chat")
        if cleared_for_personal_data(info):
            return info, None
        from civique.governance.pii import get_detector

        pseudonymiser = Pseudonymiser(
            self.vault, session, ctx.org_id, scope or f"request:{uuid.uuid4().hex}"
        )
        return info, preview(pseudonymiser, text, get_detector(self._settings).detect(text))

    def check_vault(self) -> None:
        """Refuse to start when the vault's keys cannot read its entries (VaultKeyError)."""
        with self._sessions() as session:
            try:
                self.vault.check(session)
            except (OperationalError, ProgrammingError):  # not migrated yet: nothing to read
                session.rollback()

    def prepare_privacy(self) -> bool:
        """Load the personal-data detector ahead of the first call that needs it (spaCy takes
        seconds to load); True when some chat model is not cleared for personal data, on the
        platform or in an organisation. A clearance lowered later loads it on first use."""
        chat = [m for m in self.registry.models() if m.kind == "chat"]
        if all(cleared_for_personal_data(m) for m in chat) and not self._lowered_by_an_org():
            return False
        from civique.governance.pii import get_detector

        get_detector(self._settings).load()
        return True

    def _lowered_by_an_org(self) -> bool:
        """True when some organisation cleared a model below personal data."""
        with self._sessions() as session:
            try:
                found = session.scalar(
                    select(OrgModel.id).where(OrgModel.clearance.in_(BELOW_PERSONAL)).limit(1)
                )
            except (OperationalError, ProgrammingError):  # not migrated yet: nothing lowered
                return False
        return found is not None

    def _mask(
        self,
        ctx: CallContext,
        info: ModelInfo,
        messages: list[ChatMessage],
        privacy: Privacy | None,
    ) -> Masked | None:
        """The messages with personal data replaced, or None when the model is cleared."""
        if cleared_for_personal_data(info):
            return None
        from civique.governance.pii import get_detector  # loads spaCy on first use only

        scope = privacy.scope if privacy else f"request:{uuid.uuid4().hex}"
        masking = privacy.masking if privacy else Masking()
        with self._sessions() as session:
            pseudonymiser = Pseudonymiser(self.vault, session, ctx.org_id, scope)
            try:
                masked = pseudonymiser.mask(messages, get_detector(self._settings).detect, masking)
            except (ImportError, OSError) as exc:  # no detector: send nothing rather than leak
                log.error("personal-data detector unavailable", extra={"error": str(exc)})
                raise GatewayError("privacy_unavailable", info.id) from exc
            session.commit()
        return masked

    async def _finish(
        self,
        ctx: CallContext,
        info: ModelInfo,
        messages: list[ChatMessage],
        parts: list[str],
        outcome: CallOutcome,
        usage: Usage | None,
        started: float,
        masked: Masked | None = None,
    ) -> Completed:
        text = "".join(parts)
        outcome.latency_ms = _ms_since(started)
        outcome.tokens_in = usage.tokens_in if usage else 0
        outcome.tokens_out = usage.tokens_out if usage else len(parts)
        output = text if outcome.status != "error" else None
        privacy: dict[str, Any] = (
            {**masked.summary(), "cleared": False} if masked else {"masked": 0, "cleared": True}
        )
        call_id, output_id = await asyncio.to_thread(
            self._record, ctx, info, "chat", outcome, messages, output, privacy
        )
        return Completed(
            text,
            outcome.status,
            call_id,
            output_id,
            outcome.tokens_in,
            outcome.tokens_out,
            outcome.error,
            usage.finish_reason if usage else "stop",
            privacy,
        )

    async def embed(
        self,
        ctx: CallContext,
        model_id: str,
        inputs: list[str],
        purpose: str = "passage",
        platform: bool = False,
    ) -> EmbeddingResult:
        """Embed texts (`purpose`: passage or query) and record the call.

        `platform`: the document index's model, chosen in the settings for every organisation,
        so the organisation's model list does not apply (classification still does).
        """
        info = await self._checked(ctx, model_id, "embedding", platform)
        provider, native = self.registry.provider_for(model_id)
        started = time.perf_counter()
        try:
            result = await provider.embed(native, inputs, purpose)
        except ProviderError as exc:
            raise await self._failed(ctx, info, "embedding", exc, started) from exc
        outcome = CallOutcome("ok", result.tokens_in, 0, _ms_since(started))
        await asyncio.to_thread(self._record, ctx, info, "embedding", outcome, None, None)
        return result

    async def rerank(
        self,
        ctx: CallContext,
        model_id: str,
        query: str,
        documents: list[str],
        platform: bool = True,
    ) -> list[float]:
        """One relevance score per document, in their order; the call is recorded.

        `platform` (the default): the search's reranker, chosen in the settings like the index's
        embedding model, so the organisation's model list does not apply (classification does).
        """
        info = await self._checked(ctx, model_id, "rerank", platform)
        provider, native = self.registry.provider_for(model_id)
        started = time.perf_counter()
        try:
            scores = await provider.rerank(native, query, documents)
        except ProviderError as exc:
            raise await self._failed(ctx, info, "rerank", exc, started) from exc
        tokens = sum(count_words(text) for text in [query, *documents])
        outcome = CallOutcome("ok", tokens, 0, _ms_since(started))
        await asyncio.to_thread(self._record, ctx, info, "rerank", outcome, None, None)
        return scores

    async def transcribe(
        self, ctx: CallContext, model_id: str, audio: bytes, filename: str, language: str | None
    ) -> str:
        """Transcribe audio and record the call and its output."""
        info = await asyncio.to_thread(self._authorise, ctx, model_id, "transcription")
        provider, native = self.registry.provider_for(model_id)
        started = time.perf_counter()
        try:
            text = await provider.transcribe(native, audio, filename, language)
        except ProviderError as exc:
            raise await self._failed(ctx, info, "transcription", exc, started) from exc
        outcome = CallOutcome("ok", 0, len(text.split()), _ms_since(started))
        source = [ChatMessage("user", f"[audio: {filename}, {len(audio)} bytes]")]
        await asyncio.to_thread(self._record, ctx, info, "transcription", outcome, source, text)
        return text

    async def warm_up(self, messages: list[ChatMessage]) -> list[str]:
        """Have each chat model that keeps prompts in memory read `messages`, a fixed beginning
        of prompts to come; nothing is produced for anyone, so nothing is recorded. Returns the
        models warmed."""
        warmed = []
        for info in self.registry.models():
            provider, native = self.registry.provider_for(info.id)
            warm = getattr(provider, "warm_up", None)
            if info.kind != "chat" or warm is None:
                continue
            try:
                await warm(native, messages)
            except ProviderError as exc:
                log.warning("warm-up failed", extra={"model": info.id, "error": exc.code})
                continue
            warmed.append(info.id)
        return warmed

    async def readiness(self) -> dict[str, bool]:
        """Each provider's readiness."""
        return {p.name: await p.ready() for p in self.registry.providers()}

    async def _checked(
        self, ctx: CallContext, model_id: str, kind: str, platform: bool
    ) -> ModelInfo:
        """The model's checks: a platform model skips the organisation's list, no other check."""
        if platform:
            return self._platform_model(ctx, model_id, kind)
        return await asyncio.to_thread(self._authorise, ctx, model_id, kind)

    async def _failed(
        self, ctx: CallContext, info: ModelInfo, kind: str, exc: ProviderError, started: float
    ) -> GatewayError:
        """Record a call the provider failed; the error to raise."""
        outcome = CallOutcome("error", latency_ms=_ms_since(started), error=exc.code)
        await asyncio.to_thread(self._record, ctx, info, kind, outcome, None, None)
        return GatewayError(exc.code, info.id)

    def _platform_model(self, ctx: CallContext, model_id: str, kind: str) -> ModelInfo:
        try:
            info = self.registry.info(model_id)
        except UnknownModel:
            raise GatewayError("unknown_model", model_id) from None
        if info.kind != kind:
            raise GatewayError("wrong_kind", model_id)
        if _rank(ctx.classification) > _rank(info.classification_ceiling):
            raise GatewayError("classification", model_id)
        return info

    def _authorise(self, ctx: CallContext, model_id: str, kind: str) -> ModelInfo:
        with self._sessions() as session:
            return self.authorise(session, ctx, model_id, kind)

    def _record(
        self,
        ctx: CallContext,
        info: ModelInfo,
        kind: str,
        outcome: CallOutcome,
        messages: list[ChatMessage] | None,
        output: str | None,
        privacy: dict[str, Any] | None = None,
    ) -> tuple[int, int | None]:
        with self._sessions() as session:
            return record_call(
                session, self._settings, ctx, info, kind, outcome, messages, output, privacy
            )


def _rank(classification: str) -> int:
    try:
        return CLASSIFICATION_ORDER.index(classification)
    except ValueError:
        return len(CLASSIFICATION_ORDER)


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
