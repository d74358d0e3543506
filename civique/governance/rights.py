"""Data-subject rights of a user: a ZIP of everything Civique holds about them, and deleting
their conversations (the register keeps its pseudonymised records, as the law requires)."""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import ApiToken, User
from civique.chat.models import Conversation, Message
from civique.chat.service import vault_scope
from civique.documents.models import Document, DocumentVersion
from civique.documents.storage import FileStore
from civique.governance import audit
from civique.governance.models import AuditEntry
from civique.governance.policy import refuse_if_held
from civique.governance.vault import Vault
from civique.lab import feedback as lab_feedback
from civique.llm.models import OutputRecord
from civique.orgs.models import Unit

README = """Vos données dans Civique / Your data in Civique

account.json        votre compte (nom, adresse, rôle, unité) / your account
conversations.json  vos conversations et leurs messages / your conversations and messages
outputs.json        le registre de vos productions assistées par l'IA, tel que le modèle les a
                    vues (données personnelles remplacées par des marqueurs quand le modèle
                    n'était pas habilité) / the register of your AI-assisted outputs
feedback.json       vos avis sur les productions (temps gagné, satisfaction, problèmes) /
                    your feedback on outputs (time saved, satisfaction, problems)
documents.json      les documents que vous avez déposés / the documents you uploaded
files/              leurs fichiers d'origine / their original files
api_tokens.json     vos jetons d'API (sans leur valeur secrète) / your API tokens (no secrets)
activity.json       le journal de vos actions (connexions, administration) / your audit trail
"""
_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class ExportSummary:
    """What the ZIP holds, for the page and the tests."""

    conversations: int
    messages: int
    outputs: int
    files: int
    files_left_out: int


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _write(archive: zipfile.ZipFile, name: str, value: Any) -> None:
    archive.writestr(name, json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _account(session: Session, user: User) -> dict[str, Any]:
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "unit": unit.name if unit else None,
        "created_at": _when(user.created_at),
    }


def _conversations(session: Session, user: User) -> list[dict[str, Any]]:
    conversations = session.scalars(
        select(Conversation).where(Conversation.user_id == user.id).order_by(Conversation.id)
    ).all()
    out = []
    for conv in conversations:
        messages = session.scalars(
            select(Message).where(Message.conversation_id == conv.id).order_by(Message.id)
        ).all()
        out.append(
            {
                "id": conv.id,
                "title": conv.title,
                "model": conv.model_id,
                "created_at": _when(conv.created_at),
                "messages": [_message(m) for m in messages],
            }
        )
    return out


def _message(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "created_at": _when(message.created_at),
        "citations": message.citations,
        "masking": message.masking,
        "privacy": message.privacy,
    }


def _outputs(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(OutputRecord).where(OutputRecord.user_id == user.id).order_by(OutputRecord.id)
    ).all()
    return [
        {
            "id": r.id,
            "created_at": _when(r.created_at),
            "tool": r.tool,
            "model": {"id": r.model_id, "version": r.model_version},
            "prompt_template": {"name": r.prompt_template, "version": r.prompt_template_version},
            "input_as_sent": r.input,
            "output": r.output,
            "validation": r.validation,
            "final_text": r.final_text,
            "sources": r.sources,
            "privacy": r.privacy,
        }
        for r in rows
    ]


def _files(
    session: Session, user: User, store: FileStore, archive: zipfile.ZipFile, budget: int
) -> tuple[list[dict[str, Any]], int, int]:
    """The user's uploads (every version), files included while they fit in `budget` bytes."""
    versions = session.execute(
        select(DocumentVersion, Document.title)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(DocumentVersion.created_by == user.id, Document.org_id == user.org_id)
        .order_by(DocumentVersion.id)
    ).all()
    listed, included, left_out = [], 0, 0
    for version, title in versions:
        name = f"files/{version.document_id}-v{version.number}-{_UNSAFE.sub('_', version.filename)}"
        path = store.path(version.storage_key)
        fits = version.size_bytes <= budget and path.is_file()
        if fits:
            archive.write(path, name)
            budget -= version.size_bytes
            included += 1
        else:
            left_out += 1
        listed.append(
            {
                "document_id": version.document_id,
                "title": title,
                "version": version.number,
                "filename": version.filename,
                "uploaded_at": _when(version.created_at),
                "size_bytes": version.size_bytes,
                "file": name if fits else None,
            }
        )
    return listed, included, left_out


def _tokens(session: Session, user: User) -> list[dict[str, Any]]:
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    return [
        {
            "name": t.name,
            "starts_with": t.prefix,
            "created_at": _when(t.created_at),
            "last_used_at": _when(t.last_used_at),
            "revoked_at": _when(t.revoked_at),
        }
        for t in tokens
    ]


def _activity(session: Session, user: User) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.org_id == user.org_id, AuditEntry.actor_id == user.id)
        .order_by(AuditEntry.seq)
    ).all()
    return [{"at": _when(r.at), "action": r.kind, "details": json.loads(r.payload)} for r in rows]


def export_user_data(
    session: Session, store: FileStore, user: User, target: IO[bytes], max_file_bytes: int
) -> ExportSummary:
    """Write the ZIP of the user's data into `target`; files beyond `max_file_bytes` in all
    are listed (with where to download them) but left out."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LISEZ-MOI.txt", README)
        _write(archive, "account.json", _account(session, user))
        conversations = _conversations(session, user)
        _write(archive, "conversations.json", conversations)
        outputs = _outputs(session, user)
        _write(archive, "outputs.json", outputs)
        _write(archive, "feedback.json", lab_feedback.of_user(session, user))
        documents, included, left_out = _files(session, user, store, archive, max_file_bytes)
        _write(archive, "documents.json", documents)
        _write(archive, "api_tokens.json", _tokens(session, user))
        _write(archive, "activity.json", _activity(session, user))
    messages = sum(len(c["messages"]) for c in conversations)
    summary = ExportSummary(len(conversations), messages, len(outputs), included, left_out)
    audit.record(session, user.org_id, user, "rights.exported", **asdict(summary))
    session.commit()
    return summary


def delete_conversations(session: Session, vault: Vault, user: User) -> int:
    """Delete all of the user's conversations and their vault entries; how many were deleted.
    Refused under the organisation's legal hold."""
    refuse_if_held(session, user.org_id)
    conversations: Iterable[Conversation] = session.scalars(
        select(Conversation).where(Conversation.user_id == user.id)
    ).all()
    count = 0
    for conv in conversations:
        vault.forget_scope(session, conv.org_id, vault_scope(conv))
        session.delete(conv)
        count += 1
    audit.record(session, user.org_id, user, "rights.conversations_deleted", count=count)
    session.commit()
    return count
