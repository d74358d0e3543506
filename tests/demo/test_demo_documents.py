"""The demo collection: every shipped file parses; each question is answered where it says."""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from civique.demo_documents import demo_files, demo_questions
from civique.documents.parse import ParsedDocument, parse
from civique.documents.types import ParseLimits

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_demo_documents.py"
# Sources made to span several pages, one per level-2 section (page numbers matter in answers).
PAGED = {"reglement-cimetiere.pdf": 4, "reglement-salle-polyvalente.pdf": 3,
         "collecte-dechets.pdf": 3}


@cache
def parsed(name: str) -> ParsedDocument:
    """The shipped file `name` as the ingestion parser reads it (parsed once per run)."""
    return parse(dict(demo_files())[name], name, ParseLimits())


def squashed(text: str) -> str:
    """Whitespace collapsed: a PDF line may wrap between any two words of an answer."""
    return re.sub(r"\s+", " ", text).strip()


def text_at(document: ParsedDocument, page: int | None) -> str:
    """The text of the sections on `page` (None: the sections of a non-paged file)."""
    return squashed(" ".join(s.text for s in document.sections if s.page == page))


@cache
def load_script() -> ModuleType:
    """The generator script as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_demo_documents", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def test_shipped_files_are_the_sources_in_several_formats() -> None:
    names = [name for name, _ in demo_files()]
    assert names == sorted(names)
    sources = sorted(p.stem for p in (ROOT / "civique/demo_documents/sources").glob("*.md"))
    assert sorted(Path(name).stem for name in names) == sources
    suffixes = [Path(name).suffix for name in names]
    assert suffixes.count(".pdf") >= 3 and suffixes.count(".docx") >= 2
    assert sum(len(data) for _, data in demo_files()) < 200_000


@pytest.mark.parametrize("name", [name for name, _ in demo_files()])
def test_every_file_parses_as_french_without_notices(name: str) -> None:
    document = parsed(name)
    assert document.language == "fr"
    assert document.notices == []
    assert document.title and "Exemple" in " ".join(s.text for s in document.sections)
    if name in PAGED:
        assert document.page_count == PAGED[name]
        assert [s.page for s in document.sections] == list(range(1, PAGED[name] + 1))
    else:
        assert document.page_count is None
        assert len(document.sections) >= 4  # split at headings, so answers carry a label


def test_docx_files_use_real_heading_styles() -> None:
    for name in (n for n, _ in demo_files() if n.endswith(".docx")):
        labels = [s.label for s in parsed(name).sections]
        assert None not in labels and len(set(labels)) == len(labels) >= 4


def test_questions_cover_every_document_and_include_unanswerable_ones() -> None:
    questions = demo_questions()
    answered = [q for q in questions if q["document"] is not None]
    assert 15 <= len(answered) <= 25
    assert {q["document"] for q in answered} == {name for name, _ in demo_files()}
    unanswerable = [q for q in questions if q["document"] is None]
    assert len(unanswerable) == 3
    assert all(q["page"] is None and q["answer_contains"] is None for q in unanswerable)
    assert len({q["question"] for q in questions}) == len(questions)


@pytest.mark.parametrize("question", [q for q in demo_questions() if q["document"]],
                         ids=lambda q: q["question"][:40])
def test_answer_is_on_the_stated_page_of_its_document_only(question: dict[str, object]) -> None:
    name, page, answer = question["document"], question["page"], question["answer_contains"]
    assert isinstance(name, str) and isinstance(answer, str)
    document = parsed(name)
    assert (page is None) == (name not in PAGED)
    assert squashed(answer) in text_at(document, page if isinstance(page, int) else None)
    others = [other for other, _ in demo_files() if other != name]
    for other in others:  # each fact is in one document, so retrieval can be scored
        assert squashed(answer) not in squashed(" ".join(s.text for s in parsed(other).sections))


def test_shipped_files_are_up_to_date_with_the_sources(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    written = load_script().build(tmp_path)
    assert [path.name for path in written] == [name for name, _ in demo_files()]
    for path in written:
        fresh = parse(path.read_bytes(), path.name, ParseLimits())
        assert fresh.sections == parsed(path.name).sections, f"{path.name}: run the script"
        assert fresh.title == parsed(path.name).title


def test_generation_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("reportlab")
    script = load_script()
    first = {p.name: p.read_bytes() for p in script.build(tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in script.build(tmp_path / "b")}
    assert first == second
