"""OIDC single sign-on against a real provider served on 127.0.0.1 (tests/auth/oidc_provider.py).

The browser's hops are driven by hand: the app's TestClient for Civique, httpx for the provider.
"""

from __future__ import annotations

import html
import socket
import time
from collections.abc import Iterator, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.app import create_app
from civique.auth import oidc
from civique.auth.models import User
from civique.auth.service import create_user
from civique.orgs.models import Organisation
from civique.orgs.service import create_organisation
from civique.settings import Settings
from tests.auth.oidc_provider import OIDCProvider, TestUser, new_key

CALLBACK = "http://testserver/auth/oidc/callback"
ORG_MAP = {"ORG-ALPHA": "alpha", "ORG-BETA": "beta", "ORG-GHOST": "ghost"}
ROLE_MAP = {
    "civique-validators": "validator",
    "civique-admins": "org_admin",
    "civique-platform": "platform_admin",
}


def lea(**claims: Any) -> TestUser:
    """An agent of organisation alpha, known to the provider."""
    base = {
        "email": "lea.martin@alpha.test",
        "email_verified": True,
        "name": "Léa Martin",
        "organisation": "ORG-ALPHA",
        "groups": ["staff", "civique-validators"],
    }
    return TestUser(sub="sub-lea", claims={**base, **claims})


class Answer(Protocol):
    """What the tests read from a response (Starlette's TestClient and httpx differ in type)."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


def oidc_settings(base: Settings, issuer: str, **extra: Any) -> Settings:
    """`base` with single sign-on pointed at `issuer`."""
    values = {
        "base_url": "http://testserver",
        "oidc_issuer": issuer,
        "oidc_client_id": "civique",
        "oidc_client_secret": "s3cret",
        "oidc_org_claim": "organisation",
        "oidc_org_map": ORG_MAP,
        "oidc_role_claim": "groups",
        "oidc_role_map": ROLE_MAP,
        **extra,
    }
    return base.model_copy(update=values)


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    """One live provider for the module; reset before each test."""
    server = OIDCProvider().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_provider(provider: OIDCProvider) -> None:
    provider.reset()
    provider.user = lea()


@pytest.fixture
def settings(settings: Settings, provider: OIDCProvider) -> Settings:
    """The shared test settings with single sign-on on the live provider."""
    return oidc_settings(settings, provider.issuer)


@pytest.fixture
def alpha(db: Session) -> Organisation:
    """Organisation alpha with one agent (no password: hashing would slow every test)."""
    org = create_organisation(db, None, "alpha", "Org alpha", [])
    create_user(db, org.id, "agent@alpha.test", "Agent Alpha", "agent")
    return org


@pytest.fixture
def beta(db: Session) -> Organisation:
    """Organisation beta with one agent."""
    org = create_organisation(db, None, "beta", "Org beta", [])
    create_user(db, org.id, "agent@beta.test", "Agent Beta", "agent")
    return org


def start(client: TestClient, provider: OIDCProvider, next: str = "/", pkce: bool = True) -> str:
    """Click the SSO button, let the provider consent; the URL it sends the browser back to."""
    response = client.get("/auth/oidc/login", params={"next": next}, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{provider.issuer}/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert query.get("code_challenge_method") == (["S256"] if pkce else None)
    assert query["redirect_uri"] == [CALLBACK]
    # ProConnect refuses a state or nonce shorter than 32 characters.
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    at_provider = httpx.get(location, follow_redirects=False)
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["location"]
    assert back.startswith(f"{CALLBACK}?")
    return back


def sso(client: TestClient, provider: OIDCProvider, next: str = "/") -> Answer:
    """The whole login round trip; the app's answer to the callback."""
    return client.get(start(client, provider, next), follow_redirects=False)


def text_of(response: Answer) -> str:
    """The page's text with HTML entities decoded (apostrophes are escaped in pages)."""
    return html.unescape(response.text)


def logged_in(client: TestClient) -> bool:
    """True when the client's session opens the account page."""
    return client.get("/account", follow_redirects=False).status_code == 200


def users_named(db: Session, email: str) -> list[User]:
    """Accounts with this e-mail address (fresh from the database)."""
    db.expire_all()
    return list(db.scalars(select(User).where(User.email == email)))


def user_count(db: Session) -> int:
    """Number of accounts."""
    return db.scalar(select(func.count()).select_from(User)) or 0


# --- successful logins -------------------------------------------------------------------


def test_first_login_provisions_the_user(
    app: FastAPI, db: Session, alpha: Organisation, beta: Organisation, provider: OIDCProvider
) -> None:
    with TestClient(app) as client:
        response = sso(client, provider, next="/account")
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/account"
        page = client.get("/account")
        assert page.status_code == 200
        assert "Léa Martin" in page.text
    [user] = users_named(db, "lea.martin@alpha.test")
    assert user.org_id == alpha.id
    assert user.role == "validator"
    assert user.oidc_subject == "sub-lea"
    assert user.password_hash is None
    assert user.last_login_at is not None


