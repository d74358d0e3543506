"""Text helpers shared by the checkers: offset-preserving folding, paragraphs, sentences, words."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

_APOSTROPHES = {"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'"}
_SPACES = {"\u00a0", "\u202f", "\u2007", "\u2009"}
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")
# Words: numbers with decimals, or letters joined by apostrophes/hyphens ("aujourd'hui").
WORD_RE = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# Abbreviations after which a full stop does not end the sentence (folded, no final dot).
_NO_BREAK_AFTER = frozenset(
    str.split(
        "m mm mme mmes mlle mlles dr pr me art al cf p pp ex av bd st ste chap vol fig env tel "
        "n no hab min max sq c.-a-d c-a-d"
    )
)


@dataclass(frozen=True)
class Span:
    """A piece of text with its offsets in the whole text and its paragraph index."""

    start: int
    end: int
    text: str
    paragraph: int


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _APOSTROPHES:
        return "'"
    if ch in _SPACES:
        return " "
    base = unicodedata.normalize("NFD", ch)[0]
    if unicodedata.combining(base):
        return ch  # a lone combining mark keeps its place so offsets stay aligned
    low = base.lower()
    return low if len(low) == 1 else base


def fold(text: str) -> str:
    """Lower-case, accents removed, typographic apostrophes and spaces made plain: same length."""
    return "".join(_fold_char(ch) for ch in text)


def paragraphs(text: str) -> list[Span]:
    """The paragraphs of `text` (separated by blank lines), stripped, with their offsets."""
    spans: list[Span] = []
    position = 0
    for separator in [*_BLANK_LINES.finditer(text), None]:
        end = separator.start() if separator else len(text)
        _add_stripped(spans, text, position, end, len(spans))
        if separator:
            position = separator.end()
    return spans


def _add_stripped(spans: list[Span], text: str, start: int, end: int, index: int) -> None:
    chunk = text[start:end]
    left = len(chunk) - len(chunk.lstrip())
    right = len(chunk.rstrip())
    if right > left:
        spans.append(Span(start + left, start + right, chunk[left:right], index))


def paragraph_index(paras: list[Span], offset: int) -> int | None:
    """The index of the paragraph holding `offset` (the previous one if it is between two)."""
    starts = [p.start for p in paras]
    position = bisect_right(starts, offset) - 1
    return paras[position].paragraph if position >= 0 else None


def words(text: str) -> list[re.Match[str]]:
    """Word tokens (numbers count as words) with their offsets."""
    return list(WORD_RE.finditer(text))


_SENTENCE_END = re.compile(r"[.!?…]+[»\"”)\]]*(?=\s|$)|\n(?=\s*(?:[-•*–]|\d+[.)]\s|[A-ZÀ-Ý«]))")


def sentences(text: str) -> list[Span]:
    """Sentences of every paragraph; keeps abbreviations (M., art., n°), decimals, ellipses."""
    result: list[Span] = []
    for para in paragraphs(text):
        start = 0
        for match in _SENTENCE_END.finditer(para.text):
            if not _is_boundary(para.text, match):
                continue
            _add_sentence(result, para, start, match.end())
            start = match.end()
        _add_sentence(result, para, start, len(para.text))
    return result


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Whether a candidate end really ends a sentence (not "M. Dupont", not "… et")."""
    mark = match.group()
    if mark == "\n":
        return True
    following = text[match.end() :].lstrip()
    starts_anew = following[:1].isupper() or following[:1].isdigit() or following[:1] in "«\"-•–"
    if following and not starts_anew:
        return False  # "ellipsis… then lower case" or "etc. et" goes on
    if mark.startswith(".") and len(mark.rstrip("»\"”)]")) == 1:
        before = re.search(r"([\w.-]+)$", text[: match.start()])
        token = fold(before.group(1)) if before else ""
        if token in _NO_BREAK_AFTER or (len(token) == 1 and token.isalpha()):
            return False  # "M. Dupont", "art. 3", the initial in "J. Dupont"
    return True


def _add_sentence(result: list[Span], para: Span, start: int, end: int) -> None:
    chunk = para.text[start:end]
    left = len(chunk) - len(chunk.lstrip())
    right = len(chunk.rstrip())
    if right > left:
        offset = para.start + start
        result.append(Span(offset + left, offset + right, chunk[left:right], para.paragraph))
