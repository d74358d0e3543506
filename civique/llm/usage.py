"""Usage accounting: energy estimates and the rows written for each model call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from civique.governance.register import record_created, unit_of
from civique.llm.models import ModelCall, OutputRecord
from civique.llm.types import ChatMessage, ModelInfo
from civique.settings import Settings


@dataclass(frozen=True)
class CallContext:
    """Who calls a model, from where, for what, with which data."""

    org_id: int
    user_id: int | None
    role: str
    tool: str = "chat"
    channel: str = "web"
    classification: str = "internal"
    prompt_template: str = "chat.free"
    prompt_template_version: str = "1"
    # Passages given to the model (grounded answers): document id, title, version, page.
    sources: tuple[dict[str, Any], ...] = ()


@dataclass
class CallOutcome:
    """What a finished call produced, for the records."""

    status: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    first_token_ms: int | None = None
    error: str | None = None


def energy_wh(settings: Settings, info: ModelInfo, outcome: CallOutcome) -> float:
    """Estimate energy: power × time for the embedded model, Wh per 1k tokens for servers."""
    if info.provider == "fake":
        return 0.0
    if info.provider == "embedded":
        return settings.embedded_watts * outcome.latency_ms / 3_600_000
    per_k = next((p.wh_per_1k_tokens for p in settings.providers if p.name == info.provider), 0.3)
    return per_k * (outcome.tokens_in + outcome.tokens_out) / 1000


def record_call(
    session: Session,
    settings: Settings,
    ctx: CallContext,
    info: ModelInfo,
    kind: str,
    outcome: CallOutcome,
    messages: list[ChatMessage] | None = None,
    output: str | None = None,
    privacy: dict[str, Any] | None = None,
) -> tuple[int, int | None]:
    """Write the usage row, and for produced text the output record and its register entry;
    commit them at once (no output without its register entry)."""
    call = ModelCall(
        org_id=ctx.org_id,
        user_id=ctx.user_id,
        tool=ctx.tool,
        kind=kind,
        model_id=info.id,
        channel=ctx.channel,
        status=outcome.status,
        error=outcome.error,
        tokens_in=outcome.tokens_in,
        tokens_out=outcome.tokens_out,
        latency_ms=outcome.latency_ms,
        first_token_ms=outcome.first_token_ms,
        energy_wh=energy_wh(settings, info, outcome),
    )
    session.add(call)
    session.flush()
    output_id = None
    if output is not None and messages is not None:
        output_id = record_output(
            session, ctx, info, call.id, messages, output, outcome.status, privacy
        ).id
    session.commit()
    return call.id, output_id


def record_output(
    session: Session,
    ctx: CallContext,
    info: ModelInfo,
    call_id: int,
    messages: list[ChatMessage],
    output: str,
    status: str,
    privacy: dict[str, Any] | None = None,
) -> OutputRecord:
    """Write an output record and its register entry (flushed; the caller commits)."""
    record = OutputRecord(
        org_id=ctx.org_id,
        user_id=ctx.user_id,
        call_id=call_id,
        tool=ctx.tool,
        model_id=info.id,
        model_version=info.version,
        prompt_template=ctx.prompt_template,
        prompt_template_version=ctx.prompt_template_version,
        input=[{"role": m.role, "content": m.content} for m in messages],
        output=output,
        status=status,
        unit_id=unit_of(session, ctx.user_id),
        sources=list(ctx.sources) or None,
        privacy=privacy,
        vault_scope=str(privacy["scope"]) if privacy and privacy.get("scope") else None,
    )
    session.add(record)
    session.flush()
    record_created(session, record, ctx.channel, ctx.classification)
    return record
