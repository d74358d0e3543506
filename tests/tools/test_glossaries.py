"""Organisation glossaries: CSV import with bad rows, merge or replace, export, isolation."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.errors import Forbidden, NotFound, UserError
from civique.tools.translation import glossaries
from civique.tools.translation.glossary import check
from tests.helpers import Tenant, csrf_of, login

BAD_ROWS_CSV = (
    "term,language,translation,note\n"
    "mairie,en,town hall,\n"  # line 2: good
    ",en,nothing,\n"  # line 3: no term
    "préfecture,xx,prefecture,\n"  # line 4: unknown language
    "état civil,de,Standesamt,Zivilstand\n"  # line 5: good
    "Mairie,en,town hall,\n"  # line 6: repeats line 2
    "conseil municipal,en,,\n"  # line 7: no translation
    "conseil municipal,en,municipal council,\n"  # line 8: good
).encode()


def _admin(tenant: Tenant):  # type: ignore[no-untyped-def]
    return tenant.users["org_admin"]


def test_import_keeps_good_rows_and_reports_bad_ones_by_line(db: Session, tenant: Tenant) -> None:
    admin = _admin(tenant)
    row = glossaries.create_glossary(db, admin, "Services", "Noms des services")
    report = glossaries.import_csv(db, admin, row.id, BAD_ROWS_CSV, "merge")
    assert [(p.line, p.code) for p in report.errors] == [
        (3, "glossary.row_empty_term"),
        (4, "glossary.row_language"),
        (7, "glossary.row_empty_translation"),
    ]
    assert [(p.line, p.code, p.params["first"]) for p in report.duplicates] == [
        (6, "glossary.duplicate", 2)
    ]
    assert (report.added, report.updated, report.removed) == (3, 0, 0)
    saved = {(e.term, e.language, e.translation) for e in glossaries.entries(db, admin, row.id)}
    assert saved == {
        ("mairie", "en", "town hall"),
        ("état civil", "de", "Standesamt"),
        ("conseil municipal", "en", "municipal council"),
    }


def test_merge_updates_and_keeps_replace_removes(db: Session, tenant: Tenant) -> None:
    admin = _admin(tenant)
    row = glossaries.create_glossary(db, admin, "Services")
    glossaries.import_csv(db, admin, row.id, BAD_ROWS_CSV, "merge")
    update = b"fr,en,de\nMairie,city hall,Rathaus\n"
    merged = glossaries.import_csv(db, admin, row.id, update, "merge")
    assert (merged.added, merged.updated, merged.unchanged, merged.removed) == (1, 1, 0, 0)
    terms = {(e.term_key, e.language): e.translation for e in glossaries.entries(db, admin, row.id)}
    assert terms[("mairie", "en")] == "city hall" and terms[("mairie", "de")] == "Rathaus"
    assert ("conseil municipal", "en") in terms  # merge keeps what the file does not name
    replaced = glossaries.import_csv(db, admin, row.id, update, "replace")
    assert (replaced.added, replaced.updated, replaced.unchanged, replaced.removed) == (0, 0, 2, 2)
    assert len(glossaries.entries(db, admin, row.id)) == 2


def test_replace_with_no_good_row_changes_nothing(db: Session, tenant: Tenant) -> None:
    admin = _admin(tenant)
    row = glossaries.create_glossary(db, admin, "Services")
    glossaries.import_csv(db, admin, row.id, BAD_ROWS_CSV, "merge")
    report = glossaries.import_csv(
        db, admin, row.id, b"term,language,translation\nx,zz,y\n", "replace"
    )
    assert report.removed == 0 and len(report.errors) == 1
    assert len(glossaries.entries(db, admin, row.id)) == 3
    with pytest.raises(UserError) as refused:
        glossaries.import_csv(db, admin, row.id, BAD_ROWS_CSV, "overwrite")
    assert refused.value.code == "glossary_import_mode"


def test_export_round_trip_and_formula_cells_are_quoted(db: Session, tenant: Tenant) -> None:
    admin = _admin(tenant)
    row = glossaries.create_glossary(db, admin, "Formules")
    glossaries.add_entry(db, admin, row.id, '=HYPERLINK("x")', "en", "+cmd", "@note")
    glossaries.add_entry(db, admin, row.id, "mairie", "de", "Rathaus", 'Gemeinde; "Haus"')
    data = glossaries.export_csv(db, admin, row.id)
    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert cells[0] == ["term", "language", "translation", "note"]
    assert ['\'=HYPERLINK("x")', "en", "'+cmd", "'@note"] in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in cells for cell in line)
    other = glossaries.create_glossary(db, admin, "Copie")
    report = glossaries.import_csv(db, admin, other.id, data, "replace")
    assert report.added == 2 and not report.errors

    def fields(gid: int) -> set[tuple[str, ...]]:
        return {
            (e.term, e.language, e.translation, e.note) for e in glossaries.entries(db, admin, gid)
        }

    assert fields(other.id) == fields(row.id)


def test_entries_edit_and_delete(db: Session, tenant: Tenant) -> None:
    admin = _admin(tenant)
    row = glossaries.create_glossary(db, admin, "Services")
    entry = glossaries.add_entry(db, admin, row.id, "mairie", "en", "town hall")
    with pytest.raises(UserError) as twice:
        glossaries.add_entry(db, admin, row.id, "MAIRIE", "en", "city hall")
    assert twice.value.code == "glossary_entry_exists"
    with pytest.raises(UserError) as bad:
        glossaries.add_entry(db, admin, row.id, "mairie", "fr", "mairie")
    assert bad.value.code == "glossary_language"
    glossaries.update_entry(db, admin, entry.id, "mairie", "en", "city hall", "usage 2027")
    assert glossaries.get_entry(db, admin, entry.id).translation == "city hall"
    assert glossaries.delete_entry(db, admin, entry.id) == row.id
    assert glossaries.entries(db, admin, row.id) == []


def test_checker_glossary_feeds_the_glossary_check(db: Session, tenant: Tenant) -> None:
    admin = _admin(tenant)
    row = glossaries.create_glossary(db, admin, "Services")
    glossaries.import_csv(db, admin, row.id, BAD_ROWS_CSV, "merge")
    english = glossaries.checker_glossary(db, tenant.org.id, row.id, "en")
    assert {e.language for e in english.entries} == {"en"} and len(english.entries) == 2
    findings = check("La mairie est fermée.", "The townhouse is closed.", "en", english)
    assert [f.params["translation"] for f in findings] == ["town hall"]
    assert check("La mairie est fermée.", "The town hall is closed.", "en", english) == []


def test_other_organisations_glossary_is_not_found(
    db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    row = glossaries.create_glossary(db, _admin(tenant), "Services")
    entry = glossaries.add_entry(db, _admin(tenant), row.id, "mairie", "en", "town hall")
    intruder = _admin(other_tenant)
    for attempt in (
        lambda: glossaries.get_glossary(db, intruder, row.id),
        lambda: glossaries.import_csv(db, intruder, row.id, BAD_ROWS_CSV, "merge"),
        lambda: glossaries.export_csv(db, intruder, row.id),
        lambda: glossaries.delete_entry(db, intruder, entry.id),
        lambda: glossaries.checker_glossary(db, other_tenant.org.id, row.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert glossaries.list_glossaries(db, intruder) == []


def test_agents_read_but_cannot_change(db: Session, tenant: Tenant) -> None:
    row = glossaries.create_glossary(db, _admin(tenant), "Services")
    agent = tenant.users["agent"]
    assert [g.id for g in glossaries.list_glossaries(db, agent)] == [row.id]
    assert glossaries.export_csv(db, agent, row.id).startswith(b"\xef\xbb\xbfterm")
    for attempt in (
        lambda: glossaries.create_glossary(db, agent, "Mienne"),
        lambda: glossaries.import_csv(db, agent, row.id, BAD_ROWS_CSV, "merge"),
        lambda: glossaries.add_entry(db, agent, row.id, "mairie", "en", "town hall"),
        lambda: glossaries.delete_glossary(db, agent, row.id),
    ):
        with pytest.raises(Forbidden):
            attempt()


def test_import_page_lists_bad_rows_and_saves_good_ones(app, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        csrf = login(client, tenant.users["org_admin"].email)
        client.cookies.set("lang", "en")
        created = client.post(
            "/admin/glossaries",
            data={"csrf_token": csrf, "name": "Services"},
            follow_redirects=False,
        )
        assert created.status_code == 303
        url = created.headers["location"]
        page = client.post(
            f"{url}/import",
            data={"csrf_token": csrf, "mode": "merge"},
            files={"file": ("g.csv", BAD_ROWS_CSV, "text/csv")},
        )
        assert page.status_code == 200
        text = page.text
        assert "3 added" in text
        for line, reason in (
            (3, "has no term"),
            (4, "unknown language code “xx”"),
            (7, "has no translation"),
        ):
            assert f'<th scope="row">{line}</th>' in text and reason in text
        assert "repeats “Mairie” (en) of line 2" in text
        assert "town hall" in text and "Standesamt" in text
        empty = client.post(
            f"{url}/import",
            data={"csrf_token": csrf, "mode": "merge"},
            files={"file": ("g.csv", b"", "text/csv")},
        )
        assert empty.status_code == 400 and "Choose a CSV file" in empty.text
        header = client.post(
            f"{url}/import",
            data={"csrf_token": csrf, "mode": "merge"},
            files={"file": ("g.csv", b"a,b\n1,2\n", "text/csv")},
        )
        assert header.status_code == 400 and "first line of the glossary" in header.text
        exported = client.get(url.replace("/admin", "") + "/export.csv")
        assert exported.status_code == 200 and "text/csv" in exported.headers["content-type"]
        assert exported.content.decode("utf-8-sig").count("\r\n") == 4


def test_agent_pages_read_only(app, db: Session, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    row = glossaries.create_glossary(db, _admin(tenant), "Services")
    glossaries.add_entry(db, _admin(tenant), row.id, "mairie", "en", "town hall")
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        client.cookies.set("lang", "en")
        assert client.get("/admin/glossaries").status_code == 403
        listed = client.get("/glossaries")
        assert listed.status_code == 200 and f'href="/glossaries/{row.id}"' in listed.text
        shown = client.get(f"/glossaries/{row.id}")
        assert shown.status_code == 200 and "town hall" in shown.text
        assert "/delete" not in shown.text
        refused = client.post(
            f"/admin/glossaries/{row.id}/entries",
            data={"csrf_token": csrf, "term": "préfecture", "language": "en", "translation": "x"},
        )
        assert refused.status_code == 403
        assert csrf_of(shown.text)
