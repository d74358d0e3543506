"""Conversations: ownership checks, messages, and streaming a reply through the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civique.auth.models import User
from civique.chat import grounded
from civique.chat.models import Conversation, Message
from civique.db.base import utcnow
from civique.documents.search import QUERY_LIMIT
from civique.errors import NotFound, UserError
from civique.governance.policy import refuse_if_held
from civique.governance.pseudonymise import Masking
from civique.governance.vault import Vault
from civique.i18n import gettext
from civique.llm.gateway import CallContext, Completed, Gateway, GatewayError, Privacy
from civique.llm.types import CancelToken, ChatMessage, ChatParams, Delta, Queued
from civique.settings import Settings
from civique.textcheck import clean_text

SYSTEM_PROMPT = (
    "Tu es l'assistant de l'administration publique de {org}. Réponds dans la langue de "
    "l'utilisateur, avec précision et sobriété. Si tu ne sais pas, dis-le : n'invente ni fait, "
    "ni loi, ni référence. Tes réponses sont des brouillons qu'un agent vérifiera."
)
PROMPT_TEMPLATE = ("chat.free", "1")
_FLUSH_SECONDS = 1.0
_MARKDOWN_MARKS = re.compile(r"[*_`#>~]+")
_BULLETS = re.compile(r"^\s*(?:[-+•]|\d+[.)])\s+", re.MULTILINE)
VISIBLE = ("done", "stopped", "error", "pending", "streaming", "stopping")


@dataclass(frozen=True)
class StreamEvent:
    """What the web layer forwards to the browser: delta, queued, done or error."""

    kind: str
    text: str = ""
    position: int = 0
    code: str = ""
    citations: tuple[dict[str, Any], ...] = ()
    flags: dict[str, Any] | None = None
    privacy: dict[str, Any] | None = None
    output_id: int | None = None  # the register's output, for the link to its page


@dataclass
class _Job:
    """A reply ready to run: call context, model, prompt, and for grounded ones the question."""

    ctx: CallContext
    model_id: str
    prompt: list[ChatMessage]
    question: str = ""
    collections: list[int] | None = None
    passages: list[grounded.Passage] = field(default_factory=list)
    params: ChatParams = field(default_factory=ChatParams)
    privacy: Privacy | None = None
    previous: str = ""  # the question before, when this one is a short follow-up


def replayed(kind: str, msg: Message, code: str) -> StreamEvent:
    """A finished message as one event, with its citations and what was masked."""
    flags = (msg.grounding or {}).get("flags")
    citations = tuple(msg.citations or ())
    return StreamEvent(
        kind,
        msg.content,
        code=code,
        citations=citations,
        flags=flags,
        privacy=msg.privacy,
        output_id=msg.output_id,
    )


def call_context(user: User, template: tuple[str, str] = PROMPT_TEMPLATE) -> CallContext:
    """Who calls the model for a chat reply, with which prompt template."""
    return CallContext(
        org_id=user.org_id,
        user_id=user.id,
        role=user.role,
        tool="chat",
        prompt_template=template[0],
        prompt_template_version=template[1],
    )


def vault_scope(conv: Conversation) -> str:
    """The vault scope of a conversation: its placeholders are numbered across its turns."""
    return conversation_scope(conv.id)


def conversation_scope(conversation_id: int) -> str:
    """The vault scope of a conversation, from its id."""
    return f"conversation:{conversation_id}"


def masking_of(messages: list[Message]) -> Masking:
    """The agent's corrections of every question so far: a false positive unmasked once stays
    in clear for the conversation, and a text masked by hand stays masked."""
    keep: list[str] = []
    extra: list[str] = []
    for message in messages:
        choices = message.masking or {}
        keep += [k for k in choices.get("keep", []) if k not in keep]
        extra += [e for e in choices.get("extra", []) if e not in extra]
    return Masking(tuple(keep), tuple(extra))


def list_conversations(session: Session, user: User) -> list[Conversation]:
    """The user's own conversations, most recent first."""
    stmt = (
        select(Conversation)
        .where(Conversation.user_id == user.id, Conversation.org_id == user.org_id)
        .order_by(Conversation.updated_at.desc())
    )
    return list(session.scalars(stmt))


def get_conversation(session: Session, user: User, conversation_id: int) -> Conversation:
    """One of the user's conversations; any other is reported as not found."""
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.user_id != user.id or conv.org_id != user.org_id:
        raise NotFound()
    return conv


