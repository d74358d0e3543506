"""The translation tool on the real embedded model: French → English with a glossary term."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.llm.models import OutputRecord
from civique.settings import Settings
from civique.tools.translation import glossaries
from tests.helpers import embedded_settings, login, make_tenant

pytestmark = pytest.mark.slow
CHAT_MODEL = "embedded/qwen2.5-1.5b-instruct"
SOURCE = (
    "La mairie est ouverte du lundi au vendredi de 9 h à 17 h. Pour obtenir une copie de "
    "votre acte de naissance, adressez-vous à la mairie de votre lieu de naissance."
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path, embedded_model_file: Path) -> Settings:
    """The real embedded chat model only."""
    return embedded_settings(
        database_url,
        tmp_path,
        embedded_model_file,
        300,
        embedded_embeddings_enabled=False,
    )



def test_french_to_english_with_a_glossary_term(
    app: FastAPI, db: Session, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("model quality does not depend on the database: measured once")
    tenant = make_tenant(db, "alpha", [CHAT_MODEL])
    admin = tenant.users["org_admin"]
    glossary = glossaries.create_glossary(db, admin, "Termes")
    glossaries.add_entry(db, admin, glossary.id, "mairie", "en", "town hall")
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        started = time.perf_counter()
        response = client.post(
            "/tools/translation",
            data={"csrf_token": csrf, "text": SOURCE, "target_language": "en",
                  "glossary_id": str(glossary.id)},
            follow_redirects=False,
        )
        seconds = time.perf_counter() - started
        assert response.status_code == 303, response.text[:500]
        output_id = int(response.headers["location"].rsplit("/", 1)[1])
        page = client.get(f"/outputs/{output_id}").text
    record = db.scalars(select(OutputRecord).where(OutputRecord.id == output_id)).one()
    print(f"\ntranslated in {seconds:.1f} s: {record.output!r}")
    has_term = "town hall" in record.output.lower()
    reported = "« mairie » doit être traduit par « town hall » (glossaire)." in page
    assert has_term != reported, (has_term, reported, record.output)  # the checker agrees
    assert "Traduction automatique — à relire." in page
