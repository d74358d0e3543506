"""Fixtures for the administration pages: clients logged in as the tenant's administrators."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.helpers import Tenant, login


@pytest.fixture
def admin_client(app: FastAPI, tenant: Tenant) -> Iterator[tuple[TestClient, str]]:
    """A client logged in as the org admin of `tenant`, with its CSRF token."""
    with TestClient(app) as test_client:
        yield test_client, login(test_client, tenant.users["org_admin"].email)


@pytest.fixture
def platform_client(app: FastAPI, tenant: Tenant) -> Iterator[tuple[TestClient, str]]:
    """A client logged in as the platform admin (a member of `tenant`)."""
    with TestClient(app) as test_client:
        yield test_client, login(test_client, tenant.users["platform_admin"].email)


def text_of(response: httpx.Response) -> str:
    """The page as a person reads it: entities decoded."""
    return html.unescape(response.text)


def link_in(response: httpx.Response, kind: str) -> str:
    """The path of the one-time `invite` or `reset` link shown on a page."""
    match = re.search(rf"https?://[^/\"]+(/{kind}/[A-Za-z0-9_-]+)", response.text)
    assert match, f"no {kind} link in the page"
    return match.group(1)


def input_value(response: httpx.Response, name: str) -> str:
    """The value of a text input of a page, to check what the user typed is kept."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', response.text)
    assert match, f"no input {name}"
    return html.unescape(match.group(1))