def get_message(session: Session, user: User, message_id: int) -> tuple[Conversation, Message]:
    """A message of one of the user's conversations."""
    msg = session.get(Message, message_id)
    if msg is None:
        raise NotFound()
    return get_conversation(session, user, msg.conversation_id), msg


def messages_of(session: Session, conv: Conversation) -> list[Message]:
    """Visible messages of a conversation in order."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conv.id, Message.status.in_(VISIBLE))
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def last_collections(messages: list[Message]) -> list[int]:
    """The collections of the latest grounded reply (the picker starts with them)."""
    for msg in reversed(messages):
        if msg.role == "assistant":
            return list((msg.grounding or {}).get("collections") or [])
    return []


def create_conversation(session: Session, user: User, model_id: str) -> Conversation:
    """Start an empty conversation with a model."""
    conv = Conversation(org_id=user.org_id, user_id=user.id, model_id=model_id, title="")
    session.add(conv)
    session.commit()
    return conv


def rename(
    session: Session, settings: Settings, user: User, conversation_id: int, title: str
) -> Conversation:
    """Rename a conversation."""
    conv = get_conversation(session, user, conversation_id)
    conv.title = clean_text(title, settings.max_title_chars)
    session.commit()
    return conv


def delete(session: Session, vault: Vault, user: User, conversation_id: int) -> None:
    """Delete a conversation, its messages and its vault entries (the register keeps the
    pseudonymised records); refused under the organisation's legal hold."""
    conv = get_conversation(session, user, conversation_id)
    refuse_if_held(session, conv.org_id)
    erase_conversations(session, vault, conv.org_id, [conv.id])
    session.commit()


def erase_conversations(
    session: Session, vault: Vault, org_id: int, conversation_ids: list[int]
) -> int:
    """Delete conversations of an organisation with their messages and vault entries, without
    an ownership check (the caller checked, or it is the retention purge); the caller commits.
    Returns the vault entries deleted."""
    scopes = [conversation_scope(conv_id) for conv_id in conversation_ids]
    forgotten = vault.forget_scopes(session, org_id, scopes)
    session.execute(  # messages go with them (ON DELETE CASCADE)
        sql_delete(Conversation).where(
            Conversation.org_id == org_id, Conversation.id.in_(conversation_ids)
        )
    )
    return forgotten


def post_message(
    session: Session,
    settings: Settings,
    user: User,
    conv: Conversation,
    text: str,
    model_id: str,
    collection_ids: list[int] | None = None,
    masking: Masking | None = None,
) -> tuple[Message, Message]:
    """Store the user's message and a pending reply; nothing is lost if the model then fails.

    With collections, the reply will be grounded in their documents (checked readable here).
    `masking`: the agent's corrections from the preview (kept in clear, masked by hand).
    """
    text = clean_text(text, settings.max_message_chars)
    collections = grounded.checked_collections(session, user, collection_ids or [])
    conv.model_id = model_id
    if not conv.title:
        conv.title = _title_from(text, settings.max_title_chars)
    conv.updated_at = utcnow()
    question = Message(conversation_id=conv.id, role="user", content=text, status="done")
    if masking and (masking.keep or masking.extra):
        question.masking = {"keep": list(masking.keep), "extra": list(masking.extra)}
    reply = Message(conversation_id=conv.id, role="assistant", status="pending", model_id=model_id)
    if collections:
        reply.grounding = {"collections": collections}
    session.add_all([question, reply])
    session.commit()
    return question, reply


def regenerate(
    session: Session, user: User, message_id: int, model_id: str | None = None
) -> Message:
    """Replace an assistant reply by a new pending one (the old output stays in the records)."""
    conv, old = get_message(session, user, message_id)
    # "streaming" stays allowed: a server that died mid-answer leaves it so, and the user must be
    # able to ask again; a pending reply is resumed by the page instead.
    if old.role != "assistant" or old.status == "pending":
        raise UserError("forbidden", 409)
    old.status = "superseded"
    reply = Message(
        conversation_id=conv.id,
        role="assistant",
        status="pending",
        model_id=model_id or old.model_id or conv.model_id,
    )
    collections = (old.grounding or {}).get("collections")
    if collections:  # asked again: the same collections, still checked readable
        reply.grounding = {"collections": grounded.readable_ids(session, user, collections)}
    session.add(reply)
    session.commit()
    return reply


def request_stop(session: Session, user: User, message_id: int) -> Message:
    """Ask a running generation to stop; the stream notices within a second."""
    _, msg = get_message(session, user, message_id)
    if msg.status in ("pending", "streaming"):
        msg.status = "stopping"
        session.commit()
    return msg