def test_second_login_reuses_the_account_and_follows_mapped_claims(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    with TestClient(app) as first, TestClient(app) as second, TestClient(app) as third:
        assert sso(first, provider).status_code == 303
        [created] = users_named(db, "lea.martin@alpha.test")
        provider.user = lea(name="Léa Martin-Dupont", groups=["civique-admins", "staff"])
        assert sso(second, provider).status_code == 303
        [again] = users_named(db, "lea.martin@alpha.test")
        assert again.id == created.id
        assert (again.name, again.role) == ("Léa Martin-Dupont", "org_admin")
        # The role changed: the session opened with the old role ends.
        assert not logged_in(first)
        assert logged_in(second)
        # No mapped value and no name: what Civique holds is kept.
        provider.user = TestUser(
            sub="sub-lea",
            claims={"email": "lea.martin@alpha.test", "organisation": "ORG-ALPHA", "groups": []},
        )
        assert sso(third, provider).status_code == 303
        [kept] = users_named(db, "lea.martin@alpha.test")
        assert (kept.name, kept.role) == ("Léa Martin-Dupont", "org_admin")
        assert logged_in(second)
    assert user_count(db) == 2


def test_next_stays_on_this_site(app: FastAPI, alpha: Organisation, provider: OIDCProvider) -> None:
    with TestClient(app) as client:
        response = sso(client, provider, next="//evil.example/steal")
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_existing_account_of_the_same_organisation_is_linked(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    before = user_count(db)
    [original] = users_named(db, "agent@alpha.test")
    provider.user = lea(email="AGENT@alpha.test", groups=[])
    with TestClient(app) as client:
        assert sso(client, provider).status_code == 303
        assert logged_in(client)
    [agent] = users_named(db, "agent@alpha.test")
    assert agent.id == original.id
    assert agent.oidc_subject == "sub-lea"
    assert (agent.name, agent.role) == ("Léa Martin", "agent")  # no mapped group: role kept
    assert user_count(db) == before


def test_proconnect_style_userinfo_jwt(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    # ProConnect puts only `sub` in the ID token and answers userinfo with a signed JWT.
    provider.user = TestUser(
        sub="pc-123",
        claims={
            "email": "jean.dupont@alpha.test",
            "given_name": "Jean",
            "usual_name": "Dupont",
            "organisation": "ORG-ALPHA",
        },
        id_token_claims=(),
    )
    provider.userinfo_as_jwt = True
    with TestClient(app) as client:
        assert sso(client, provider).status_code == 303
    [user] = users_named(db, "jean.dupont@alpha.test")
    assert (user.name, user.role, user.org_id) == ("Jean Dupont", "agent", alpha.id)


def test_pkce_can_be_turned_off(
    settings: Settings, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    provider.require_pkce = False
    no_pkce = create_app(settings.model_copy(update={"oidc_pkce": False}))
    with TestClient(no_pkce) as client:
        back = start(client, provider, pkce=False)
        assert client.get(back, follow_redirects=False).status_code == 303
        assert logged_in(client)
    no_pkce.state.engine.dispose()


def test_trusted_email_follows_a_changed_subject(
    settings: Settings, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    # ProConnect: one `sub` per identity provider; the professional e-mail is the identity.
    [agent] = users_named(db, "agent@alpha.test")
    agent.oidc_subject = "sub-from-the-old-provider"
    db.commit()
    provider.user = TestUser(
        sub="sub-from-the-new-provider",
        claims={"email": "agent@alpha.test", "organisation": "ORG-ALPHA"},
    )
    trusting = create_app(settings.model_copy(update={"oidc_trust_email": True}))
    with TestClient(trusting) as client:
        assert sso(client, provider).status_code == 303
    trusting.state.engine.dispose()
    [relinked] = users_named(db, "agent@alpha.test")
    assert relinked.oidc_subject == "sub-from-the-new-provider"


# --- refusals ------------------------------------------------------------------------------


def test_unmapped_organisation_is_refused_in_french(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    before = user_count(db)
    for value in ("ORG-UNKNOWN", "ORG-GHOST"):  # not in the map; mapped to no organisation
        provider.user = lea(organisation=value)
        with TestClient(app) as client:
            response = sso(client, provider)
            assert response.status_code == 403
            assert "Votre compte n'est rattaché à aucune organisation de cette instance." in (
                text_of(response)
            )
            assert not logged_in(client)
    assert user_count(db) == before


def test_organisation_falls_back_to_the_default(
    app: FastAPI, settings: Settings, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    other = create_app(settings.model_copy(update={"oidc_default_org": "alpha"}))
    provider.user = lea(organisation="ORG-UNKNOWN")
    with TestClient(other) as client:
        assert sso(client, provider).status_code == 303
    other.state.engine.dispose()
    assert users_named(db, "lea.martin@alpha.test")[0].org_id == alpha.id


def test_never_links_across_organisations(
    app: FastAPI, db: Session, alpha: Organisation, beta: Organisation, provider: OIDCProvider
) -> None:
    before = user_count(db)
    provider.user = lea(email="agent@beta.test")  # beta's agent, but the claims say alpha
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 409
        assert "un autre compte utilise déjà cette adresse" in text_of(response)
        assert not logged_in(client)
    [beta_agent] = users_named(db, "agent@beta.test")
    assert beta_agent.oidc_subject is None
    assert user_count(db) == before


def test_account_linked_to_another_subject_is_not_taken_over(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    [agent] = users_named(db, "agent@alpha.test")
    agent.oidc_subject = "the-real-agent"
    db.commit()
    provider.user = lea(email="agent@alpha.test")  # verified, but another subject
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 409
        assert not logged_in(client)
    assert users_named(db, "agent@alpha.test")[0].oidc_subject == "the-real-agent"


def test_unverified_email_is_not_linked(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    provider.user = lea(email="agent@alpha.test", email_verified=False)
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 409
        assert "n'a pas confirmé votre adresse" in text_of(response)
    assert users_named(db, "agent@alpha.test")[0].oidc_subject is None


def test_tampered_state_is_refused(
    app: FastAPI, alpha: Organisation, provider: OIDCProvider
) -> None:
    with TestClient(app) as client:
        back = start(client, provider)
        query = parse_qs(urlsplit(back).query)
        query["state"] = ["forged" + query["state"][0][6:]]
        response = client.get(f"{CALLBACK}?{urlencode(query, doseq=True)}")
        assert response.status_code == 400
        assert "la demande de connexion a expiré ou a été modifiée" in text_of(response)
        assert not logged_in(client)
    assert provider.issued_id_tokens == 0  # the code was never exchanged


def test_callback_in_another_browser_or_replayed_is_refused(
    app: FastAPI, alpha: Organisation, provider: OIDCProvider
) -> None:
    with TestClient(app) as victim, TestClient(app) as attacker:
        back = start(attacker, provider)
        # Login CSRF: the attacker's callback URL opened in the victim's browser.
        assert victim.get(back).status_code == 400
        assert not logged_in(victim)
        assert attacker.get(back, follow_redirects=False).status_code == 303
        assert attacker.get(back).status_code == 400  # a state works once


@pytest.mark.parametrize("kid", ["test-key", "rogue-key"])
def test_token_signed_by_another_key_is_refused(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider, kid: str
) -> None:
    before = user_count(db)
    provider.signing_key = new_key(kid)
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 401
        assert "la réponse du fournisseur d'identité n'a pas pu être vérifiée" in text_of(response)
        assert not logged_in(client)
    assert provider.issued_id_tokens == 1
    assert user_count(db) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": "someone-else"},
        {"aud": "someone-else", "azp": "civique"},
        {"aud": ["someone-else", "another"]},
        {"iss": "http://127.0.0.1:9/evil"},
        {"nonce": "replayed-nonce"},
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
    ],
    ids=["audience", "audience-with-azp", "audience-list", "issuer", "nonce", "expired"],
)
def test_invalid_id_token_is_refused(
    app: FastAPI,
    db: Session,
    alpha: Organisation,
    provider: OIDCProvider,
    overrides: dict[str, Any],
) -> None:
    before = user_count(db)
    provider.id_token_overrides = overrides
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 401, overrides
        assert "n'a pas pu être vérifiée" in text_of(response)
        assert not logged_in(client)
    assert user_count(db) == before


def test_deactivated_user_and_suspended_organisation_are_refused(
    app: FastAPI, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    with TestClient(app) as client:
        assert sso(client, provider).status_code == 303
    [user] = users_named(db, "lea.martin@alpha.test")
    user.active = False
    db.commit()
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 403
        assert "Ce compte est désactivé." in text_of(response)
        assert not logged_in(client)
    user.active = True
    db.get(Organisation, alpha.id).active = False  # type: ignore[union-attr]
    db.commit()
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 403
        assert "votre organisation est suspendue" in text_of(response)


def test_provider_error_parameter_is_shown(
    app: FastAPI, alpha: Organisation, provider: OIDCProvider
) -> None:
    provider.deny = "access_denied"
    with TestClient(app) as client:
        response = sso(client, provider)
        assert response.status_code == 400
        assert "a refusé la connexion (access_denied)" in text_of(response)
        forged = client.get(f"{CALLBACK}?error=%3Cscript%3Ealert(1)%3C/script%3E")
        assert forged.status_code == 400
        assert "<script>alert" not in forged.text
        assert "a refusé la connexion (?)" in text_of(forged)


@pytest.mark.parametrize(
    "overrides",
    [{"issuer": "https://someone-else.example"}, {"authorization_endpoint": None}],
    ids=["issuer", "no-authorize-endpoint"],
)
def test_provider_configuration_mismatch_is_explained(
    app: FastAPI, provider: OIDCProvider, overrides: dict[str, Any]
) -> None:
    provider.discovery_overrides = overrides
    with TestClient(app) as client:
        response = client.get("/auth/oidc/login", follow_redirects=False)
        assert response.status_code == 502
        assert "la configuration du fournisseur d'identité ne correspond pas" in text_of(response)


def test_wrong_client_secret_is_refused(
    settings: Settings, db: Session, alpha: Organisation, provider: OIDCProvider
) -> None:
    wrong = create_app(settings.model_copy(update={"oidc_client_secret": "not-the-secret"}))
    with TestClient(wrong) as client:
        response = sso(client, provider)
        assert response.status_code == 401
        assert "n'a pas pu être vérifiée" in text_of(response)
        assert not logged_in(client)
    wrong.state.engine.dispose()
    assert provider.issued_id_tokens == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_provider_down_gives_a_clear_error(settings: Settings) -> None:
    down = create_app(oidc_settings(settings, f"http://127.0.0.1:{_closed_port()}"))
    with TestClient(down) as client:
        response = client.get("/auth/oidc/login", follow_redirects=False)
        assert response.status_code == 502
        assert "le fournisseur d'identité est injoignable" in text_of(response)
    down.state.engine.dispose()


def test_provider_going_down_during_the_login(settings: Settings) -> None:
    short_lived = OIDCProvider().start()
    short_lived.user = lea()
    application = create_app(oidc_settings(settings, short_lived.issuer))
    try:
        with TestClient(application) as client:
            back = start(client, short_lived)
            short_lived.stop()  # gone between the consent and the code exchange
            response = client.get(back)
            assert response.status_code == 502
            assert "le fournisseur d'identité est injoignable" in text_of(response)
    finally:
        short_lived.stop()
        application.state.engine.dispose()


def test_single_sign_on_off_has_no_routes(settings: Settings) -> None:
    plain = create_app(settings.model_copy(update={"oidc_issuer": ""}))
    with TestClient(plain) as client:
        assert client.get("/auth/oidc/login").status_code == 404
        assert "/auth/oidc/login" not in client.get("/login").text
    plain.state.engine.dispose()


def test_login_page_offers_the_button(client: TestClient) -> None:
    page = client.get("/login?next=/account")
    assert 'href="/auth/oidc/login?next=/account"' in page.text


# --- rules without a database ------------------------------------------------------------


def _rules(**values: Any) -> Settings:
    base = {"oidc_issuer": "https://idp.example", "oidc_client_id": "civique"}
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("claim_value", "role"),
    [
        ("civique-validators", "validator"),
        (["staff", "civique-validators", "civique-admins"], "org_admin"),
        (["staff", "platform_admin", "org_admin"], None),  # raw role names are not mapped
        ("civique-platform", "platform_admin"),
        ([], None),
        (None, None),
        (True, None),
    ],
)
def test_role_mapping(claim_value: Any, role: str | None) -> None:
    rules = _rules(oidc_role_claim="groups", oidc_role_map=ROLE_MAP)
    claims = {} if claim_value is None else {"groups": claim_value}
    assert oidc.mapped_role(rules, claims) == role


def test_claims_by_dotted_path() -> None:
    rules = _rules(oidc_role_claim="realm_access.roles", oidc_role_map={"lab": "innovation_lead"})
    claims = {"realm_access": {"roles": ["offline_access", "lab"]}}
    assert oidc.mapped_role(rules, claims) == "innovation_lead"
    assert oidc.claim(claims, "realm_access.missing") is None
    assert oidc.claim_values(12345) == ["12345"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"oidc_role_map": {"admins": "superuser"}}, "unknown roles"),
        ({"oidc_default_role": "platform_admin"}, "platform_admin"),
        ({"oidc_default_role": "nobody"}, "DEFAULT_ROLE"),
        ({"oidc_scopes": "email profile"}, "openid"),
        (
            {"environment": "production", "secret_key": "x" * 40, "oidc_issuer": "http://idp"},
            "https",
        ),
    ],
)
def test_bad_settings_are_refused_at_start(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        oidc.check_config(_rules(**values))


def test_bad_settings_stop_the_app(settings: Settings) -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        create_app(settings.model_copy(update={"oidc_role_map": {"x": "emperor"}}))
