"""Content-quality report of a collection: near-duplicates, unreadable pages, failures, unused
documents and unanswered questions. Open to those who may add documents to the collection (they
are the ones who can fix what it shows).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from datasketch import MinHash, MinHashLSH
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.documents.index import fold
from civique.documents.models import (
    Chunk,
    CitationUse,
    Collection,
    Document,
    DocumentSection,
    DocumentVersion,
    UnansweredQuestion,
)
from civique.documents.schemas import (
    DocumentRef,
    DuplicatePair,
    FailedVersion,
    PageIssue,
    QualityReport,
    UnansweredItem,
    UnusedDocument,
)
from civique.documents.service import can_write, readable_collection
from civique.errors import Forbidden, stored_message

SIMILARITY = 0.8  # Jaccard similarity from which two documents are reported as near-duplicates
SHINGLE_WORDS = 5
PERMUTATIONS = 128
LITTLE_TEXT_WORDS = 5  # a page or section with fewer words than this is "very little text"
UNANSWERED_LIMIT = 200
_WORD = re.compile(r"\w+", re.UNICODE)


def quality_collection(session: Session, user: User, collection_id: int) -> Collection:
    """The collection, when `user` may add documents to it (read-only readers are refused)."""
    collection = readable_collection(session, user, collection_id)
    if not can_write(session, user, collection):
        raise Forbidden()
    return collection


def report(session: Session, user: User, collection_id: int) -> QualityReport:
    """The quality report of a collection `user` may write to."""
    collection = quality_collection(session, user, collection_id)
    documents = list(
        session.scalars(
            select(Document)
            .where(Document.collection_id == collection.id)
            .order_by(Document.created_at, Document.id)
        )
    )
    refs = {d.id: DocumentRef(id=d.id, title=d.title, filename=d.filename) for d in documents}
    searched = searched_versions(session, collection.id, documents)
    current = list(searched.values())
    return QualityReport(
        collection_id=collection.id,
        documents=len(documents),
        duplicates=near_duplicates(session, current, refs),
        pages=page_issues(session, current, refs),
        failed=failed_versions(session, collection.id, refs),
        unused=unused_documents(session, [d for d in documents if d.id in searched], refs),
        unanswered=unanswered(session, collection.id),
    )


def searched_versions(
    session: Session, collection_id: int, documents: list[Document]
) -> dict[int, int]:
    """Document id → the version search reads: the current one, else the version whose words are
    already indexed while its vectors are computed (search finds it by keyword meanwhile)."""
    versions = {d.id: d.current_version_id for d in documents if d.current_version_id is not None}
    waiting = session.execute(
        select(DocumentVersion.document_id, func.max(DocumentVersion.id))
        .where(
            DocumentVersion.collection_id == collection_id,
            DocumentVersion.status == "embedding",
        )
        .group_by(DocumentVersion.document_id)
    ).all()
    for document_id, version_id in waiting:
        versions.setdefault(document_id, version_id)
    return versions


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """Hashed runs of `size` consecutive words (folded: case and accents do not count)."""
    words = _WORD.findall(fold(text))
    if len(words) < size:
        return {" ".join(words).encode()} if words else set()
    runs = (" ".join(words[i : i + size]) for i in range(len(words) - size + 1))
    # 8 bytes of a hash per shingle: a large document's set stays small in memory.
    return {hashlib.blake2b(r.encode(), digest_size=8).digest() for r in runs}


def _version_texts(session: Session, version_ids: list[int]) -> Iterable[tuple[int, str]]:
    """(document id, text of its current version), one document at a time, in chunk order."""
    for version_id in version_ids:
        rows = session.execute(
            select(Chunk.document_id, Chunk.text)
            .where(Chunk.version_id == version_id)
            .order_by(Chunk.ordinal)
        ).all()
        if rows:
            yield rows[0][0], "\n".join(text for _, text in rows)


def near_duplicates(
    session: Session, version_ids: list[int], refs: dict[int, DocumentRef]
) -> list[DuplicatePair]:
    """Pairs of documents with Jaccard similarity ≥ SIMILARITY, most similar first.

    MinHash LSH proposes candidate pairs without comparing every pair; the exact Jaccard of the
    two shingle sets then decides, so an LSH false positive is never reported.
    """
    lsh = MinHashLSH(threshold=SIMILARITY, num_perm=PERMUTATIONS)
    sets: dict[int, set[bytes]] = {}
    signatures: dict[int, MinHash] = {}
    for document_id, text in _version_texts(session, version_ids):
        found = shingles(text)
        if not found:
            continue
        signature = MinHash(num_perm=PERMUTATIONS)
        signature.update_batch(list(found))
        lsh.insert(document_id, signature)
        sets[document_id], signatures[document_id] = found, signature
    pairs: list[DuplicatePair] = []
    for document_id, signature in signatures.items():
        for other in lsh.query(signature):
            if other <= document_id:
                continue  # each pair once, and never a document with itself
            similarity = jaccard(sets[document_id], sets[other])
            if similarity >= SIMILARITY:
                pairs.append(
                    DuplicatePair(
                        first=refs[document_id], second=refs[other], similarity=similarity
                    )
                )
    return sorted(pairs, key=lambda p: (-p.similarity, p.first.id, p.second.id))


def jaccard(first: set[bytes], second: set[bytes]) -> float:
    """Size of the intersection over size of the union (0 for two empty sets)."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def page_issues(
    session: Session, version_ids: list[int], refs: dict[int, DocumentRef]
) -> list[PageIssue]:
    """Empty pages, pages or sections with very little text, and pages read by OCR."""
    issues: list[PageIssue] = []
    for version_id in version_ids:
        version = session.get(DocumentVersion, version_id)
        if version is None:
            continue
        ref = refs[version.document_id]
        sections = session.execute(
            select(DocumentSection.page, DocumentSection.label, DocumentSection.text)
            .where(DocumentSection.version_id == version_id)
            .order_by(DocumentSection.ordinal)
        ).all()
        words = {ordinal: len(_WORD.findall(text)) for ordinal, (_, _, text) in enumerate(sections)}
        on_page = {page: words[i] for i, (page, _, _) in enumerate(sections) if page is not None}
        if version.media_type == "application/pdf":
            # The parser keeps no section for a page without text: such a page is simply missing.
            for number in range(1, (version.page_count or 0) + 1):
                if number not in on_page:
                    issues.append(_issue(ref, number, None, "empty", 0))
        last = len(sections) - 1
        for ordinal, (page, label, text) in enumerate(sections):
            # A heading alone followed by its subsections is structure, not missing text.
            if words[ordinal] < LITTLE_TEXT_WORDS and not (
                ordinal < last and _heading_only(text, label)
            ):
                issues.append(_issue(ref, page, label, "little_text", words[ordinal]))
        for number in sorted(version.ocr_pages or []):
            issues.append(_issue(ref, number, None, "ocr", on_page.get(number, 0)))
    return issues


