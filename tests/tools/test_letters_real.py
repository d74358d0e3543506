"""A refusal letter drafted by the real embedded model: it passes the required-mentions checker,
or the checker names exactly what the text lacks (slow)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.llm.models import OutputRecord
from civique.settings import Settings
from civique.tools import org_settings
from civique.tools.text import fold
from tests.helpers import embedded_settings, login, make_tenant
from tests.tools.test_letters import REFUSAL

pytestmark = pytest.mark.slow
CHAT_MODEL = "embedded/qwen2.5-1.5b-instruct"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "letters"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, embedded_model_file: Path) -> Settings:
    """The real embedded chat model, no embeddings (the letter is not grounded)."""
    return embedded_settings(
        database_url,
        tmp_path,
        embedded_model_file,
        900,  # a one-page letter; bounds the test's time
        embedded_embeddings_enabled=False,
    )



def _lacks(folded: str, *words: str) -> bool:
    return not any(w in folded for w in words)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refusal_letter_passes_or_the_checker_names_what_is_missing(
    app: FastAPI, db: Session
) -> None:
    tenant = make_tenant(db, "reel", [CHAT_MODEL])
    org_settings.update_settings(db, tenant.users["org_admin"], {"letters": (True, "never")})
    with TestClient(app) as client:
        csrf = login(client, tenant.users["agent"].email)
        started = time.perf_counter()
        response = client.post(
            "/api/v1/tools/letters/runs",
            json={
                "template": "refusal",
                "variables": REFUSAL,
                "request": "Madame Martin demande à poser une benne devant le 3 rue des Lilas.",
            },
            headers={"x-csrf-token": csrf},
        )
        seconds = time.perf_counter() - started
    assert response.status_code == 200, response.text
    body = response.json()
    record = db.get(OutputRecord, body["output_id"])
    assert record is not None and record.output.strip()
    words = len(record.output.split())
    text, codes = body["text"], {f["code"] for f in body["findings"]}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "refusal-real.txt").write_text(
        f"{seconds:.1f} s, {words} words\nfindings: {sorted(codes)}\n\n{text}",
        encoding="utf-8",
    )
    print(f"\nrefusal letter: {seconds:.1f} s, {words} words, findings {sorted(codes)}")
    folded = fold(text)
    # Each mention: the finding is there exactly when the text lacks every way of saying it.
    assert ("mention.remedies" in codes) == _lacks(
        folded, "recours", "voie de droit", "voies de droit"
    )
    assert ("mention.remedy_deadline" in codes) == _lacks(
        folded, "deux mois", "2 mois", "30 jours", "trente jours"
    )
    court = ("tribunal administratif", "telerecours", "conseil d'etat", "autorite de recours")
    if not _lacks(folded, *court):
        assert "mention.court" not in codes
    assert ("letter.to_complete" in codes) == ("[a completer" in folded)
