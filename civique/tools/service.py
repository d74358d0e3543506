"""Running a tool: check the inputs against its schema, fit the text to the model's context
(long texts run in parts, by paragraphs, and put back together; never cut silently), call the
model through the gateway, and keep what was drafted when the model fails midway.

Every function takes the acting user and checks here, not in the routes, that the tool is on in
their organisation and that their role may use it: a tool switched off is a 404, like an
unknown one.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civique.auth.models import User
from civique.auth.roles import can
from civique.errors import NotFound, UserError
from civique.llm.gateway import Completed, Gateway, GatewayError, Privacy
from civique.llm.models import OutputRecord
from civique.llm.types import ChatMessage, ChatParams, Delta, ModelInfo, Queued, count_words
from civique.llm.usage import CallContext
from civique.orgs.models import Organisation
from civique.settings import Settings
from civique.tools import forms, org_settings
from civique.tools.models import ToolRun
from civique.tools.registry import PromptTemplate, Tool, ToolContext, ToolRegistry, UnknownTool

MAX_PARTS = 40  # a text needing more parts is refused: about 60 pages on a 4k-token model
_REPLY_RATIO = 1.5  # a rewrite is about as long as its input; leave room for a longer one
_MIN_REPLY_TOKENS = 256
_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCES = re.compile(r"(?<=[.!?…])\s+")


class InvalidInputs(UserError):
    """The inputs do not fit the tool's schema; `errors` maps each field to why."""

    def __init__(self, errors: dict[str, str], fields: str) -> None:
        super().__init__("tool_invalid_input", 422, fields=fields)
        self.errors = errors


# Which tools a user sees ------------------------------------------------------------------------


def enabled_tools(session: Session, actor: User, registry: ToolRegistry) -> list[Tool]:
    """The tools on in the actor's organisation that their role may use."""
    return [
        s.tool
        for s in org_settings.org_settings(session, actor.org_id, registry)
        if s.enabled and can(actor.role, s.tool.action)
    ]


def usable_tool(session: Session, actor: User, registry: ToolRegistry, tool_id: str) -> Tool:
    """A tool the actor may run; 404 when unknown, switched off or not for their role."""
    try:
        setting = org_settings.setting_of(session, actor.org_id, tool_id, registry)
    except UnknownTool:
        raise NotFound() from None
    if not setting.enabled or not can(actor.role, setting.tool.action):
        raise NotFound()
    return setting.tool


def form_fields(
    session: Session, actor: User, tool: Tool, values: Mapping[str, Any] | None = None
) -> list[forms.FormField]:
    """The tool's form fields, with the options only known in this organisation and for this
    user (a tool's `choices` and `subfields` hooks; `values` are those typed so far)."""
    fields = forms.fields_of(tool.input_model)
    if tool.choices is None and tool.subfields is None:
        return fields
    context = tool_context(session, actor.org_id, actor)
    typed = values or {}
    return forms.resolve(
        fields,
        lambda source: tool.choices(source, context) if tool.choices else [],
        lambda source: tool.subfields(source, typed, context) if tool.subfields else [],
    )


def parse_inputs(tool: Tool, raw: Mapping[str, Any]) -> BaseModel:
    """The inputs as the tool's model, or `InvalidInputs` naming every refused field."""
    try:
        return tool.input_model.model_validate(dict(raw))
    except ValidationError as exc:
        errors = forms.field_errors(tool.input_model, exc)
        raise InvalidInputs(errors, forms.labelled(tool.input_model, errors)) from None


def chat_model(gateway: Gateway, session: Session, actor: User) -> ModelInfo:
    """The organisation's default chat model for the actor's role."""
    models = gateway.allowed_models(session, actor.org_id, actor.role, "chat")
    if not models:
        raise UserError("no_model", 409)
    return models[0]


# Fitting the text to the model's context ---------------------------------------------------------


def estimate_tokens(text: str) -> int:
    """A cautious token count: French averages 3 to 4 characters per token."""
    return max(count_words(text), math.ceil(len(text) / 3))


@dataclass(frozen=True)
class Part:
    """One call of a run: its messages and how long its answer may be."""

    messages: list[ChatMessage]
    max_tokens: int


@dataclass(frozen=True)
class Plan:
    """A run ready to start."""

    tool: Tool
    inputs: BaseModel
    model: ModelInfo
    template: PromptTemplate
    parts: list[Part]
    context: ToolContext


def _prompt_tokens(messages: list[ChatMessage]) -> int:
    return sum(estimate_tokens(m.content) + 8 for m in messages)


def _part(tool: Tool, inputs: BaseModel, context: ToolContext, model: ModelInfo) -> Part | None:
    """The call for these inputs, or None when prompt and answer would not fit the context."""
    messages = tool.build_messages(inputs, context, tool)
    prompt = _prompt_tokens(messages)
    text = str(getattr(inputs, tool.split_field, "")) if tool.split_field else ""
    least = max(_MIN_REPLY_TOKENS, tool.min_reply_tokens)
    reply = max(least, math.ceil(estimate_tokens(text) * _REPLY_RATIO))
    if prompt + reply > model.context_tokens:
        return None
    return Part(messages, min(reply * 2, model.context_tokens - prompt))


