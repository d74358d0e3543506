"""The search index: keyword and vector lookups, restricted inside the query to allowed collections.

SQLite: FTS5 (accents folded) + sqlite-vec `vec0`; PostgreSQL: tsvector (`french` + unaccent) +
pgvector HNSW. The vector table's dimension comes from the embedding model that filled it first;
`index_settings` remembers which model that was, so a query is never compared with vectors of
another model.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civique.documents.models import IndexSetting
from civique.errors import UserError

STOPWORDS = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "cet",
        "cette",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "est",
        "et",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "lui",
        "ma",
        "mais",
        "me",
        "mes",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "où",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "l",
        "d",
        "j",
        "m",
        "n",
        "s",
        "t",
        "c",
        "qu",
        "est-ce",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "comment",
        "combien",
        "quand",
        "faut",
        "peut",
        "dois",
        "doit",
        "puis-je",
        "the",
        "of",
        "to",
        "and",
        "in",
        "is",
        "what",
        "how",
        "do",
        "does",
        "can",
        "i",
    ]
)
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Filters:
    """Optional narrowing of a search: documents of one type, uploaded within dates."""

    media_types: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    document_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class IndexRow:
    """What the index stores for one chunk besides its text."""

    chunk_id: int
    collection_id: int
    document_id: int
    media_type: str
    day: int  # upload date as YYYYMMDD, for date filters inside vector queries


class IndexBackend(Protocol):
    """One database's keyword and vector index."""

    def add_texts(self, session: Session, rows: list[tuple[IndexRow, str]]) -> None:
        """Index chunk texts for keyword search."""

    def add_vectors(self, session: Session, rows: list[tuple[IndexRow, list[float]]]) -> None:
        """Store chunk vectors (the table is created at the first vectors' dimension)."""

    def remove_versions(self, session: Session, version_ids: list[int]) -> None:
        """Forget the chunks of these versions (before their rows are deleted)."""

    def drop_vectors(self, session: Session) -> None:
        """Drop the vector table (before re-embedding everything with another model)."""

    def keyword(
        self,
        session: Session,
        query: str,
        allowed: Select[int],
        filters: Filters,
        limit: int,
    ) -> list[int]:
        """Chunk ids best matching the words of `query`, best first."""

    def nearest(
        self,
        session: Session,
        vector: list[float],
        allowed: Select[int],
        filters: Filters,
        limit: int,
    ) -> list[int]:
        """Chunk ids nearest to `vector`, best first."""


def allowed_sql(session: Session, allowed: Select[int]) -> str:
    """The access-rule subquery as SQL text for the index's hand-written queries; its values are
    ids and scope names computed by the server, never user input."""
    return str(allowed.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))


def fold(text: str) -> str:
    """Lower case without accents (the index folds them the same way)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_terms(query: str, limit: int = 24) -> list[str]:
    """Content words of a question, folded, without stop words, at most `limit` distinct."""
    seen: list[str] = []
    for word in _WORD.findall(fold(query)):
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()) or word in seen:
            continue
        seen.append(word)
    return seen[:limit]


def light_stem(term: str) -> str:
    """A French-friendly prefix (plural and common endings dropped) for prefix matching."""
    if term.isdigit() or len(term) <= 4:
        return term
    for ending in (
        "ements",
        "ement",
        "ations",
        "ation",
        "euses",
        "euse",
        "eurs",
        "eur",
        "ees",
        "es",
        "s",
        "x",
        "e",
    ):
        if term.endswith(ending) and len(term) - len(ending) >= 4:
            return term[: -len(ending)]
    return term


def unit(vector: list[float]) -> list[float]:
    """The vector scaled to length 1 (inner product is then cosine similarity)."""
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def check_model(session: Session, model_id: str, dimension: int) -> None:
    """Remember the embedding model of the index, or refuse vectors of another one."""
    rows = {r.key: r.value for r in session.scalars(select(IndexSetting)).all()}
    if not rows:
        session.add(IndexSetting(key="embedding_model", value=model_id))
        session.add(IndexSetting(key="dimension", value=str(dimension)))
        session.flush()
        return
    if rows.get("embedding_model") != model_id or rows.get("dimension") != str(dimension):
        raise UserError(
            "index_model_mismatch", model=rows.get("embedding_model", ""), wanted=model_id
        )


def index_model(session: Session) -> tuple[str, int] | None:
    """The embedding model and dimension the index was built with, if any vectors exist."""
    rows = {r.key: r.value for r in session.scalars(select(IndexSetting)).all()}
    if "embedding_model" not in rows:
        return None
    return rows["embedding_model"], int(rows["dimension"])


def backend_for(session: Session) -> IndexBackend:
    """The index of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        from civique.documents.index_pg import PostgresIndex

        return PostgresIndex()
    from civique.documents.index_sqlite import SqliteIndex

    return SqliteIndex()
