"""Translating a document: a DOCX paragraph by paragraph (table cells too) into a new DOCX with
the same paragraphs and styles; an ODT or PDF as its extracted text.

Each non-empty paragraph is one call of the model (a paragraph too long for its context runs
by sentences, as the tool does), so a paragraph can never shift into its neighbour. Each
translated paragraph replaces the text of the paragraph's first run and empties the others:
the paragraph style and the first run's character formatting are kept, formatting that changed
inside a paragraph (one bold word) is not. Bounded: at most `MAX_PARAGRAPHS` paragraphs and
`TEXT_MAX_CHARS` characters, refused beyond, before any call. The run is synchronous.
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from docx import Document as open_docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.db.base import utcnow
from civique.documents import sniff
from civique.documents.parse import ParseLimits, parse
from civique.errors import UserError
from civique.governance import exports
from civique.i18n import gettext
from civique.llm.gateway import Completed, GatewayError, Privacy
from civique.llm.types import ChatMessage, ChatParams
from civique.llm.usage import CallContext
from civique.tools.models import ToolRun
from civique.tools.registry import Tool, ToolContext
from civique.tools.service import ToolRunner, chat_model, parse_inputs, plan_run, tool_context
from civique.tools.translation.tool import MACHINE_TRANSLATION, TEXT_MAX_CHARS, TranslationInput

MAX_BYTES = 10 * 1024 * 1024
MAX_PARAGRAPHS = 80  # about 5 to 15 s each on the embedded model: a bounded synchronous run
ACCEPTED = (sniff.DOCX, sniff.ODT, sniff.PDF)
_LIMITS = ParseLimits(max_bytes=MAX_BYTES, max_pages=200, ocr=False)


@dataclass(frozen=True)
class TranslatedDocument:
    """The result: the output record, and the translated DOCX (None for ODT/PDF, whose text is
    on the output page, or when the output must be validated before it leaves)."""

    output_id: int
    paragraphs: int
    filename: str
    data: bytes | None
    source_kind: str  # docx | text


def check_upload(data: bytes, filename: str) -> str:
    """The file's type by its content (DOCX, ODT or PDF), within the size bound."""
    if len(data) > MAX_BYTES:
        raise UserError("translation_document_too_big", 413, size=len(data), limit=MAX_BYTES)
    if not data.strip():
        raise UserError("translation_document_empty", 422)
    try:
        media_type = sniff.sniff(data, filename, _LIMITS)
    except UserError:
        raise UserError("translation_document_type", 415) from None
    if media_type not in ACCEPTED:
        raise UserError("translation_document_type", 415)
    return media_type


# Reading and writing DOCX paragraphs --------------------------------------------------------------


def docx_paragraphs(document: DocxDocument) -> list[Paragraph]:
    """The body's paragraphs and those of its tables (nested ones too), in reading order."""
    found: list[Paragraph] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            found.extend(_table_paragraphs(block))
        else:
            found.append(block)
    return found


def _table_paragraphs(table: Table) -> Iterator[Paragraph]:
    seen: set[int] = set()
    for row in table.rows:
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column
                continue
            seen.add(id(cell._tc))
            yield from cell.paragraphs
            for inner in cell.tables:
                yield from _table_paragraphs(inner)


def _runs(paragraph: Paragraph) -> list[Run]:
    """Every run of the paragraph, those inside hyperlinks included."""
    return [Run(r, paragraph) for r in paragraph._p.xpath("./w:r | ./w:hyperlink/w:r")]


def replace_text(paragraph: Paragraph, text: str) -> None:
    """The translation in the first run (its formatting kept), the other runs emptied."""
    runs = [r for r in _runs(paragraph) if r.text]
    if not runs:
        paragraph.add_run(text)
        return
    runs[0].text = text
    for run in runs[1:]:
        run.text = ""


