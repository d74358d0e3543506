"""A deliberation drafted by the real embedded model from a short case summary: slow."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from civique.llm.models import OutputRecord
from civique.settings import Settings
from civique.tools.deliberation import checklist
from tests.helpers import embedded_settings, make_tenant

pytestmark = pytest.mark.slow
CHAT_MODEL = "embedded/qwen2.5-1.5b-instruct"
# Which checklist code says each part is missing.
PARTS = {"delib.visa": r"^\s*vu\b", "delib.recital": r"^\s*consid[ée]rant\b",
         "delib.articles": r"^\s*(?:\*\*)?article\s+(?:1er|premier|\d+)"}


@pytest.fixture
def settings(database_url: str, tmp_path: Path, embedded_model_file: Path) -> Settings:
    """The real embedded chat model."""
    return embedded_settings(
        database_url,
        tmp_path,
        embedded_model_file,
        450,
    )



def test_a_french_deliberation_has_its_parts_or_the_checklist_names_them(
    app: FastAPI, db: Session, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the model's output does not depend on the database: one run is enough")
    tenant = make_tenant(db, "reel", [CHAT_MODEL])
    agent = tenant.users["agent"]
    raw = {
        "kind": "fr_commune",
        "authority": "Conseil municipal de Villebois",
        "title": "Tarifs de location de la salle polyvalente",
        "summary": (
            "Les tarifs de la salle polyvalente n'ont pas changé depuis 2019. Le maire propose "
            "de les fixer à 250 euros le week-end pour les habitants et 400 euros pour les "
            "autres, à partir du 1er avril 2027."
        ),
        "meeting_date": "2027-03-12",
        "convocation_date": "2027-03-03",
        "members_in_office": 19,
        "members_present": 15,
        "votes_for": 15,
        "votes_against": 0,
        "votes_abstention": 0,
    }
    runner = app.state.tool_runner
    started = time.monotonic()
    plan = asyncio.run(runner.prepare(db, agent, "deliberation", raw))
    done = asyncio.run(runner.run_to_end(agent, plan))
    seconds = time.monotonic() - started
    assert done.kind == "done", done
    record = db.get(OutputRecord, done.output_id)
    assert record is not None and record.output.strip()
    text = record.output
    codes = {f.code for f in checklist.check(text, "fr_commune")}
    folded = text.lower()
    for code, pattern in PARTS.items():
        present = re.search(pattern, folded, re.MULTILINE) is not None
        assert present == (code not in codes), (code, text)
    print(f"\ndeliberation drafted in {seconds:.1f} s; missing: {sorted(codes)}\n{text}")
