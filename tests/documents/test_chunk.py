"""Chunking: sizes, overlap, boundaries, and exact positions on real French text."""

from __future__ import annotations

import itertools
import re
import zipfile
from pathlib import Path

import pytest

from civique.documents.chunk import Chunk, ChunkOptions, chunk_sections
from civique.documents.parse import ParseLimits, parse
from civique.documents.types import Section
from tests.documents import files

FICHES = Path(__file__).resolve().parents[3] / "shared" / "data" / "service_public_fiches" / (
    "service_public_fr_fiches_txt_v2.zip")
OPTIONS = ChunkOptions()


def fiche(name_part: str) -> str:
    """The text of one service-public.fr fiche from the shared corpus."""
    with zipfile.ZipFile(FICHES) as archive:
        name = next(n for n in archive.namelist() if name_part in n)
        return archive.read(name).decode("utf-8")


def longest_fiches(count: int) -> list[str]:
    """The `count` longest fiches of the corpus (the most splitting to do)."""
    with zipfile.ZipFile(FICHES) as archive:
        infos = sorted((i for i in archive.infolist() if not i.is_dir()),
                       key=lambda i: i.file_size, reverse=True)[:count]
        return [archive.read(info).decode("utf-8") for info in infos]


def check_positions(sections: list[Section], chunks: list[Chunk]) -> None:
    """Every one-section chunk's text is exactly its section's text between its offsets."""
    for chunk in chunks:
        if chunk.section == chunk.end_section:
            assert sections[chunk.section].text[chunk.start:chunk.end] == chunk.text
            assert chunk.page == sections[chunk.section].page
        assert chunk.text == chunk.text.strip() and chunk.text


def no_mid_word_cut(section: str, chunk: Chunk) -> bool:
    """The chunk starts and ends at word boundaries of its section."""
    before_ok = chunk.start == 0 or not (section[chunk.start - 1].isalnum()
                                         and section[chunk.start].isalnum())
    after_ok = chunk.end == len(section) or not (section[chunk.end - 1].isalnum()
                                                 and section[chunk.end].isalnum())
    return before_ok and after_ok


@pytest.mark.skipif(not FICHES.exists(), reason="shared French corpus not present")
def test_real_fiches_chunk_with_positions_sizes_and_overlap() -> None:
    texts = longest_fiches(3)
    sections = [Section(text=parse(t.encode(), "fiche.txt", ParseLimits()).sections[0].text,
                        label=f"fiche {n}") for n, t in enumerate(texts)]
    chunks = chunk_sections(sections, OPTIONS)
    check_positions(sections, chunks)
    for index, section in enumerate(sections):
        own = [c for c in chunks if c.section == index]
        assert len(own) >= len(section.text) // OPTIONS.target
        assert all(len(c.text) <= OPTIONS.target for c in own)
        assert all(len(c.text) >= OPTIONS.target // 2 - 1 for c in own[:-1])
        assert all(no_mid_word_cut(section.text, c) for c in own)
        for previous, following in itertools.pairwise(own):
            assert following.start < previous.end, "consecutive chunks must overlap"
            assert previous.end - following.start <= OPTIONS.overlap + 1
        # Together the chunks cover the whole section.
        covered = own[0].start
        for chunk in own:
            assert chunk.start <= covered
            covered = max(covered, chunk.end)
        assert covered == len(section.text.rstrip())


@pytest.mark.skipif(not FICHES.exists(), reason="shared French corpus not present")
def test_real_fiche_splits_prefer_sentence_ends() -> None:
    text = fiche("F10009_apa-a-domicile--demande_--cas-general")
    section = Section(text=parse(text.encode(), "f.txt", ParseLimits()).sections[0].text)
    chunks = chunk_sections([section], ChunkOptions(target=400, overlap=80))
    assert len(chunks) >= 3
    ends = [c.text[-1] for c in chunks[:-1]]
    # Each cut falls after a sentence or at a line/paragraph end, not in the middle of a phrase.
    for chunk in chunks[:-1]:
        after = section.text[chunk.end:chunk.end + 1]
        assert chunk.text[-1] in ".!?:;)»" or after == "\n", (ends, chunk.text[-40:])


def test_chunks_never_cross_pages() -> None:
    pages = [f"Phrase numéro {n} de la page {p}. " for p in (1, 2, 3) for n in range(60)]
    sections = [Section(text="".join(pages[i * 60:(i + 1) * 60]), page=i + 1) for i in range(3)]
    chunks = chunk_sections(sections)
    check_positions(sections, chunks)
    assert {c.page for c in chunks} == {1, 2, 3}
    for chunk in chunks:
        found = {int(p) for p in re.findall(r"de la page (\d)", chunk.text)}
        assert found == {chunk.page}


def test_tiny_sections_on_a_page_merge_but_not_across_pages() -> None:
    sections = [Section("Article 1", page=1, label="Article 1"),
                Section("Le marché a lieu le jeudi matin.", page=1, label="Article 1"),
                Section("Article 2", page=2, label="Article 2"),
                Section("Les chiens doivent être tenus en laisse. " * 40, page=2)]
    chunks = chunk_sections(sections)
    assert chunks[0].text == "Article 1\n\nLe marché a lieu le jeudi matin."
    assert (chunks[0].section, chunks[0].end_section, chunks[0].page) == (0, 1, 1)
    assert chunks[0].end == len(sections[1].text)
    assert all(c.page == 2 for c in chunks[1:])
    assert chunks[1].section == 2 and chunks[1].text.startswith("Article 2\n\nLes chiens")


def test_unbroken_text_is_cut_hard_only_when_it_must() -> None:
    url = "https://example.org/" + "a" * 2000
    chunks = chunk_sections([Section(url)], ChunkOptions(target=500, overlap=50))
    assert "".join(c.text for c in chunks[:1]) == url[:500]
    assert chunks[-1].end == len(url)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="overlap"):
        chunk_sections([Section("x")], ChunkOptions(target=100, overlap=60))


def test_parsed_pdf_chunks_keep_page_numbers() -> None:
    long_line = "La commune finance les travaux de la salle des fêtes."
    pages = ["\n".join([f"Page {p}. {long_line}"] * 30) for p in (1, 2, 3)]
    document = parse(files.pdf_pages(pages), "budget.pdf", ParseLimits())
    chunks = chunk_sections(document.sections)
    check_positions(document.sections, chunks)
    for chunk in chunks:
        assert {int(p) for p in re.findall(r"Page (\d)\.", chunk.text)} <= {chunk.page}
    assert {c.page for c in chunks} == {1, 2, 3}
