"""Platform administration through HTTP: organisations, their first admin, suspension."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.auth.models import OneTimeLink, User
from civique.auth.service import create_api_token
from civique.orgs.models import Organisation, OrgModel
from tests.helpers import PASSWORD, Tenant, csrf_of, login
from tests.orgs.conftest import input_value, link_in, text_of

Client = tuple[TestClient, str]
NEW_PASSWORD = "gamma admin password 2026"


def _post(client: TestClient, url: str, csrf: str, **data: object):  # type: ignore[no-untyped-def]
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_platform_page_lists_organisations_for_platform_admins_only(
    app: FastAPI, platform_client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    client, _ = platform_client
    page = text_of(client.get("/platform"))
    assert "Org alpha" in page and "Org beta" in page
    assert "<code>alpha</code>" in page and "<code>beta</code>" in page
    assert page.count("<td>6</td>") == 2  # six users in each organisation
    assert page.count("En service") == 2
    with TestClient(app) as admin:
        csrf = login(admin, tenant.users["org_admin"].email)
        assert admin.get("/platform").status_code == 403
        refused = _post(admin, f"/platform/orgs/{other_tenant.org.id}/active", csrf, active="0")
        assert refused.status_code == 403
        assert (
            _post(
                admin,
                "/platform/orgs",
                csrf,
                slug="pirate",
                name="Pirate",
                admin_email="p@p.test",
                admin_name="P",
            ).status_code
            == 403
        )
    with TestClient(app) as anonymous:
        response = anonymous.get("/platform", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_create_organisation_with_its_first_admin(
    app: FastAPI, platform_client: Client, db: Session
) -> None:
    client, csrf = platform_client
    response = _post(
        client,
        "/platform/orgs",
        csrf,
        slug=" Gamma-Ville ",
        name="Ville de Gamma",
        admin_email="Admin@Gamma.test",
        admin_name="Gaëlle Admin",
    )
    assert response.status_code == 200
    link = link_in(response, "invite")
    assert "admin@gamma.test" in text_of(response)
    org = db.scalar(select(Organisation).where(Organisation.slug == "gamma-ville"))
    assert org is not None and org.name == "Ville de Gamma" and org.active
    admin = db.scalar(select(User).where(User.email == "admin@gamma.test"))
    assert admin is not None and (admin.org_id, admin.role, admin.name) == (
        org.id,
        "org_admin",
        "Gaëlle Admin",
    )
    rules = db.scalars(select(OrgModel).where(OrgModel.org_id == org.id)).all()
    registered = {m.id for m in app.state.gateway.registry.models()}
    assert {r.model_id for r in rules} == registered
    assert all(r.enabled and r.roles == [] for r in rules)
    assert [r.model_id for r in rules if r.is_default] == ["fake/echo"]  # a chat model
    assert "/invite/" not in client.get("/platform").text  # shown once
    with TestClient(app) as newcomer:
        page = newcomer.get(link)
        newcomer.post(
            link,
            data={
                "csrf_token": csrf_of(page.text),
                "password": NEW_PASSWORD,
                "confirm": NEW_PASSWORD,
            },
        )
        users = text_of(newcomer.get("/admin/users"))
        assert "Gaëlle Admin" in users and "Org alpha" not in users
        assert "alpha" not in users.split("<main", 1)[1]
        models = newcomer.get("/api/v1/models").json()["data"]
        assert {m["id"] for m in models} == registered
    with TestClient(app) as again:
        assert again.get(link).status_code == 404


def test_bad_organisations_are_refused_and_nothing_is_created(
    platform_client: Client, tenant: Tenant, db: Session
) -> None:
    client, csrf = platform_client
    orgs, users = _count(db, Organisation), _count(db, User)
    good = {"slug": "delta", "name": "Delta", "admin_email": "a@delta.test", "admin_name": "A"}
    cases = [
        ({"slug": "Pas bon!"}, 400, "L'identifiant ne peut contenir"),
        ({"slug": "x"}, 400, "L'identifiant ne peut contenir"),
        ({"slug": "alpha"}, 409, "Ce nom est déjà utilisé."),
        ({"name": "  "}, 400, "Un nom est obligatoire."),
        ({"admin_name": ""}, 400, "Un nom est obligatoire."),
        ({"admin_email": "pas une adresse"}, 400, "adresse e-mail n'est pas valide"),
        ({"admin_email": "AGENT@alpha.test"}, 409, "Un compte existe déjà"),
    ]
    for change, status, message in cases:
        fields = {**good, **change}
        response = _post(client, "/platform/orgs", csrf, **fields)
        assert response.status_code == status, change
        assert message in text_of(response), change
        assert "/invite/" not in response.text
        for name, value in fields.items():
            assert input_value(response, name) == value, (change, name)
    assert (_count(db, Organisation), _count(db, User)) == (orgs, users)
    assert _count(db, OneTimeLink) == 0


def test_suspended_organisation_cannot_log_in_or_use_tokens(
    app: FastAPI, platform_client: Client, tenant: Tenant, other_tenant: Tenant, db: Session
) -> None:
    client, csrf = platform_client
    _, token = create_api_token(db, other_tenant.users["agent"], "script")
    bearer = {"authorization": f"Bearer {token}"}
    with TestClient(app) as beta:
        login(beta, other_tenant.users["agent"].email)
        assert beta.get("/").status_code == 200
        assert beta.get("/api/v1/models", headers=bearer).status_code == 200
        off = _post(client, f"/platform/orgs/{other_tenant.org.id}/active", csrf, active="0")
        assert off.status_code == 303
        assert "Org beta est suspendue." in text_of(client.get("/platform"))
        next_page = beta.get("/", follow_redirects=False)
        assert next_page.status_code == 303 and next_page.headers["location"].startswith("/login")
        assert beta.get("/api/v1/models", headers=bearer).status_code == 401
        token_form = csrf_of(beta.get("/login").text)
        refused = beta.post(
            "/login",
            data={
                "csrf_token": token_form,
                "password": PASSWORD,
                "email": other_tenant.users["org_admin"].email,
            },
        )
        assert refused.status_code == 401
    assert "Suspendue" in text_of(client.get("/platform"))
    # The platform admin's own organisation is untouched, and cannot be suspended.
    assert client.get("/").status_code == 200
    own = _post(client, f"/platform/orgs/{tenant.org.id}/active", csrf, active="0")
    assert own.status_code == 400
    db.expire_all()
    assert db.get(Organisation, tenant.org.id).active  # type: ignore[union-attr]
    restored = _post(client, f"/platform/orgs/{other_tenant.org.id}/active", csrf, active="1")
    assert restored.status_code == 303
    with TestClient(app) as back:
        login(back, other_tenant.users["agent"].email)
        assert back.get("/api/v1/models", headers=bearer).status_code == 200


def test_unknown_organisation_is_not_found(platform_client: Client) -> None:
    client, csrf = platform_client
    assert _post(client, "/platform/orgs/987654/active", csrf, active="0").status_code == 404
