"""Letter template library: built-ins complete for the mentions checker, versions, variables."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.errors import Forbidden, NotFound, UserError
from civique.i18n import load_catalogs, set_locale
from civique.orgs.service import update_branding
from civique.tools.letters import library, mentions
from civique.tools.letters.library import Variable
from tests.helpers import Tenant, login

SAMPLES = {
    "recipient": "Madame Léa Martin\n3 rue des Lilas\n69000 Lyon",
    "subject": "Votre demande de place en crèche",
    "reference": "2027-0042",
    "request_date": "02/03/2027",
    "request": "une place en crèche",
    "answer": "Une place est disponible à partir de septembre.",
    "service": "Service petite enfance",
    "contact": "Mme Roux, 04 72 00 00 00",
    "place": "Lyon",
    "date": "2027-03-12",
    "signatory": "Le maire, Jean Dupont",
    "received_on": "01/03/2027",
    "service_address": "1 place de la Mairie\n69000 Lyon",
    "service_phone": "04 72 00 00 00",
    "service_email": "enfance@exemple.fr",
    "decision_delay": "deux mois",
    "implicit_outcome": "rejet",
    "court": "tribunal administratif de Lyon",
    "beneficiary": "Madame Léa Martin",
    "birth_date": "01/05/1990",
    "beneficiary_address": "3 rue des Lilas, 69000 Lyon",
    "object": "est domiciliée à cette adresse depuis janvier 2020.",
    "meeting": "la séance du conseil municipal",
    "meeting_date": "20/03/2027",
    "time": "18 h 30",
    "meeting_place": "Salle du conseil, 1 place de la Mairie",
    "agenda": "1. Budget primitif\n2. Questions diverses",
    "documents": "- justificatif de domicile\n- avis d'imposition",
    "deadline": "15/04/2027",
    "legal_basis": "l'article R. 2324-17 du code de la santé publique",
    "reasons": "Aucune place n'est disponible pour l'âge de votre enfant.",
    "authority": "Monsieur le Maire",
}
# The certificate's issuing authority, as its label suggests writing it.
OVERRIDES = {
    "certificate": {"service": "maire de la commune d'Exemple", "signatory": "Jean Dupont, maire"}
}
# What each kind's skeleton states by itself (not through a variable): removing it must make
# the checker complain, which proves the check above is not vacuous.
STATED_BY_SKELETON = {
    "refusal": (("recours",), "mention.remedies"),
    "acknowledgement": (("implicite",), "mention.implicit_decision"),
    "missing_documents": (("À défaut de réception",), "mention.consequences"),
    "certificate": (("atteste que",), "mention.object"),
    "reply": (("Objet :",), "mention.subject"),
    "convocation": (("Objet :", "Ordre du jour"), "mention.agenda"),
}


def test_every_kind_has_a_builtin_and_each_parses() -> None:
    found = library.builtins()
    assert sorted(t.kind for t in found.values()) == sorted(mentions.KINDS)
    for template in found.values():
        assert template.builtin and template.version >= 1
        assert template.title and template.title_en and template.description_en
        assert all(v.label and v.label_en for v in template.variables)
        assert library.template_problems(template) == []


@pytest.mark.parametrize("template_id", sorted(library.builtins()))
def test_builtin_skeleton_filled_passes_the_mentions_checker(template_id: str) -> None:
    template = library.builtins()[template_id]
    samples = {**SAMPLES, **OVERRIDES.get(template_id, {})}
    values = {v.name: samples[v.name] for v in template.variables}
    assert library.check_variables(template, values) == []
    letter = library.fill(template, values)
    assert "{{" not in letter
    # Without the variables' values as a fallback: the text itself must state every mention.
    assert mentions.check(template.kind, letter) == []
    phrases, code = STATED_BY_SKELETON[template.kind]
    cut = "\n".join(line for line in letter.splitlines() if not any(p in line for p in phrases))
    assert code in [f.code for f in mentions.check(template.kind, cut)]


def test_fill_writes_dates_in_full_and_drops_lines_of_empty_variables() -> None:
    template = library.builtins()["reply"]
    values = {**SAMPLES, "reference": "", "date": "2027-03-01"}
    letter = library.fill(template, values)
    assert "Lyon, le 1er mars 2027" in letter
    assert "Vos références" not in letter
    assert "2 mars 2027" in letter


def test_check_variables_names_each_problem() -> None:
    load_catalogs()
    set_locale("en")
    template = library.LetterTemplate(
        id="t",
        kind="reply",
        version=1,
        title="T",
        description="",
        builtin=False,
        body="{{ a }} {{ d }} {{ m }}\n",
        variables=(
            Variable("a", "Recipient"),
            Variable("d", "Due date", "date"),
            Variable("m", "Fee", "amount", required=False),
            Variable("o", "Other", "text", required=False),
        ),
    )
    errors = library.check_variables(
        template, {"d": "31/02/2027", "m": "douze euros", "o": "two\nlines"}
    )
    assert [(e.name, e.code) for e in errors] == [
        ("a", "letter.required"),
        ("d", "letter.bad_date"),
        ("m", "letter.bad_amount"),
        ("o", "letter.one_line"),
    ]
    assert errors[0].message == "“Recipient” is required."
    assert "12/03/2027" in errors[1].message
    good = {"a": "x", "d": "12.03.2027", "m": "1 234,50 €"}
    assert library.check_variables(template, good) == []
    for amount in ("1234", "CHF 1’250.50", "12 €", "1 000 000 euros"):
        assert library.check_variables(template, {**good, "m": amount}) == [], amount
    set_locale("fr")
    french = library.check_variables(template, {})[0].message
    assert french != "“Recipient” is required." and "Recipient" in french


def _own(db: Session, tenant: Tenant) -> library.LetterTemplate:
    return library.create_template(
        db,
        tenant.users["org_admin"],
        "refusal",
        "Refus de terrasse",
        "Terrasses",
        [Variable("recipient", "Destinataire", "multiline"), Variable("date", "Date", "date")],
        "{{ recipient }}\n\nLe {{ date }}\n\nObjet : refus\n",
    )


def test_versions_keep_earlier_ones(db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    first = _own(db, tenant)
    assert (first.version, first.builtin, first.ref) == (1, False, f"org:{first.id}")
    second = library.update_template(
        db,
        admin,
        first.id,
        "refusal",
        "Refus de terrasse",
        "Terrasses",
        [*first.variables, Variable("court", "Tribunal")],
        first.body + "Recours devant le {{ court }} dans un délai de deux mois.\n",
    )
    assert second.version == 2 and second.variable("court") is not None
    old = library.get_template(db, tenant.org.id, first.id, version=1)
    assert old.body == first.body and old.variable("court") is None
    assert [t.version for t in library.versions(db, tenant.org.id, first.id)] == [2, 1]
    with pytest.raises(NotFound):
        library.get_template(db, tenant.org.id, first.id, version=3)


def test_definition_errors(db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    cases = {
        "letter_kind_invalid": ("memo", [], "x"),
        "letter_unknown_variable": ("reply", [], "Bonjour {{ nom }}"),
        "letter_variable_name": ("reply", [Variable("Nom", "Nom")], "x"),
        "letter_variable_twice": ("reply", [Variable("a", "A"), Variable("a", "B")], "x"),
        "letter_variable_type": ("reply", [Variable("a", "A", "number")], "x"),
        "letter_body_required": ("reply", [], "  "),
    }
    for code, (kind, variables, body) in cases.items():
        with pytest.raises(UserError) as refused:
            library.create_template(db, admin, kind, "Titre", "", variables, body)
        assert refused.value.code == code
    with pytest.raises(UserError) as builtin:
        library.update_template(db, admin, "refusal", "refusal", "X", "", [], "x")
    assert builtin.value.code == "letter_builtin_readonly"


def test_disable_builtin_and_own(db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    own = _own(db, tenant)
    library.set_enabled(db, admin, "refusal", False)
    library.set_enabled(db, admin, own.id, False)
    offered = {t.id for t in library.list_templates(db, tenant.org.id)}
    assert "refusal" not in offered and own.id not in offered and "reply" in offered
    everything = {t.id: t.enabled for t in library.list_templates(db, tenant.org.id, True)}
    assert everything["refusal"] is False and everything[own.id] is False
    assert library.get_template(db, tenant.org.id, "refusal").enabled is False
    library.set_enabled(db, admin, "refusal", True)
    assert "refusal" in {t.id for t in library.list_templates(db, tenant.org.id)}


def test_isolation_and_permissions(db: Session, tenant: Tenant, other_tenant: Tenant) -> None:
    own = _own(db, tenant)
    with pytest.raises(NotFound):
        library.get_template(db, other_tenant.org.id, own.id)
    with pytest.raises(NotFound):
        library.set_enabled(db, other_tenant.users["org_admin"], own.id, False)
    assert own.id not in {t.id for t in library.list_templates(db, other_tenant.org.id, True)}
    other_choice = library.get_template(db, other_tenant.org.id, "refusal")
    library.set_enabled(db, tenant.users["org_admin"], "refusal", False)
    assert other_choice.enabled and library.get_template(db, other_tenant.org.id, "refusal").enabled
    agent = tenant.users["agent"]
    assert library.get_template(db, agent.org_id, own.id).title == "Refus de terrasse"
    with pytest.raises(Forbidden):
        library.set_enabled(db, agent, "reply", False)
    with pytest.raises(Forbidden):
        library.create_template(db, agent, "reply", "T", "", [], "x")


def test_letterhead_from_branding(db: Session, tenant: Tenant) -> None:
    admin = tenant.users["org_admin"]
    contact = {
        "address": "Hôtel de ville\n\n1 place de la Mairie \n69000 Lyon",
        "phone": "04 72 00 00 00",
        "email": "mairie@exemple.fr",
        "website": "https://www.exemple.fr",
    }
    update_branding(db, admin, "Ville d'Alpha", "#112233", None, 1000, contact)
    head = library.letterhead(db, tenant.org.id)
    assert head.name == "Ville d'Alpha"
    assert head.address_lines == ("Hôtel de ville", "1 place de la Mairie", "69000 Lyon")
    assert (head.phone, head.email, head.website) == (
        "04 72 00 00 00",
        "mairie@exemple.fr",
        "https://www.exemple.fr",
    )
    with pytest.raises(UserError) as bad:
        update_branding(
            db,
            admin,
            "Ville d'Alpha",
            "#112233",
            None,
            1000,
            {**contact, "website": "javascript:alert(1)"},
        )
    assert bad.value.code == "letterhead_invalid"


def test_pages_create_edit_disable(app, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        csrf = login(client, tenant.users["org_admin"].email)
        client.cookies.set("lang", "en")
        listing = client.get("/admin/letter-templates")
        assert listing.status_code == 200 and "Reasoned refusal" in listing.text
        start = client.get("/admin/letter-templates/new?start=refusal")
        assert "Voies et délais de recours" in start.text and "(copy)" in start.text
        form = {
            "csrf_token": csrf,
            "kind": "convocation",
            "title": "Convocation au jury",
            "body": "Le {{ day }} à {{ hour }}, salle 2. Objet : jury.",
            "var_name": ["day", "hour", ""],
            "var_label": ["Jour", "Heure", ""],
            "var_type": ["date", "text", "text"],
            "var_required": ["0"],
        }
        created = client.post("/admin/letter-templates", data=form, follow_redirects=False)
        assert created.status_code == 303, created.text
        url = created.headers["location"]
        template_id = url.rsplit("/", 1)[1]
        shown = client.get(url)
        assert "Convocation au jury" in shown.text and "<code>day</code>" in shown.text
        bad = client.post(url, data={**form, "body": "{{ nowhere }}"})
        assert bad.status_code == 400 and "{{ nowhere }}" in bad.text
        saved = client.post(
            url, data={**form, "title": "Convocation au jury (v2)"}, follow_redirects=False
        )
        assert saved.status_code == 303
        assert "Version 2" in client.get(url).text
        assert "Convocation au jury" in client.get(f"{url}?version=1").text
        off = client.post(
            f"{url}/enabled", data={"csrf_token": csrf, "enabled": "0"}, follow_redirects=False
        )
        assert off.status_code == 303
        assert re.search(
            r"Convocation au jury \(v2\).*?disabled",
            client.get("/admin/letter-templates").text,
            re.S,
        )
        edit_builtin = client.get("/admin/letter-templates/refusal/edit", follow_redirects=False)
        assert edit_builtin.headers["location"] == "/admin/letter-templates/new?start=refusal"
        assert client.get(f"/admin/letter-templates/{template_id}0").status_code == 404
        agent = TestClient(app)
        login(agent, tenant.users["agent"].email)
        assert agent.get("/admin/letter-templates").status_code == 403
