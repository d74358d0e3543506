"""Organisation administration through HTTP: users, units, teams, models, branding."""

from __future__ import annotations

import re
import struct
import zlib

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import OneTimeLink, User
from civique.auth.service import create_api_token
from civique.orgs.models import Organisation, OrgModel, Team, TeamMember, Unit
from tests.helpers import PASSWORD, Tenant, csrf_of, login
from tests.orgs.conftest import input_value, link_in, text_of

Client = tuple[TestClient, str]
NEW_PASSWORD = "a new long password 2026"


def _png() -> bytes:
    """A real 1×1 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x1d\x4f\x91")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _post(client: TestClient, url: str, csrf: str, **data: object):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)


def _user(db: Session, email: str) -> User:
    db.expire_all()
    user = db.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _unit(db: Session, tenant: Tenant, name: str) -> Unit:
    unit = Unit(org_id=tenant.org.id, name=name)
    db.add(unit)
    db.commit()
    return unit


# Access ---------------------------------------------------------------------------------------


ADMIN_PAGES = [
    "/admin",
    "/admin/users",
    "/admin/units",
    "/admin/teams",
    "/admin/models",
    "/admin/branding",
]


def test_admin_pages_are_for_administrators_only(
    app: FastAPI, tenant: Tenant, admin_client: Client
) -> None:
    client, _ = admin_client
    for page in ADMIN_PAGES:
        assert client.get(page).status_code == 200, page
    with TestClient(app) as anonymous:
        for page in ADMIN_PAGES:
            response = anonymous.get(page, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith(
                "/login"
            ), page
    with TestClient(app) as agent:
        csrf = login(agent, tenant.users["dpo"].email)
        for page in ADMIN_PAGES:
            assert agent.get(page).status_code == 403, page
        refused = _post(agent, "/admin/units", csrf, name="Pirates")
        assert refused.status_code == 403
    overview = text_of(client.get("/admin"))
    for href in ADMIN_PAGES[1:]:
        assert f'href="{href}"' in overview


def test_post_without_csrf_token_changes_nothing(admin_client: Client, db: Session) -> None:
    client, _ = admin_client
    response = client.post("/admin/units", data={"name": "Sans jeton"})
    assert response.status_code == 403 and "formulaire a expiré" in text_of(response)
    assert _count(db, Unit) == 0


# Users ----------------------------------------------------------------------------------------


def test_users_list_shows_name_email_role_unit_status_and_last_login(
    admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, _ = admin_client
    unit = _unit(db, tenant, "État civil")
    agent = db.get(User, tenant.users["agent"].id)
    assert agent is not None
    agent.unit_id = unit.id
    db.commit()
    page = text_of(client.get("/admin/users"))
    assert "agent alpha" in page and "agent@alpha.test" in page
    assert "Validateur" in page and "Délégué à la protection des données" in page
    assert "État civil" in page
    assert "Jamais" in page  # the agent never logged in; the admin did
    assert page.count("Jamais") == len(tenant.users) - 1
    found = text_of(client.get("/admin/users", params={"q": "VALIDATOR@"}))
    assert "validator@alpha.test" in found and "agent@alpha.test" not in found


def test_invitation_link_is_shown_once_and_works_once(
    app: FastAPI, admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    unit = _unit(db, tenant, "Urbanisme")
    response = _post(
        client,
        "/admin/users",
        csrf,
        name="Zoé Nouvelle",
        email=" Zoe@Alpha.test ",
        role="validator",
        unit_id=str(unit.id),
    )
    assert response.status_code == 200
    link = link_in(response, "invite")
    created = _user(db, "zoe@alpha.test")
    assert (created.name, created.role, created.unit_id, created.org_id) == (
        "Zoé Nouvelle",
        "validator",
        unit.id,
        tenant.org.id,
    )
    assert created.password_hash is None
    assert "/invite/" not in client.get("/admin/users").text  # shown once only
    assert "Invité" in text_of(client.get("/admin/users"))
    with TestClient(app) as newcomer:
        page = newcomer.get(link)
        assert page.status_code == 200 and "zoe@alpha.test" in page.text
        done = newcomer.post(
            link,
            data={
                "csrf_token": csrf_of(page.text),
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert newcomer.get("/").status_code == 200
    with TestClient(app) as again:
        reused = again.get(link)
        assert reused.status_code == 404 and "déjà utilisé" in text_of(reused)
        token = csrf_of(again.get("/login").text)
        second = again.post(
            link, data={"csrf_token": token, "password": "x" * 20, "confirm": "x" * 20}
        )
        assert second.status_code == 404
    with TestClient(app) as later:
        login(later, "zoe@alpha.test", NEW_PASSWORD)


BAD_USERS = [
    ({"name": "  ", "email": "x@alpha.test"}, 400, "Un nom est obligatoire."),
    ({"name": "Xavier", "email": "pas-une-adresse"}, 400, "adresse e-mail n'est pas valide"),
    ({"name": "Doublon", "email": "AGENT@alpha.test"}, 409, "Un compte existe déjà"),
    ({"name": "Xavier", "email": "x@alpha.test", "role": "pirate"}, 400, "Rôle inconnu."),
    ({"name": "Xavier", "email": "x@alpha.test", "role": "platform_admin"}, 403, "pas le droit"),
    ({"name": "Xavier", "email": "x@alpha.test", "unit_id": "999999"}, 404, "n'existe pas"),
]


def test_bad_new_user_is_refused_with_values_kept(admin_client: Client, db: Session) -> None:
    client, csrf = admin_client
    before = _count(db, User)
    for fields, status, message in BAD_USERS:
        response = _post(client, "/admin/users", csrf, **{"role": "agent", "unit_id": "", **fields})
        assert response.status_code == status, fields
        assert message in text_of(response), fields
        assert input_value(response, "email") == fields["email"]
        assert input_value(response, "name") == fields["name"]
        assert "/invite/" not in response.text
    assert _count(db, User) == before
    assert _count(db, OneTimeLink) == 0


def test_only_a_platform_admin_grants_platform_admin(
    admin_client: Client, platform_client: Client, tenant: Tenant, db: Session
) -> None:
    admin, admin_csrf = admin_client
    assert 'value="platform_admin"' not in admin.get("/admin/users").text
    agent_id = tenant.users["agent"].id
    refused = _post(admin, f"/admin/users/{agent_id}/role", admin_csrf, role="platform_admin")
    assert refused.status_code == 403
    assert _user(db, "agent@alpha.test").role == "agent"
    platform, csrf = platform_client
    assert 'value="platform_admin"' in platform.get("/admin/users").text
    created = _post(
        platform,
        "/admin/users",
        csrf,
        name="Pia",
        email="pia@alpha.test",
        role="platform_admin",
        unit_id="",
    )
    assert created.status_code == 200 and "/invite/" in created.text
    assert _user(db, "pia@alpha.test").role == "platform_admin"
    granted = _post(platform, f"/admin/users/{agent_id}/role", csrf, role="platform_admin")
    assert granted.status_code == 303
    assert _user(db, "agent@alpha.test").role == "platform_admin"


def test_org_admin_cannot_touch_a_platform_admin(
    admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    target = tenant.users["platform_admin"].id
    page = text_of(client.get(f"/admin/users/{target}"))
    assert "Seul un administrateur de la plateforme" in page
    for action, data in (("role", {"role": "agent"}), ("active", {"active": "0"}), ("reset", {})):
        response = _post(client, f"/admin/users/{target}/{action}", csrf, **data)
        assert response.status_code == 403, action
    user = _user(db, "platform_admin@alpha.test")
    assert (user.role, user.active) == ("platform_admin", True)
    assert _count(db, OneTimeLink) == 0


def test_change_role_ends_the_sessions_of_the_user(
    app: FastAPI, admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    with TestClient(app) as agent:
        login(agent, "agent@alpha.test")
        response = _post(
            client, f"/admin/users/{tenant.users['agent'].id}/role", csrf, role="validator"
        )
        assert response.status_code == 303
        assert "Le rôle a été modifié." in text_of(client.get(response.headers["location"]))
        assert _user(db, "agent@alpha.test").role == "validator"
        assert agent.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_own_role_and_last_admin_are_protected(
    admin_client: Client, platform_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    me = tenant.users["org_admin"].id
    own = _post(client, f"/admin/users/{me}/role", csrf, role="agent")
    assert own.status_code == 400 and "votre propre rôle" in text_of(own)
    own_off = _post(client, f"/admin/users/{me}/active", csrf, active="0")
    assert own_off.status_code == 400
    platform, pcsrf = platform_client
    demote = _post(platform, f"/admin/users/{me}/role", pcsrf, role="agent")
    assert demote.status_code == 400
    assert "plus aucun administrateur actif" in text_of(demote)
    deactivate = _post(platform, f"/admin/users/{me}/active", pcsrf, active="0")
    assert deactivate.status_code == 400
    user = _user(db, "org_admin@alpha.test")
    assert (user.role, user.active) == ("org_admin", True)
    invalid = _post(client, f"/admin/users/{tenant.users['agent'].id}/role", csrf, role="chef")
    assert invalid.status_code == 400 and "Rôle inconnu." in text_of(invalid)


def test_move_user_to_a_unit_and_back(admin_client: Client, tenant: Tenant, db: Session) -> None:
    client, csrf = admin_client
    unit = _unit(db, tenant, "Finances")
    agent = tenant.users["agent"].id
    assert (
        _post(client, f"/admin/users/{agent}/unit", csrf, unit_id=str(unit.id)).status_code == 303
    )
    assert _user(db, "agent@alpha.test").unit_id == unit.id
    assert "Finances" in text_of(client.get("/admin/users"))
    assert _post(client, f"/admin/users/{agent}/unit", csrf, unit_id="").status_code == 303
    assert _user(db, "agent@alpha.test").unit_id is None
    bad = _post(client, f"/admin/users/{agent}/unit", csrf, unit_id="424242")
    assert bad.status_code == 404 and _user(db, "agent@alpha.test").unit_id is None


def test_deactivation_ends_an_open_session_and_tokens_at_once(
    app: FastAPI, admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    _, token = create_api_token(db, tenant.users["agent"], "script")
    bearer = {"authorization": f"Bearer {token}"}
    agent_id = tenant.users["agent"].id
    with TestClient(app) as agent:
        login(agent, "agent@alpha.test")
        assert agent.get("/").status_code == 200
        assert agent.get("/api/v1/models", headers=bearer).status_code == 200
        off = _post(client, f"/admin/users/{agent_id}/active", csrf, active="0")
        assert off.status_code == 303
        assert "Le compte a été désactivé." in text_of(client.get(off.headers["location"]))
        next_page = agent.get("/", follow_redirects=False)
        assert next_page.status_code == 303 and next_page.headers["location"].startswith("/login")
        assert agent.get("/api/v1/models", headers=bearer).status_code == 401
    assert "Désactivé" in text_of(client.get("/admin/users"))
    with TestClient(app) as again:
        token_form = csrf_of(again.get("/login").text)
        refused = again.post(
            "/login",
            data={"csrf_token": token_form, "email": "agent@alpha.test", "password": PASSWORD},
        )
        assert refused.status_code == 401
    assert _post(client, f"/admin/users/{agent_id}/active", csrf, active="1").status_code == 303
    with TestClient(app) as back:
        login(back, "agent@alpha.test")


def test_reset_link_sets_a_new_password_once(
    app: FastAPI, admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    agent_id = tenant.users["agent"].id
    response = _post(client, f"/admin/users/{agent_id}/reset", csrf)
    assert response.status_code == 200
    link = link_in(response, "reset")
    assert "/reset/" not in client.get(f"/admin/users/{agent_id}").text
    with TestClient(app) as agent:
        page = agent.get(link)
        assert page.status_code == 200 and "agent@alpha.test" in page.text
        done = agent.post(
            link,
            data={
                "csrf_token": csrf_of(page.text),
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert agent.get(link).status_code == 404
    with TestClient(app) as later:
        token = csrf_of(later.get("/login").text)
        old = later.post(
            "/login", data={"csrf_token": token, "email": "agent@alpha.test", "password": PASSWORD}
        )
        assert old.status_code == 401
        login(later, "agent@alpha.test", NEW_PASSWORD)
    # A deactivated account gets no reset link.
    _post(client, f"/admin/users/{agent_id}/active", csrf, active="0")
    refused = _post(client, f"/admin/users/{agent_id}/reset", csrf)
    assert refused.status_code == 409 and "Ce compte est désactivé." in text_of(refused)
    assert "/reset/" not in refused.text


# Units and teams ------------------------------------------------------------------------------


def test_units_create_refuse_duplicates_and_delete(
    admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    created = _post(client, "/admin/units", csrf, name=" Urbanisme ")
    assert created.status_code == 303
    assert "Urbanisme" in text_of(client.get("/admin/units"))
    unit = db.scalars(select(Unit)).one()
    unit_id = unit.id
    assert (unit.name, unit.org_id) == ("Urbanisme", tenant.org.id)
    duplicate = _post(client, "/admin/units", csrf, name="Urbanisme")
    assert duplicate.status_code == 409 and "Ce nom est déjà utilisé." in text_of(duplicate)
    assert input_value(duplicate, "name") == "Urbanisme"
    empty = _post(client, "/admin/units", csrf, name="   ")
    assert empty.status_code == 400 and "Un nom est obligatoire." in text_of(empty)
    assert _count(db, Unit) == 1
    agent = db.get(User, tenant.users["agent"].id)
    assert agent is not None
    agent.unit_id = unit_id
    db.commit()
    deleted = _post(client, f"/admin/units/{unit_id}/delete", csrf)
    assert deleted.status_code == 303
    assert _count(db, Unit) == 0
    assert _user(db, "agent@alpha.test").unit_id is None
    assert _post(client, f"/admin/units/{unit_id}/delete", csrf).status_code == 404


def test_teams_members_and_deletion(admin_client: Client, tenant: Tenant, db: Session) -> None:
    client, csrf = admin_client
    unit = _unit(db, tenant, "Accueil")
    created = _post(client, "/admin/teams", csrf, name="Équipe numérique", unit_id=str(unit.id))
    assert created.status_code == 303
    team = db.scalars(select(Team)).one()
    assert (team.name, team.unit_id) == ("Équipe numérique", unit.id)
    assert created.headers["location"] == f"/admin/teams/{team.id}"
    duplicate = _post(client, "/admin/teams", csrf, name="Équipe numérique", unit_id="")
    assert duplicate.status_code == 409
    empty = _post(client, "/admin/teams", csrf, name="", unit_id="")
    assert empty.status_code == 400 and "Un nom est obligatoire." in text_of(empty)
    no_unit = _post(client, "/admin/teams", csrf, name="Sans unité", unit_id="")
    assert no_unit.status_code == 303
    agent, dpo = tenant.users["agent"].id, tenant.users["dpo"].id
    for member in (agent, dpo):
        added = _post(client, f"/admin/teams/{team.id}/members", csrf, user_id=str(member))
        assert added.status_code == 303
    page = text_of(client.get(f"/admin/teams/{team.id}"))
    assert "agent alpha" in page and "dpo alpha" in page and "Accueil" in page
    teams = text_of(client.get("/admin/teams"))
    assert re.search(r"Équipe numérique.*?<td>Accueil</td>\s*<td>2</td>", teams, re.S)
    removed = _post(client, f"/admin/teams/{team.id}/members/{agent}/remove", csrf)
    assert removed.status_code == 303
    members = db.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)).all()
    assert list(members) == [dpo]
    deleted = _post(client, f"/admin/teams/{team.id}/delete", csrf)
    assert deleted.status_code == 303
    assert db.scalar(select(Team).where(Team.id == team.id)) is None
    assert _count(db, TeamMember) == 0


# Models ---------------------------------------------------------------------------------------


def test_models_page_lists_every_registered_model_and_saves(
    app: FastAPI, admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    page = client.get("/admin/models")
    for info in app.state.gateway.registry.models():
        assert info.id in page.text
    response = client.post(
        "/admin/models",
        data={
            "csrf_token": csrf,
            "enabled": ["fake/echo"],
            "roles": ["validator|fake/echo", "org_admin|fake/echo"],
            "default": "fake/echo",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expire_all()
    rows = {
        r.model_id: r for r in db.scalars(select(OrgModel).where(OrgModel.org_id == tenant.org.id))
    }
    assert rows["fake/echo"].enabled and rows["fake/echo"].is_default
    assert rows["fake/echo"].roles == ["org_admin", "validator"]
    assert not rows["fake/embed"].enabled
    _, token = create_api_token(db, tenant.users["agent"], "t")
    listed = client.get("/api/v1/models", headers={"authorization": f"Bearer {token}"})
    assert listed.json()["data"] == []  # the agent may no longer use any model
    _, vtoken = create_api_token(db, tenant.users["validator"], "t")
    listed = client.get("/api/v1/models", headers={"authorization": f"Bearer {vtoken}"})
    assert [m["id"] for m in listed.json()["data"]] == ["fake/echo"]
    saved = client.get("/admin/models").text
    assert 'value="validator|fake/echo" checked' in saved
    assert 'value="agent|fake/echo" >' in saved
    # No role ticked: every role again.
    client.post("/admin/models", data={"csrf_token": csrf, "enabled": ["fake/echo", "fake/embed"]})
    listed = client.get("/api/v1/models", headers={"authorization": f"Bearer {token}"})
    assert {m["id"] for m in listed.json()["data"]} == {"fake/echo", "fake/embed"}


def test_tampered_models_form_changes_nothing(
    admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    before = sorted(
        (r.model_id, r.enabled, tuple(r.roles), r.is_default) for r in db.scalars(select(OrgModel))
    )
    for data in (
        {"enabled": ["fake/embed"], "roles": ["chef|fake/echo"]},
        {"enabled": ["fake/embed", "openai/gpt-x"]},
    ):
        response = client.post("/admin/models", data={"csrf_token": csrf, **data})
        assert response.status_code in (400, 404)
        assert "alert error" in response.text
    db.expire_all()
    after = sorted(
        (r.model_id, r.enabled, tuple(r.roles), r.is_default) for r in db.scalars(select(OrgModel))
    )
    assert after == before


# Branding -------------------------------------------------------------------------------------


def test_branding_name_colour_and_logo(admin_client: Client, tenant: Tenant, db: Session) -> None:
    client, csrf = admin_client
    png = _png()
    response = client.post(
        "/admin/branding",
        data={"csrf_token": csrf, "name": "Ville d'Alpha", "colour": "#0B3D2E"},
        files={"logo": ("logo.png", png, "image/png")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    db.expire_all()
    org = db.get(Organisation, tenant.org.id)
    assert org is not None
    assert (org.name, org.colour, org.logo_mime, org.logo) == (
        "Ville d'Alpha",
        "#0b3d2e",
        "image/png",
        png,
    )
    logo = client.get("/org/logo")
    assert logo.content == png and logo.headers["content-type"] == "image/png"
    home = text_of(client.get("/"))
    assert "Ville d'Alpha" in home and "--brand: #0b3d2e" in home
    # Saving without a new file keeps the logo.
    client.post(
        "/admin/branding",
        data={"csrf_token": csrf, "name": "Ville d'Alpha", "colour": "#0b3d2e"},
        files={"logo": ("", b"", "application/octet-stream")},
    )
    db.expire_all()
    assert db.get(Organisation, tenant.org.id).logo == png  # type: ignore[union-attr]
    for name, data in (
        ("logo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40),
        ("logo.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40),
    ):
        saved = client.post(
            "/admin/branding",
            data={"csrf_token": csrf, "name": "Alpha", "colour": "#0b3d2e"},
            files={"logo": (name, data, "application/octet-stream")},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        db.expire_all()
        assert db.get(Organisation, tenant.org.id).logo == data  # type: ignore[union-attr]


BAD_BRANDING: list[tuple[str, str, tuple[str, bytes] | None, str]] = [
    ("", "#123456", None, "Un nom est obligatoire."),
    ("Alpha", "bleu", None, "La couleur doit s'écrire comme #1d4f91."),
    ("Alpha", "#12345g", None, "La couleur doit"),
    (
        "Alpha",
        "#123456",
        ("logo.png", b"Je suis un texte, pas une image.\n"),
        "Le logo doit être une image PNG, JPEG ou WebP",
    ),
    ("Alpha", "#123456", ("logo.png", _png() + b"\x00" * 300_000), "300000 octets"),
]


def test_bad_branding_is_refused_and_nothing_changes(
    admin_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = admin_client
    for name, colour, logo, message in BAD_BRANDING:
        files = {"logo": (logo[0], logo[1], "image/png")} if logo else None
        response = client.post(
            "/admin/branding",
            data={"csrf_token": csrf, "name": name, "colour": colour},
            files=files,
        )
        assert response.status_code == 400, message
        assert message in text_of(response)
        assert input_value(response, "colour") == colour
        assert input_value(response, "name") == name
    db.expire_all()
    org = db.get(Organisation, tenant.org.id)
    assert org is not None
    assert (org.name, org.colour, org.logo) == ("Org alpha", "#1d4f91", None)
