"""Login, throttling, sessions, API tokens and one-time links."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import ApiToken, User
from civique.auth.service import issue_link
from civique.settings import Settings
from tests.helpers import PASSWORD, Tenant, csrf_of, login


def _try_login(client: TestClient, email: str, password: str) -> tuple[int, str]:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code, response.text


def test_login_sets_a_protected_cookie(client: TestClient, tenant: Tenant) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": tenant.users["agent"].email.upper(),
            "password": PASSWORD,
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, tenant: Tenant
) -> None:
    status_known, page_known = _try_login(client, tenant.users["agent"].email, "wrong password!")
    status_unknown, page_unknown = _try_login(client, "nobody@alpha.test", "wrong password!")
    assert status_known == status_unknown == 401
    message = "Adresse e-mail ou mot de passe incorrect."
    assert message in page_known.replace("&#39;", "'") and message in page_unknown.replace(
        "&#39;", "'"
    )


def test_login_is_throttled_after_repeated_failures(
    client: TestClient, tenant: Tenant, settings: Settings
) -> None:
    email = tenant.users["agent"].email
    for _ in range(settings.login_max_failures):
        assert _try_login(client, email, "not the password")[0] == 401
    status, page = _try_login(client, email, PASSWORD)  # even the right password waits
    assert status == 429 and "Trop de tentatives" in page
    # another account is not affected
    assert _try_login(client, tenant.users["dpo"].email, PASSWORD)[0] == 303


def test_login_form_without_csrf_is_refused(client: TestClient, tenant: Tenant) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"email": tenant.users["agent"].email, "password": PASSWORD}
    )
    assert response.status_code == 403


def test_open_redirect_is_refused(client: TestClient, tenant: Tenant) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": tenant.users["agent"].email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_pages_redirect_anonymous_users_to_login(client: TestClient) -> None:
    response = client.get("/chat/1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/chat/1"
    assert client.get("/", headers={"accept": "application/json"}).status_code == 401


def test_logout_ends_the_session(agent_client: tuple[TestClient, str]) -> None:
    client, csrf = agent_client
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_deactivation_ends_sessions_at_once(
    agent_client: tuple[TestClient, str], db: Session, tenant: Tenant
) -> None:
    client, _ = agent_client
    user = db.get(User, tenant.users["agent"].id)
    assert user is not None
    user.active = False
    user.session_epoch += 1
    db.commit()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_api_token_lifecycle(agent_client: tuple[TestClient, str], db: Session) -> None:
    client, csrf = agent_client
    page = client.post("/account/tokens", data={"csrf_token": csrf, "name": "Tableur RH"})
    assert page.status_code == 200
    clear = page.text.split('id="new-token">')[1].split("<")[0]
    assert clear.startswith("civ_") and len(clear) > 40
    stored = db.scalars(select(ApiToken)).one()
    assert clear not in (stored.token_hash, stored.prefix) and len(stored.token_hash) == 64
    # shown once: the account page no longer contains it
    assert clear not in client.get("/account").text
    api = TestClient(client.app)
    headers = {"Authorization": f"Bearer {clear}"}
    assert api.get("/api/v1/models", headers=headers).status_code == 200
    client.post(f"/account/tokens/{stored.id}/revoke", data={"csrf_token": csrf})
    assert api.get("/api/v1/models", headers=headers).status_code == 401
    bad = client.post("/account/tokens", data={"csrf_token": csrf, "name": " "})
    assert bad.status_code == 400


def test_invitation_link_sets_password_once(
    app: FastAPI, db: Session, tenant: Tenant, settings: Settings
) -> None:
    user = db.get(User, tenant.users["validator"].id)
    assert user is not None
    link = issue_link(db, settings, user, "invite", None)
    path = link.removeprefix(settings.base_url)
    with TestClient(app) as browser:
        page = browser.get(path)
        assert page.status_code == 200 and user.email in page.text
        token = csrf_of(page.text)
        short = browser.post(
            path, data={"csrf_token": token, "password": "court", "confirm": "court"}
        )
        assert short.status_code == 400 and "au moins 12" in short.text
        done = browser.post(
            path,
            data={
                "csrf_token": token,
                "password": "nouveau mot de passe",
                "confirm": "nouveau mot de passe",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert browser.get("/").status_code == 200
    with TestClient(app) as other:
        again = other.get(path)
        assert again.status_code == 404 and "invalide" in again.text
        login(other, user.email, "nouveau mot de passe")