def prompt_for(
    session: Session, conv: Conversation, reply: Message, org_name: str, context_chars: int
) -> list[ChatMessage]:
    """System prompt plus the latest turns before `reply` that fit the context budget."""
    history = [
        m
        for m in messages_of(session, conv)
        if m.id < reply.id and m.status in ("done", "stopped") and m.content
    ]
    kept: list[ChatMessage] = []
    budget = context_chars
    for m in reversed(history):
        budget -= len(m.content)
        if budget < 0 and kept:
            break
        kept.append(ChatMessage("user" if m.role == "user" else "assistant", m.content))
    kept.reverse()
    return [ChatMessage("system", SYSTEM_PROMPT.format(org=org_name)), *kept]


class ChatStreamer:
    """Runs one reply through the gateway, saving progress so a reload or a crash loses nothing."""

    def __init__(self, sessions: sessionmaker[Session], gateway: Gateway, settings: Settings):
        self._sessions = sessions
        self._gateway = gateway
        self._settings = settings

    async def stream(
        self, user: User, message_id: int, org_name: str
    ) -> AsyncIterator[StreamEvent]:
        """Yield events for a pending reply; a finished one is replayed at once."""
        job = await asyncio.to_thread(self._prepare, user, message_id, org_name)
        if isinstance(job, StreamEvent):
            yield job
            return
        if job.collections is not None:
            job.passages = await self._retrieve(user, job)
            if not job.passages:  # nothing to answer from: say so without calling a model
                result = grounded.not_found_answer()
                await asyncio.to_thread(self._finish_grounded, user, message_id, job, result, None)
                yield StreamEvent("done", result.text, code="done", flags=result.flags())
                return
            job.prompt = grounded.build_prompt(job.passages, job.question, job.previous)
            job.params = grounded.PARAMS
        cancel = CancelToken()
        parts: list[str] = []
        last_flush = time.monotonic()
        completed: Completed | None = None
        refused = False
        try:
            async with contextlib.aclosing(
                self._gateway.stream_chat(
                    job.ctx, job.model_id, job.prompt, job.params, cancel, job.privacy
                )
            ) as events:
                async for event in events:
                    if isinstance(event, Queued):
                        yield StreamEvent("queued", position=event.position)
                    elif isinstance(event, Delta):
                        parts.append(event.text)
                        yield StreamEvent("delta", event.text)
                    elif isinstance(event, Completed):
                        completed = event
                    if time.monotonic() - last_flush >= _FLUSH_SECONDS:
                        last_flush = time.monotonic()
                        if await asyncio.to_thread(self._flush, message_id, "".join(parts)):
                            cancel.cancel()
        except GatewayError as exc:
            refused = True
            await asyncio.to_thread(self._finish, message_id, "", "error", exc.code, None)
            yield StreamEvent("error", code=exc.code)
            return
        finally:
            if completed is None and not refused:  # the browser went away: keep what was generated
                with anyio.CancelScope(shield=True):
                    await asyncio.to_thread(self._keep_partial, user, message_id, job, parts)
        if completed is not None:  # the gateway always ends with Completed; explicit for typing
            yield await self._complete(user, message_id, job, completed)

    async def _complete(
        self, user: User, message_id: int, job: _Job, completed: Completed
    ) -> StreamEvent:
        """Save the finished reply (checking its citations when grounded); the last event."""
        if completed.status == "error":
            await asyncio.to_thread(
                self._finish,
                message_id,
                completed.text,
                "error",
                completed.error,
                completed.output_id,
            )
            return StreamEvent("error", completed.text, code=completed.error or "upstream")
        status = "stopped" if completed.status == "stopped" else "done"
        await asyncio.to_thread(self._keep_privacy, message_id, completed.privacy)
        if job.collections is None:
            await asyncio.to_thread(
                self._finish, message_id, completed.text, status, None, completed.output_id
            )
            return StreamEvent(
                "done",
                completed.text,
                code=status,
                privacy=completed.privacy,
                output_id=completed.output_id,
            )
        result = grounded.verify(completed.text, job.passages, gettext("unverified"))
        await asyncio.to_thread(
            self._finish_grounded, user, message_id, job, result, completed.output_id, status
        )
        citations = tuple(c.as_dict() for c in result.citations)
        flags = result.flags()
        return StreamEvent(
            "done",
            result.text,
            code=status,
            citations=citations,
            flags=flags,
            privacy=completed.privacy,
            output_id=completed.output_id,
        )

    def _keep_privacy(self, message_id: int, privacy: dict[str, Any] | None) -> None:
        """What was masked for this reply (counts and placeholders, no values)."""
        with self._sessions() as session:
            msg = session.get(Message, message_id)
            if msg is not None:
                msg.privacy = privacy
                session.commit()

    async def _retrieve(self, user: User, job: _Job) -> list[grounded.Passage]:
        """The passages of a grounded reply (the search embeds the question via the gateway);
        the call context then names them as the sources the register records."""
        with self._sessions() as session:
            passages = await grounded.retrieve(
                self._gateway,
                session,
                user,
                job.ctx,
                grounded.search_text(job.question, job.previous)[:QUERY_LIMIT],
                job.collections or [],
            )
            job.ctx = dataclasses.replace(job.ctx, sources=grounded.sources_of(session, passages))
            return passages

    def _prepare(self, user: User, message_id: int, org_name: str) -> StreamEvent | _Job:
        with self._sessions() as session:
            conv, msg = get_message(session, user, message_id)
            if msg.role != "assistant":
                raise NotFound()
            if msg.status in ("done", "stopped"):
                return replayed("done", msg, msg.status)
            if msg.status == "error":
                return StreamEvent("error", msg.content, code=msg.error or "upstream")
            if msg.status == "stopping":  # stopped before it started
                msg.status = "stopped"
                session.commit()
                return StreamEvent("done", msg.content, code="stopped")
            if msg.status != "pending":  # already streaming in another tab
                return replayed("done", msg, "stopped")
            msg.status = "streaming"
            session.commit()
            collections = (msg.grounding or {}).get("collections")
            template = grounded.PROMPT_TEMPLATE if collections is not None else PROMPT_TEMPLATE
            ctx = call_context(user, template)
            chars = self._settings.embedded_context_tokens * 2
            prompt = prompt_for(session, conv, msg, org_name, chars)
            question, previous = grounded.follow_up(prompt)
            asked = [m for m in messages_of(session, conv) if m.role == "user" and m.id < msg.id]
            privacy = Privacy(vault_scope(conv), masking_of(asked))
            return _Job(
                ctx,
                msg.model_id or conv.model_id,
                prompt,
                question,
                collections,
                privacy=privacy,
                previous=previous,
            )

    def _keep_partial(self, user: User, message_id: int, job: _Job, parts: list[str]) -> None:
        """Save an interrupted reply; a grounded one is checked like a finished one."""
        if job.collections is None:
            self._finish(message_id, "".join(parts), "stopped", None, None)
            return
        result = grounded.verify("".join(parts), job.passages, gettext("unverified"))
        self._finish_grounded(user, message_id, job, result, None, "stopped")

    def _finish_grounded(
        self,
        user: User,
        message_id: int,
        job: _Job,
        result: grounded.Verification,
        output_id: int | None,
        status: str = "done",
    ) -> None:
        """Save a grounded reply with its citations, and count citations or the unanswered."""
        self._finish(message_id, result.text, status, None, output_id)
        with self._sessions() as session:
            msg = session.get(Message, message_id)
            if msg is None:
                return
            msg.citations = [c.as_dict() for c in result.citations]
            msg.grounding = {"collections": job.collections or [], "flags": result.flags()}
            grounded.record(session, user, job.collections or [], job.question, result, output_id)

    def _flush(self, message_id: int, text: str) -> bool:
        """Save partial text; True when a stop was requested."""
        with self._sessions() as session:
            msg = session.get(Message, message_id)
            if msg is None:
                return True
            stop = msg.status == "stopping"
            msg.content = text
            session.commit()
            return stop

    def _finish(
        self, message_id: int, text: str, status: str, error: str | None, output_id: int | None
    ) -> None:
        with self._sessions() as session:
            msg = session.get(Message, message_id)
            if msg is None:
                return
            msg.content, msg.status, msg.error, msg.output_id = text, status, error, output_id
            conv = session.get(Conversation, msg.conversation_id)
            if conv is not None:
                conv.updated_at = utcnow()
            session.commit()


def _title_from(text: str, limit: int) -> str:
    """A short plain-text title from the first message (Markdown marks and bullets dropped)."""
    plain = _MARKDOWN_MARKS.sub("", text)
    plain = _BULLETS.sub(" ", plain)
    first = " ".join(plain.split()) or " ".join(text.split())
    size = min(limit, 60)
    return first if len(first) <= size else first[: size - 1].rstrip() + "…"
