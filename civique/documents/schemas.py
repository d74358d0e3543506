"""What the collection pages and the API show of a collection."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class CollectionSummary(BaseModel):
    """A readable collection with its owner, target and the viewer's right on it."""

    id: int
    name: str
    description: str
    scope: str
    owner_name: str | None
    target_name: str | None  # the team or unit of a team or unit collection
    right: str  # "read" | "write" | "manage"
    created_at: datetime


class ShareSummary(BaseModel):
    """A share of a collection with a team or a unit."""

    id: int
    kind: str  # "team" | "unit"
    target_id: int
    target_name: str
    right: str


class SearchQuery(BaseModel):
    """A search through the API: words, and optional narrowing by collection, type and date."""

    query: str
    collection_ids: list[int] = Field(default_factory=list, max_length=200)
    media_types: list[str] = Field(default_factory=list, max_length=20)
    since: date | None = None
    until: date | None = None
    limit: int = Field(10, ge=1, le=50)


class SearchHit(BaseModel):
    """One passage found, where it comes from, and the link to see it in its document."""

    chunk_id: int
    document_id: int
    title: str
    filename: str
    media_type: str
    collection_id: int
    collection_name: str
    page: int | None
    label: str | None
    text: str
    score: float
    source_url: str
    rerank_score: float | None = None


class DocumentRef(BaseModel):
    """A document named in the quality report."""

    id: int
    title: str
    filename: str


class DuplicatePair(BaseModel):
    """Two documents whose texts are nearly the same (Jaccard similarity of word shingles)."""

    first: DocumentRef
    second: DocumentRef
    similarity: float


class PageIssue(BaseModel):
    """A page or section with no or very little text, or whose text came from OCR."""

    document: DocumentRef
    page: int | None
    label: str | None
    kind: str  # "empty" | "little_text" | "ocr"
    words: int


class FailedVersion(BaseModel):
    """The latest version of a document, which could not be ingested, and why."""

    document: DocumentRef
    number: int
    error_code: str
    message: str


class UnusedDocument(BaseModel):
    """A searchable document no answer has cited yet."""

    document: DocumentRef
    added_at: datetime


class UnansweredItem(BaseModel):
    """A question asked of the collection that its documents could not answer."""

    id: int
    question: str
    asked_at: datetime


class QualityReport(BaseModel):
    """What needs attention in a collection's content."""

    collection_id: int
    documents: int
    duplicates: list[DuplicatePair]
    pages: list[PageIssue]
    failed: list[FailedVersion]
    unused: list[UnusedDocument]
    unanswered: list[UnansweredItem]


class UploadOutcome(BaseModel):
    """What happened to one uploaded file (a ZIP member counts as a file)."""

    filename: str
    status: str  # "queued" | "duplicate" | "refused"
    document_id: int | None = None
    version: int | None = None
    error_code: str | None = None
    message: str | None = None  # why it was refused, or which document it duplicates


class VersionSummary(BaseModel):
    """One version of a document and how far its ingestion went."""

    number: int
    filename: str
    status: str  # queued | parsing | embedding | ready | failed | superseded | cancelled
    media_type: str
    size_bytes: int
    created_at: datetime
    created_by: str | None
    progress_done: int
    progress_total: int
    page_count: int | None
    language: str | None
    ocr_pages: list[int]
    error_code: str | None
    error_message: str | None
    notices: list[str]
    searchable: bool  # the version search and chat use


class DocumentSummary(BaseModel):
    """A document with the state of its newest version."""

    id: int
    collection_id: int
    title: str
    filename: str
    updated_at: datetime
    latest: VersionSummary
    searchable_version: int | None  # number of the version search uses, None until one is ready


class DocumentDetail(DocumentSummary):
    """A document with every version, newest first."""

    versions: list[VersionSummary]


class UploadResult(BaseModel):
    """The outcome of every file of an upload, in order, and how many had each outcome."""

    object: str = "list"
    data: list[UploadOutcome]
    queued: int
    duplicate: int
    refused: int


class DocumentList(BaseModel):
    """The documents of a collection, newest first."""

    object: str = "list"
    data: list[DocumentSummary]


class DeletedDocument(BaseModel):
    """What the API answers when a document was deleted."""

    id: int
    object: str = "document"
    deleted: bool = True
