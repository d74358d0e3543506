"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from civique.app import create_app
from civique.db.engine import make_engine
from civique.db.migrate import alembic_config
from civique.db.registry import Base
from civique.settings import Settings
from tests.helpers import Tenant, login, make_tenant

PG_SERVER = os.environ.get("CIVIQUE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", "postgresql"]


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def embedded_model_file() -> Path:
    """The verified packaged GGUF file (assembled from its packages on first use)."""
    from civique.llm.model_files import ensure_packaged_model

    data_dir = Path(os.environ.get("CIVIQUE_DATA_DIR") or ROOT / "var")
    return ensure_packaged_model(data_dir / "models")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, migrated with Alembic."""
    from alembic import command

    name = f"civique_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    command.upgrade(alembic_config(url), "head")
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pgvector_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL 16 with pgvector (the `pgserver` wheel), migrated: Debian's PostgreSQL
    15 has no pgvector, and the index must be tested in both of its PostgreSQL modes."""
    from alembic import command

    with warnings.catch_warnings():  # platformdirs warns that root has no XDG_RUNTIME_DIR
        warnings.simplefilter("ignore")
        import pgserver

        server = pgserver.get_server(tmp_path_factory.mktemp("pgvector"), cleanup_mode="stop")
    server.psql("CREATE DATABASE civique_vec;")
    socket_dir = server.get_uri().split("host=")[1]
    url = f"postgresql+psycopg://postgres@/civique_vec?host={socket_dir}"
    command.upgrade(alembic_config(url), "head")
    yield url
    server.cleanup()


def emptied(url: str) -> str:
    """Empty every table of a migrated PostgreSQL database; returns its URL."""
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite file per test (schema from the models) or the session's PostgreSQL, emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'civique.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        return url
    return emptied(request.getfixturevalue("pg_url"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Test settings: fake model only, no embedded model."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path,
        database_url=database_url,
        fake_provider_enabled=True,
        embedded_enabled=False,
        embedded_embeddings_enabled=False,
        documents_embedding_model="fake/embed",
        jobs_in_process=False,
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    """The application under test."""
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    """A session on the app's database."""
    with app.state.sessions() as session:
        yield session


@pytest.fixture
def tenant(db: Session) -> Tenant:
    """The main test organisation."""
    return make_tenant(db, "alpha")


@pytest.fixture
def other_tenant(db: Session) -> Tenant:
    """A second organisation, for isolation tests."""
    return make_tenant(db, "beta")


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous browser-like client."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def agent_client(app: FastAPI, tenant: Tenant) -> Iterator[tuple[TestClient, str]]:
    """A client logged in as the agent of `tenant`, with its CSRF token."""
    with TestClient(app) as test_client:
        yield test_client, login(test_client, tenant.users["agent"].email)