def _heading_only(text: str, label: str | None) -> bool:
    return label is not None and _WORD.findall(fold(text)) == _WORD.findall(fold(label))


def _issue(
    ref: DocumentRef, page: int | None, label: str | None, kind: str, words: int
) -> PageIssue:
    return PageIssue(document=ref, page=page, label=label, kind=kind, words=words)


def failed_versions(
    session: Session, collection_id: int, refs: dict[int, DocumentRef]
) -> list[FailedVersion]:
    """Documents whose latest version failed to ingest, with the reason in the user's language."""
    latest = (
        select(DocumentVersion.document_id, func.max(DocumentVersion.number).label("number"))
        .where(DocumentVersion.collection_id == collection_id)
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    rows = session.scalars(
        select(DocumentVersion)
        .join(
            latest,
            (latest.c.document_id == DocumentVersion.document_id)
            & (latest.c.number == DocumentVersion.number),
        )
        .where(DocumentVersion.status == "failed")
        .order_by(DocumentVersion.document_id)
    ).all()
    return [
        FailedVersion(
            document=refs[v.document_id],
            number=v.number,
            error_code=v.error_code or "",
            message=_reason(v.error_code or "", v.error_params or {}),
        )
        for v in rows
        if v.document_id in refs
    ]


def _reason(code: str, params: dict[str, Any]) -> str:
    return stored_message(code, params)


def unused_documents(
    session: Session, documents: list[Document], refs: dict[int, DocumentRef]
) -> list[UnusedDocument]:
    """The searchable `documents` no answer has cited (oldest first: the longest unused)."""
    if not documents:
        return []
    cited = set(
        session.scalars(
            select(CitationUse.document_id)
            .where(CitationUse.document_id.in_([d.id for d in documents]))
            .distinct()
        )
    )
    return [
        UnusedDocument(document=refs[d.id], added_at=d.created_at)
        for d in documents
        if d.id not in cited
    ]


def unanswered(session: Session, collection_id: int) -> list[UnansweredItem]:
    """Questions the collection could not answer, newest first (who asked is not shown)."""
    rows = session.scalars(
        select(UnansweredQuestion)
        .where(UnansweredQuestion.collection_id == collection_id)
        .order_by(UnansweredQuestion.created_at.desc(), UnansweredQuestion.id.desc())
        .limit(UNANSWERED_LIMIT)
    ).all()
    return [UnansweredItem(id=r.id, question=r.question, asked_at=r.created_at) for r in rows]