def mark(document: DocxDocument, mention: str, language: str) -> None:
    """The machine-translation mention at the top of every header and in the properties."""
    for index, section in enumerate(document.sections):
        header = section.header
        if header.is_linked_to_previous and index > 0:  # shows the previous section's header
            continue
        header.is_linked_to_previous = False
        if header.paragraphs:
            header.paragraphs[0].insert_paragraph_before(mention)
        else:
            header.add_paragraph(mention)
    props = document.core_properties
    props.comments = mention
    props.subject = mention
    props.keywords = ", ".join((gettext("AI-assisted"), gettext("Machine translation"), "Civique"))
    props.language = language


# Running ------------------------------------------------------------------------------------------


@dataclass
class _Job:
    tool: Tool
    inputs: TranslationInput
    context: ToolContext
    model_id: str
    ctx: CallContext
    privacy: Privacy
    messages: list[ChatMessage] = dataclasses.field(default_factory=list)
    last: Completed | None = None


async def _prepare(
    runner: ToolRunner, session: Session, actor: User, raw: Mapping[str, Any]
) -> _Job:
    """The tool (on and allowed), the inputs, the support check and the glossary."""
    from civique.tools.service import usable_tool

    tool = usable_tool(session, actor, runner.registry, "translation")
    inputs = parse_inputs(tool, {**raw, "text": "…"})
    assert isinstance(inputs, TranslationInput)
    context = tool_context(session, actor.org_id, actor)
    assert tool.gather is not None
    context = await tool.gather(inputs, context, runner.gateway)
    model = chat_model(runner.gateway, session, actor)
    template = tool.main_template(inputs)
    ctx = CallContext(
        org_id=actor.org_id,
        user_id=actor.id,
        role=actor.role,
        tool=tool.id,
        prompt_template=template.full_name,
        prompt_template_version=template.version,
    )
    return _Job(tool, inputs, context, model.id, ctx, Privacy(scope=f"tool:{uuid.uuid4().hex}"))


async def _translate(runner: ToolRunner, job: _Job, text: str, number: int, total: int) -> str:
    """One paragraph through the gateway (by sentences if it is too long for one call)."""
    inputs = job.inputs.model_copy(update={"text": text})
    model = runner.gateway.registry.info(job.model_id)
    plan = plan_run(job.tool, inputs, model, job.context)
    pieces = []
    for part in plan.parts:
        job.messages = part.messages
        params = ChatParams(max_tokens=part.max_tokens)
        done: Completed | None = None
        try:
            async for event in runner.gateway.stream_chat(
                job.ctx, job.model_id, part.messages, params, privacy=job.privacy
            ):
                if isinstance(event, Completed):
                    done = event
        except GatewayError as exc:
            raise _failed(number, total, exc.code) from None
        if done is None or done.status != "ok":
            raise _failed(number, total, (done.error if done else None) or "upstream")
        job.last = done
        pieces.append(" ".join(done.text.split()))
    return " ".join(pieces)


def _failed(number: int, total: int, code: str) -> UserError:
    from civique.errors import error_message

    return UserError(
        "translation_document_failed",
        502,
        paragraph=number,
        total=total,
        reason=error_message(UserError(code)),
    )


def _bounded(texts: list[str]) -> None:
    if not texts:
        raise UserError("translation_document_empty", 422)
    if len(texts) > MAX_PARAGRAPHS:
        raise UserError(
            "translation_document_too_long", 413, count=len(texts), limit=MAX_PARAGRAPHS
        )
    if sum(len(t) + 2 for t in texts) > TEXT_MAX_CHARS:
        raise UserError(
            "too_long", 413, length=sum(len(t) + 2 for t in texts), limit=TEXT_MAX_CHARS
        )


async def _translate_all(runner: ToolRunner, job: _Job, texts: list[str]) -> list[str]:
    """Each distinct paragraph once (a repeated cell costs one call), in order."""
    done: dict[str, str] = {}
    for number, text in enumerate(texts, start=1):
        if text not in done:
            done[text] = await _translate(runner, job, text, number, len(texts))
    return [done[t] for t in texts]


