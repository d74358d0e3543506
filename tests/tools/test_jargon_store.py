"""The organisation's jargon list: defaults, additions, removals, restore; used by FALC."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.errors import Forbidden, UserError
from civique.tools.plain_language import falc, jargon_store
from civique.tools.plain_language.jargon import DEFAULT_JARGON
from tests.helpers import Tenant, login

TEXT = "Nonobstant votre demande, le pétitionnaire doit fournir un cerfa."


def _jargon_terms(text: str, jargon: dict[str, str]) -> list[str]:
    return [f.params["term"] for f in falc.check(text, jargon) if f.code == "falc.jargon"]


def test_a_new_organisation_uses_the_defaults(db: Session, tenant: Tenant) -> None:
    assert jargon_store.jargon_for(db, tenant.org.id) == DEFAULT_JARGON


def test_add_remove_and_change_reach_the_checker(
    db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    admin = tenant.users["org_admin"]
    jargon_store.set_term(db, admin, "cerfa", "formulaire")
    jargon_store.remove_term(db, admin, "Nonobstant")  # case and accents ignored
    jargon_store.set_term(db, admin, "pétitionnaire", "la personne qui demande")
    mine = jargon_store.jargon_for(db, tenant.org.id)
    assert mine["cerfa"] == "formulaire" and "nonobstant" not in mine
    assert mine["pétitionnaire"] == "la personne qui demande"
    assert len(mine) == len(DEFAULT_JARGON)  # one added, one removed
    assert _jargon_terms(TEXT, mine) == ["pétitionnaire", "cerfa"]
    suggestion = next(f for f in falc.check(TEXT, mine) if f.params.get("term") == "cerfa")
    assert suggestion.params["suggestion"] == "formulaire"
    assert _jargon_terms(TEXT, jargon_store.jargon_for(db, other_tenant.org.id)) == [
        "Nonobstant",
        "pétitionnaire",
    ]
    assert jargon_store.removed_defaults(db, tenant.org.id) == ["nonobstant"]
    listed = {t.term: t for t in jargon_store.terms(db, tenant.org.id)}
    assert not listed["cerfa"].default and listed["cerfa"].changed
    assert listed["pétitionnaire"].default and listed["pétitionnaire"].changed
    assert listed["requérant"].default and not listed["requérant"].changed


def test_restore_defaults_keeping_or_dropping_own_terms(db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    jargon_store.set_term(db, admin, "cerfa", "formulaire")
    jargon_store.remove_term(db, admin, "nonobstant")
    jargon_store.set_term(db, admin, "usager", "habitant")
    jargon_store.restore_defaults(db, admin, keep_own=True)
    kept = jargon_store.jargon_for(db, tenant.org.id)
    assert kept == {**DEFAULT_JARGON, "cerfa": "formulaire"}
    jargon_store.restore_defaults(db, admin, keep_own=False)
    assert jargon_store.jargon_for(db, tenant.org.id) == DEFAULT_JARGON


def test_bad_input_and_permissions(db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    for term, suggestion, code in (
        ("  ", "x", "jargon_term_required"),
        ("x" * 101, "", "jargon_term_required"),
        ("cerfa", "x" * 201, "jargon_suggestion_too_long"),
    ):
        with pytest.raises(UserError) as refused:
            jargon_store.set_term(db, admin, term, suggestion)
        assert refused.value.code == code
    with pytest.raises(UserError) as unknown:
        jargon_store.remove_term(db, admin, "mot inconnu")
    assert unknown.value.code == "jargon_unknown_term"
    with pytest.raises(Forbidden):
        jargon_store.set_term(db, tenant.users["agent"], "cerfa", "formulaire")
    with pytest.raises(Forbidden):
        jargon_store.restore_defaults(db, tenant.users["validator"])


def test_jargon_page(app, db: Session, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        csrf = login(client, tenant.users["org_admin"].email)
        client.cookies.set("lang", "en")
        page = client.get("/admin/jargon")
        assert page.status_code == 200 and "nonobstant" in page.text
        added = client.post(
            "/admin/jargon",
            data={"csrf_token": csrf, "term": "cerfa", "suggestion": "formulaire"},
            follow_redirects=False,
        )
        assert added.status_code == 303
        removed = client.post(
            "/admin/jargon/remove", data={"csrf_token": csrf, "term": "nonobstant"}
        )
        assert removed.status_code == 200 and "Default words you removed:" in removed.text
        assert jargon_store.jargon_for(db, tenant.org.id)["cerfa"] == "formulaire"
        bad = client.post("/admin/jargon", data={"csrf_token": csrf, "term": ""})
        assert bad.status_code == 400 and "Give the word to avoid" in bad.text
        client.post("/admin/jargon/restore", data={"csrf_token": csrf, "keep_own": "0"})
        assert jargon_store.jargon_for(db, tenant.org.id) == DEFAULT_JARGON
    with TestClient(app) as agent:
        login(agent, tenant.users["agent"].email)
        assert agent.get("/admin/jargon").status_code == 403
