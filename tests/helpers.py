"""Test helpers: tenants with one user per role, login through the real form."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.passwords import hash_password
from civique.auth.roles import Role
from civique.auth.service import create_user
from civique.orgs.models import Organisation
from civique.orgs.service import create_organisation
from civique.settings import Settings

PASSWORD = "correct horse battery staple"


@dataclass
class Tenant:
    """An organisation with one user per role."""

    org: Organisation
    users: dict[str, User]


def make_tenant(session: Session, slug: str, models: list[str] | None = None) -> Tenant:
    """Create an organisation and one user per role (password `PASSWORD`)."""
    org = create_organisation(
        session, None, slug, f"Org {slug}", models or ["fake/echo", "fake/embed"]
    )
    users = {}
    for role in Role:
        user = create_user(
            session, org.id, f"{role.value}@{slug}.test", f"{role.value} {slug}", role.value
        )
        user.password_hash = password_hash()  # argon2 is slow on purpose: hash once per run
        users[role.value] = user
    session.commit()
    return Tenant(org, users)


@functools.cache
def password_hash() -> str:
    """The argon2 hash of `PASSWORD`, computed once."""
    return hash_password(PASSWORD)


def csrf_of(html: str) -> str:
    """The CSRF token embedded in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/account").text)


def embedded_settings(
    database_url: str, data_dir: Path, model_file: Path, max_tokens: int, **extra: Any
) -> Settings:
    """Settings of the tests on the real embedded chat model (no fake provider); `extra`
    adds or changes fields (e.g. embeddings for grounded answers)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        fake_provider_enabled=False,
        embedded_enabled=True,
        embedded_model_path=model_file,
        embedded_max_tokens=max_tokens,
        jobs_in_process=False,
        log_json=False,
        log_level="WARNING",
        **extra,
    )
