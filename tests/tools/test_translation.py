"""The translation tool with the fake model: form, language support, glossary in the prompt and
checked, side-by-side view, machine-translation mention, DOCX in → DOCX out, bad uploads."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.llm.models import ModelCall, OutputRecord
from civique.tools.models import ToolRun
from civique.tools.registry import ToolContext
from civique.tools.translation import glossaries, support
from civique.tools.translation.glossary import Entry, Glossary
from civique.tools.translation.tool import TOOL, TranslationInput
from tests.helpers import Tenant

SOURCE = (
    "La mairie est ouverte du lundi au vendredi.\n\n"
    "Votre acte de naissance est délivré le 12 mars 2027."
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> None:
    """A support table for the fake model: English good, Albanian poor, Tigrinya refused."""
    levels: dict[str, support.Level] = {c: "good" for c in ("en", "de", "it", "es", "pt")}
    levels.update({"ar": "fair", "uk": "fair", "sq": "poor", "ti": "unsupported"})
    monkeypatch.setitem(support.SUPPORT, "fake/", levels)


@pytest.fixture
def glossary_id(db: Session, tenant: Tenant) -> int:
    """A glossary of the tenant: "mairie" → "town hall" (en) and "Rathaus" (de)."""
    admin = tenant.users["org_admin"]
    row = glossaries.create_glossary(db, admin, "Termes officiels")
    glossaries.add_entry(db, admin, row.id, "mairie", "en", "town hall")
    glossaries.add_entry(db, admin, row.id, "mairie", "de", "Rathaus")
    return row.id


def _run(client: TestClient, csrf: str, **form: str) -> object:
    return client.post(
        "/tools/translation", data={"csrf_token": csrf, **form}, follow_redirects=False
    )


def test_form_lists_languages_support_and_glossaries(
    agent_client: tuple[TestClient, str], glossary_id: int, measured: None
) -> None:
    client, _ = agent_client
    form = client.get("/tools/translation").text
    assert '<select id="field-target_language" name="target_language"' in form
    assert f'<option value="{glossary_id}" >Termes officiels</option>' in form
    assert "albanais — faible : à faire vérifier par un lecteur qui maîtrise la langue" in form
    assert "les traductions vers albanais sont faibles (mesuré)" in form
    assert "ne sait pas traduire vers tigrinya" in form
    assert 'href="/tools/translation/document"' in form


def test_unsupported_language_is_refused_before_running(
    agent_client: tuple[TestClient, str], db: Session, measured: None
) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, text=SOURCE, target_language="ti")
    assert response.status_code == 422
    assert "Le modèle fake/echo ne sait pas traduire vers tigrinya (mesuré)" in response.text
    assert db.scalars(select(ModelCall)).all() == [] and db.scalars(select(ToolRun)).all() == []
    api = client.post(
        "/api/v1/tools/translation/runs",
        json={"text": SOURCE, "target_language": "ti"},
        headers={"x-csrf-token": csrf},
    )
    assert api.status_code == 422 and api.json()["error"]["code"] == "translation_unsupported"
    same = _run(client, csrf, text=SOURCE, source_language="fr", target_language="fr")
    assert same.status_code == 422 and "autre que la langue source" in same.text


def test_glossary_is_loaded_and_listed_in_the_prompt(
    agent_client: tuple[TestClient, str], db: Session, glossary_id: int
) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, text=SOURCE, target_language="en", glossary_id=str(glossary_id))
    assert response.status_code == 303
    record = db.scalars(select(OutputRecord)).one()
    assert record.prompt_template == "translation.system" and record.tool == "translation"
    prompt = "\n".join(m["content"] for m in record.input)
    assert "- mairie → town hall (use exactly)" in prompt and "Rathaus" not in prompt
    assert "from French into English" in prompt and "<TEXT>\nLa mairie" in prompt


def test_output_page_lists_violations_side_by_side_and_the_mention(
    agent_client: tuple[TestClient, str], db: Session, glossary_id: int
) -> None:
    client, csrf = agent_client
    response = _run(client, csrf, text=SOURCE, target_language="en", glossary_id=str(glossary_id))
    output_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/outputs/{output_id}").text
    assert "« mairie » doit être traduit par « town hall » (glossaire)." in page
    assert "Traduction automatique — à relire." in page
    assert '<table class="side-by-side">' in page and "Source (français)" in page
    assert '<td class="register-text">La mairie est ouverte du lundi au vendredi.</td>' in page
    # Corrected by the agent: two paragraphs, the mandated term: nothing left to report.
    final = (
        "The town hall is open Monday to Friday.\n\n"
        "Your birth certificate is issued on 12 March 2027."
    )
    saved = client.post(f"/outputs/{output_id}/final", data={"csrf_token": csrf, "text": final})
    assert saved.status_code in (200, 303)
    page = client.get(f"/outputs/{output_id}").text
    assert "glossaire" not in page.split("findings-title")[1].split("</section>")[0]
    assert 'lang="en">The town hall is open Monday to Friday.</td>' in page
    export = client.get(f"/outputs/{output_id}/export?format=docx")
    exported = Document(io.BytesIO(export.content))
    assert "Traduction automatique — à relire." in exported.core_properties.comments


def test_checker_reports_paragraphs_and_language(english: None) -> None:
    inputs = TranslationInput(text=SOURCE, target_language="uk")
    found = TOOL.check(
        "Just one English paragraph, not Ukrainian at all, sadly for us.",
        inputs,
        ToolContext(org_name="", extra={"glossary": Glossary()}),
    )
    codes = {f.message.split(":")[0] for f in found}
    assert any("2 paragraphs and the translation 1" in f.message for f in found), codes
    assert any("script of Ukrainian" in f.message and f.severity == "error" for f in found)
    terms = Glossary((Entry("mairie", "en", "town hall"),))
    ok = TOOL.check(
        "The town hall is open Monday to Friday.\n\nYour birth certificate is "
        "issued on 12 March 2027.",
        inputs.model_copy(update={"target_language": "en"}),
        ToolContext(org_name="", extra={"glossary": terms}),
    )
    assert ok == []


def _docx(paragraphs: list[tuple[str, str]], cell: str = "Mairie de Test") -> bytes:
    document = Document()
    for text, style in paragraphs:
        paragraph = document.add_paragraph(style=style)
        paragraph.add_run(text[:10]).bold = True
        paragraph.add_run(text[10:])
    document.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = cell
    table.cell(0, 1).text = "12 mars 2027"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _upload(
    client: TestClient, csrf: str, data: bytes, name: str = "avis.docx", **form: str
) -> object:
    return client.post(
        "/tools/translation/document",
        data={"csrf_token": csrf, "target_language": "en", **form},
        files={"file": (name, data, DOCX)},
        follow_redirects=False,
    )


def test_docx_in_docx_out_same_paragraphs_styles_and_mention(
    agent_client: tuple[TestClient, str], db: Session, glossary_id: int
) -> None:
    client, csrf = agent_client
    source = [
        ("Avis aux habitants de la commune", "Heading 1"),
        ("La mairie sera fermée le 1er mai.", "Normal"),
        ("Merci de votre compréhension.", "List Bullet"),
    ]
    response = _upload(client, csrf, _docx(source), glossary_id=str(glossary_id))
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == DOCX
    assert "avis.en.docx" in response.headers["content-disposition"]
    original, translated = (
        Document(io.BytesIO(_docx(source))),
        Document(io.BytesIO(response.content)),
    )
    assert len(translated.paragraphs) == len(original.paragraphs)
    assert [p.style.name for p in translated.paragraphs] == [
        p.style.name for p in original.paragraphs
    ]
    assert translated.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
    first = translated.paragraphs[0]
    assert first.runs[0].bold and first.runs[1].text == "" and "Réponse simulée" in first.text
    assert translated.paragraphs[3].text == ""  # an empty paragraph stays empty, no call
    assert "Réponse simulée" in translated.tables[0].cell(0, 0).text
    header = translated.sections[0].header.paragraphs[0].text
    assert header.startswith("Traduction automatique — à relire.") and "fake/echo" in header
    assert "Traduction automatique" in translated.core_properties.comments
    assert translated.core_properties.language == "en"
    assert len(db.scalars(select(ModelCall)).all()) == 5  # 3 paragraphs + 2 cells
    output_id = int(response.headers["x-civique-output"])
    page = client.get(f"/outputs/{output_id}").text
    assert "« mairie » doit être traduit par « town hall »" in page  # the fake ignores it
    run = db.scalars(select(ToolRun).where(ToolRun.output_id == output_id)).one()
    assert run.inputs["text"].startswith("Avis aux habitants de la commune\n\nLa mairie")


def test_bad_uploads_get_a_clear_message(
    agent_client: tuple[TestClient, str],
    db: Session,
    measured: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, csrf = agent_client
    fake_docx = _upload(client, csrf, b"not a document at all, just words", name="x.docx")
    assert fake_docx.status_code == 415 and "pas un document DOCX, ODT ou PDF" in fake_docx.text
    from civique.tools.translation import document

    monkeypatch.setattr(document, "MAX_BYTES", 1000)
    big = _upload(client, csrf, _docx([("Texte " * 400, "Normal")]))
    assert big.status_code == 413 and "trop gros" in big.text
    monkeypatch.setattr(document, "MAX_BYTES", 10 * 1024 * 1024)
    monkeypatch.setattr(document, "MAX_PARAGRAPHS", 2)
    long = _upload(client, csrf, _docx([("Un", "Normal"), ("Deux", "Normal")]))
    assert long.status_code == 413 and "4 paragraphes à traduire, la limite est 2" in long.text
    refused = _upload(client, csrf, _docx([("Bonjour", "Normal")]), target_language="ti")
    assert refused.status_code == 422 and "tigrinya" in refused.text
    assert db.scalars(select(ModelCall)).all() == []