def plan_run(tool: Tool, inputs: BaseModel, model: ModelInfo, context: ToolContext) -> Plan:
    """The calls of a run: one when it fits, else one per group of paragraphs of the tool's
    long text; refused with the limit when a paragraph alone is too long or parts too many."""
    template = tool.main_template(inputs)
    whole = _part(tool, inputs, context, model)
    if whole is not None:
        return Plan(tool, inputs, model, template, [whole], context)
    if tool.split_field is None:
        raise UserError("tool_too_long", limit=_words_limit(tool, inputs, context, model))
    chunks = _chunks(tool, inputs, context, model)
    parts = []
    for chunk in chunks:
        part = _part(tool, _with_text(tool, inputs, chunk), context, model)
        assert part is not None  # _chunks only groups what fits
        parts.append(part)
    return Plan(tool, inputs, model, template, parts, context)


def _with_text(tool: Tool, inputs: BaseModel, text: str) -> BaseModel:
    assert tool.split_field is not None
    return inputs.model_copy(update={tool.split_field: text})


def _fits(tool: Tool, inputs: BaseModel, context: ToolContext, model: ModelInfo, text: str) -> bool:
    return _part(tool, _with_text(tool, inputs, text), context, model) is not None


def _units(text: str) -> list[tuple[str, str]]:
    """The text's paragraphs, each with the separator that follows it when put back."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
    return [(p, "\n\n") for p in paragraphs]


def _chunks(tool: Tool, inputs: BaseModel, context: ToolContext, model: ModelInfo) -> list[str]:
    """Consecutive paragraphs grouped as long as each group fits; a paragraph too long alone
    is split by sentences, and a sentence too long alone is refused."""
    text = str(getattr(inputs, str(tool.split_field)))
    chunks: list[str] = []
    current = ""
    for number, (paragraph, _sep) in enumerate(_units(text), start=1):
        pieces = [paragraph]
        if not _fits(tool, inputs, context, model, paragraph):
            pieces = _sentences(tool, inputs, context, model, paragraph, number)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if current and not _fits(tool, inputs, context, model, candidate):
                chunks.append(current)
                candidate = piece
            current = candidate
    if current:
        chunks.append(current)
    if len(chunks) > MAX_PARTS:
        raise UserError("tool_too_many_parts", parts=len(chunks), limit=MAX_PARTS)
    return chunks


def _sentences(
    tool: Tool, inputs: BaseModel, context: ToolContext, model: ModelInfo, text: str, number: int
) -> list[str]:
    pieces: list[str] = []
    for sentence in _SENTENCES.split(text):
        if not _fits(tool, inputs, context, model, sentence):
            raise UserError(
                "tool_paragraph_too_long",
                paragraph=number,
                limit=_words_limit(tool, inputs, context, model),
            )
        if pieces and _fits(tool, inputs, context, model, f"{pieces[-1]} {sentence}"):
            pieces[-1] = f"{pieces[-1]} {sentence}"
        else:
            pieces.append(sentence)
    return pieces


def _words_limit(tool: Tool, inputs: BaseModel, context: ToolContext, model: ModelInfo) -> int:
    """About how many words of text one call of this model takes, for the refusal message."""
    empty = _with_text(tool, inputs, "") if tool.split_field else inputs
    overhead = _prompt_tokens(tool.build_messages(empty, context, tool))
    tokens = max(0, model.context_tokens - overhead) / (1 + _REPLY_RATIO)
    return max(0, int(tokens / 1.3 * 0.75))


# Running ------------------------------------------------------------------------------------------


@dataclass
class RunEvent:
    """What a run streams: part (a new part starts), delta, queued, then done or error."""

    kind: str
    text: str = ""
    part: int = 0
    parts: int = 0
    position: int = 0
    output_id: int | None = None
    status: str = ""
    code: str = ""


@dataclass
class _Progress:
    done: list[Completed] = field(default_factory=list)
    messages: list[ChatMessage] = field(default_factory=list)
    error: str | None = None


class ToolRunner:
    """Runs plans through the gateway with its own sessions (a stream outlives its request)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        gateway: Gateway,
        settings: Settings,
        registry: ToolRegistry,
    ) -> None:
        self.sessions, self.gateway = sessions, gateway
        self.settings, self.registry = settings, registry

    async def prepare(
        self, session: Session, actor: User, tool_id: str, raw: Mapping[str, Any]
    ) -> Plan:
        """Check the tool and the inputs, gather what the tool looks up, check the length;
        no model writes and nothing is stored yet."""
        tool = usable_tool(session, actor, self.registry, tool_id)
        inputs = parse_inputs(tool, raw)
        context = tool_context(session, actor.org_id, actor)
        if tool.gather is not None:
            context = await tool.gather(inputs, context, self.gateway)
        return plan_run(tool, inputs, chat_model(self.gateway, session, actor), context)

    async def prepare_again(
        self, session: Session, actor: User, output_id: int
    ) -> tuple[Plan, int]:
        """The plan regenerating one's own tool output with the same inputs."""
        from civique.governance.validation import own

        record = own(session, actor, output_id)
        run = run_of(session, record)
        if run is None:
            raise UserError("tool_not_a_tool_output", 409)
        return await self.prepare(session, actor, run.tool, run.inputs), record.id

    async def run(
        self, actor: User, plan: Plan, previous_id: int | None = None, channel: str = "web"
    ) -> AsyncIterator[RunEvent]:
        """Stream the run's parts one after the other; ends with `done` or `error`."""
        ctx = CallContext(
            org_id=actor.org_id,
            user_id=actor.id,
            role=actor.role,
            tool=plan.tool.id,
            channel=channel,
            prompt_template=plan.template.full_name,
            prompt_template_version=plan.template.version,
            sources=plan.context.sources,
        )
        privacy = Privacy(scope=f"tool:{uuid.uuid4().hex}")  # one set of placeholders per run
        progress = _Progress()
        total = len(plan.parts)
        for index, part in enumerate(plan.parts, start=1):
            yield RunEvent("part", part=index, parts=total)
            progress.messages.extend(part.messages)
            params = ChatParams(max_tokens=part.max_tokens)
            try:
                async for event in self.gateway.stream_chat(
                    ctx, plan.model.id, part.messages, params, privacy=privacy
                ):
                    if isinstance(event, Delta):
                        yield RunEvent("delta", event.text, part=index, parts=total)
                    elif isinstance(event, Queued):
                        yield RunEvent("queued", position=event.position)
                    else:
                        progress.done.append(event)
            except GatewayError as exc:
                progress.error = exc.code
                break
            if progress.done[-1].status != "ok":
                progress.error = progress.done[-1].error or progress.done[-1].status
                break
        yield await self._finish(actor, plan, ctx, progress, previous_id)

    async def _finish(
        self,
        actor: User,
        plan: Plan,
        ctx: CallContext,
        progress: _Progress,
        previous_id: int | None,
    ) -> RunEvent:
        """Record the run and the output it leaves (assembled when it took several calls)."""
        total, done = len(plan.parts), progress.done
        complete = progress.error is None and len(done) == total
        output_id = done[0].output_id if complete and total == 1 else None
        status = "ok" if complete else "partial"
        if output_id is None and done:
            text = "\n\n".join(t.strip() for t in self._texts(done) if t.strip())
            if text:
                output_id = await self.gateway.record_output(
                    ctx,
                    plan.model.id,
                    done[-1].call_id,
                    progress.messages,
                    text,
                    status,
                    done[-1].privacy,
                )
        run_status = status if output_id is not None else "error"
        with self.sessions() as session:
            run = ToolRun(
                org_id=actor.org_id,
                user_id=actor.id,
                tool=plan.tool.id,
                inputs=plan.inputs.model_dump(mode="json"),
                model_id=plan.model.id,
                status=run_status,
                error=progress.error,
                parts_total=total,
                parts_done=sum(1 for c in done if c.status == "ok"),
                output_id=output_id,
                previous_output_id=previous_id,
                part_output_ids=[c.output_id for c in done if c.output_id] if total > 1 else None,
            )
            session.add(run)
            session.commit()
        if output_id is None:
            return RunEvent("error", code=progress.error or "upstream")
        return RunEvent("done", output_id=output_id, status=run_status, code=progress.error or "")

    def _texts(self, done: list[Completed]) -> list[str]:
        """The parts' texts to put together. For a model not cleared for personal data, the
        records' texts (with placeholders, as the model saw them): the restored texts must not
        be stored, and a part cut short has no record, so it is left out."""
        privacy = done[-1].privacy or {}
        if privacy.get("cleared", True):
            return [c.text for c in done]
        with self.sessions() as session:
            return [
                record.output
                for c in done
                if c.output_id and (record := session.get(OutputRecord, c.output_id))
            ]

    async def run_to_end(
        self, actor: User, plan: Plan, previous_id: int | None = None, channel: str = "web"
    ) -> RunEvent:
        """Run without streaming; the last event (done or error)."""
        last = RunEvent("error", code="upstream")
        async for event in self.run(actor, plan, previous_id, channel):
            last = event
        return last


def tool_context(session: Session, org_id: int, actor: User | None = None) -> ToolContext:
    """The context tools' hooks get for this organisation (and acting user)."""
    org = session.get(Organisation, org_id)
    return ToolContext(
        org_name=org.name if org else "", org_id=org_id, session=session, actor=actor
    )


def run_of(session: Session, record: OutputRecord) -> ToolRun | None:
    """The run that produced this output (same organisation), if a tool made it."""
    return session.scalar(
        select(ToolRun)
        .where(ToolRun.org_id == record.org_id, ToolRun.output_id == record.id)
        .order_by(ToolRun.id.desc())
        .limit(1)
    )
