"""Structure-aware chunking: pieces of about `target` characters that keep their exact position.

A chunk never crosses a page or section boundary, except that consecutive tiny sections on the
same page are merged (a heading alone is not worth a chunk). Splits fall at paragraph, then
sentence, then line, then word boundaries, never inside a word; consecutive chunks of one section
overlap by about `overlap` characters, starting the overlap at a sentence (or word) start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from civique.documents.types import Section

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE = re.compile(r"(?<=[.!?…:;])[\"'»”)\]]*\s+")
_LINE = re.compile(r"\n\s*")
_SPACE = re.compile(r"\s+")
# Boundary kinds, best first: a cut lands on the best kind found in the second half of the window.
_BOUNDARIES = (_PARAGRAPH, _SENTENCE, _LINE, _SPACE)


@dataclass(frozen=True)
class ChunkOptions:
    """Chunk sizes, in characters."""

    target: int = 900
    overlap: int = 150
    min_section: int = 200  # sections shorter than this merge with their neighbours on a page


@dataclass(frozen=True)
class Chunk:
    """A piece of a document; `sections[section].text[start:end] == text` for one-section chunks.

    A chunk made of merged tiny sections runs from `start` in section `section` to `end` in
    section `end_section`, and its text joins those sections with a blank line.
    """

    text: str
    page: int | None
    label: str | None
    start: int
    end: int
    section: int
    end_section: int


def chunk_sections(sections: list[Section], options: ChunkOptions | None = None) -> list[Chunk]:
    """Cut the sections of a parsed document into overlapping, position-keeping chunks."""
    options = options or ChunkOptions()
    if options.overlap >= options.target // 2:
        raise ValueError("overlap must be less than half the target size")
    chunks: list[Chunk] = []
    pending: list[int] = []  # tiny sections of one page waiting to join the next chunk
    for index, section in enumerate(sections):
        if pending and sections[pending[0]].page != section.page:
            chunks.append(_merged(sections, pending))
            pending = []
        size = sum(len(sections[i].text) + 2 for i in pending)
        if len(section.text) < options.min_section:
            if size + len(section.text) > options.target:
                chunks.append(_merged(sections, pending))
                pending = []
            pending.append(index)
            continue
        if size > options.target // 3:
            chunks.append(_merged(sections, pending))
            pending = []
        chunks.extend(_split(sections, pending, index, options))
        pending = []
    if pending:
        chunks.append(_merged(sections, pending))
    return chunks


def _merged(sections: list[Section], indexes: list[int]) -> Chunk:
    """One chunk for consecutive tiny sections of one page."""
    group = [sections[i] for i in indexes]
    label = next((s.label for s in group if s.label), None)
    return Chunk(text="\n\n".join(s.text for s in group), page=group[0].page, label=label,
                 start=0, end=len(group[-1].text), section=indexes[0], end_section=indexes[-1])


def _split(sections: list[Section], prefix: list[int], index: int,
           options: ChunkOptions) -> list[Chunk]:
    """Split one section at natural boundaries, with overlap; tiny `prefix` sections lead."""
    section = sections[index]
    text = section.text
    head = "\n\n".join(sections[i].text for i in prefix)
    target = options.target - (len(head) + 2 if head else 0)
    chunks = []
    start = _skip_space(text, 0)
    while start < len(text):
        end = _cut(text, start, target)
        target = options.target
        trimmed = end
        while trimmed > start and text[trimmed - 1].isspace():
            trimmed -= 1
        chunks.append(Chunk(text=text[start:trimmed], page=section.page, label=section.label,
                            start=start, end=trimmed, section=index, end_section=index))
        if end >= len(text):
            break
        start = _next_start(text, start, end, options.overlap)
    if head and chunks:
        first = chunks[0]
        label = next((sections[i].label for i in prefix if sections[i].label), first.label)
        chunks[0] = Chunk(text=f"{head}\n\n{first.text}", page=first.page, label=label,
                          start=0, end=first.end, section=prefix[0], end_section=index)
    return chunks


def _skip_space(text: str, position: int) -> int:
    """The first non-space position at or after `position`."""
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _cut(text: str, start: int, target: int) -> int:
    """End of the chunk starting at `start`: the best boundary in the window's second half."""
    if len(text) - start <= target:
        return len(text)
    window = text[start:start + target + 1]
    for boundary in _BOUNDARIES:
        ends = [m.start() for m in boundary.finditer(window) if m.start() >= target // 2]
        if ends:
            return start + ends[-1]
    # One "word" longer than half the target (a URL, a data dump): a hard cut cannot be avoided.
    return start + target


def _next_start(text: str, start: int, end: int, overlap: int) -> int:
    """Where the next chunk starts: about `overlap` before `end`, at a sentence or word start."""
    earliest = max(start + 1, end - overlap)
    for boundary in (_SENTENCE, _SPACE):
        match = boundary.search(text, earliest, end)
        if match is not None and match.end() < end:
            return match.end()
    return _skip_space(text, end)