async def translate_document(
    runner: ToolRunner,
    session: Session,
    actor: User,
    data: bytes,
    filename: str,
    raw: Mapping[str, Any],
) -> TranslatedDocument:
    """Translate an uploaded document; refused with a clear message before any call when the
    file, the language or the length is not right."""
    media_type = check_upload(data, filename)
    job = await _prepare(runner, session, actor, raw)
    if media_type == sniff.DOCX:
        return await _translate_docx(runner, session, job, data, filename)
    texts = _extracted(data, filename)
    _bounded(texts)
    translated = await _translate_all(runner, job, texts)
    output_id = await _record(runner, session, job, texts, translated)
    return TranslatedDocument(output_id, len(texts), "", None, "text")


def _extracted(data: bytes, filename: str) -> list[str]:
    try:
        parsed = parse(data, filename, _LIMITS)
    except UserError as exc:
        if exc.code in ("doc_no_text", "doc_empty"):
            raise UserError("translation_document_empty", 422) from None
        from civique.errors import error_message

        raise UserError("translation_document_unreadable", 422, reason=error_message(exc)) from None
    texts: list[str] = []
    for section in parsed.sections:
        texts.extend(p.strip() for p in section.text.split("\n\n") if p.strip())
    return texts


async def _translate_docx(
    runner: ToolRunner, session: Session, job: _Job, data: bytes, filename: str
) -> TranslatedDocument:
    try:
        document = open_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a damaged file
        raise UserError("translation_document_unreadable", 422, reason=type(exc).__name__) from None
    paragraphs = [p for p in docx_paragraphs(document) if p.text.strip()]
    texts = [p.text.strip() for p in paragraphs]
    _bounded(texts)
    translated = await _translate_all(runner, job, texts)
    for paragraph, text in zip(paragraphs, translated, strict=True):
        replace_text(paragraph, text)
    output_id = await _record(runner, session, job, texts, translated)
    mention = _mention(runner, job)
    mark(document, mention, job.inputs.target_language)
    out = io.BytesIO()
    document.save(out)
    return TranslatedDocument(
        output_id,
        len(texts),
        _name(filename, job.inputs.target_language),
        _if_exportable(runner, session, output_id, out.getvalue()),
        "docx",
    )


def _mention(runner: ToolRunner, job: _Job) -> str:
    model = runner.gateway.registry.info(job.model_id)
    ai = exports.mention(f"{model.id} {model.version}".strip(), utcnow(), None, None)
    return f"{gettext(MACHINE_TRANSLATION)} {ai}"


def _name(filename: str, language: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:80] or "document"
    return f"{safe}.{language}.docx"


def _if_exportable(
    runner: ToolRunner, session: Session, output_id: int, data: bytes
) -> bytes | None:
    """The file, unless the organisation requires a validation before this tool's outputs leave."""
    from civique.governance.validation import gated
    from civique.llm.models import OutputRecord

    record = session.get(OutputRecord, output_id)
    if record is None or gated(session, runner.settings, record):
        return None
    return data


async def _record(
    runner: ToolRunner, session: Session, job: _Job, texts: list[str], translated: list[str]
) -> int:
    """The whole translation as one output record, with the run the output page reads."""
    assert job.last is not None
    source, text = "\n\n".join(texts), "\n\n".join(translated)
    output_id = await runner.gateway.record_output(
        job.ctx, job.model_id, job.last.call_id, job.messages, text, "ok", job.last.privacy
    )
    inputs = job.inputs.model_copy(update={"text": source})
    session.add(
        ToolRun(
            org_id=job.ctx.org_id,
            user_id=job.ctx.user_id,
            tool=job.tool.id,
            inputs=inputs.model_dump(mode="json"),
            model_id=job.model_id,
            status="ok",
            parts_total=len(texts),
            parts_done=len(texts),
            output_id=output_id,
        )
    )
    session.commit()
    session.expire_all()
    return output_id
