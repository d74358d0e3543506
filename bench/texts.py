"""French prompts for the model benchmarks, from the public data in ../shared/data."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from bench.common import ROOT

SHORT_QUESTION = "Quels documents faut-il pour demander une copie d'acte de naissance en mairie ?"
LONG_QUESTION = "D'après cette fiche, qui peut obtenir une copie intégrale, et comment ?"
SYSTEM = "Tu es l'assistant d'une mairie. Réponds en français, en phrases complètes."


def shared_data() -> Path:
    """The shared data folder (`CIVIQUE_SHARED_DATA`, or `../shared/data` beside the repository)."""
    path = Path(os.environ.get("CIVIQUE_SHARED_DATA") or ROOT.parent / "shared" / "data")
    if not path.is_dir():
        raise SystemExit(f"shared data not found at {path}: set CIVIQUE_SHARED_DATA")
    return path


def administrative_text() -> str:
    """The service-public.fr fiche "Acte de naissance", whitespace tidied (about 2,600 tokens)."""
    fiches = json.loads((shared_data() / "service_public_fiches" / "best_fiche.json").read_text())
    fiche = next(f for f in fiches["data"] if f["title"] == "Acte de naissance")
    text = "\n".join(p["context"] for p in fiche["paragraphs"])
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n+", "\n", text).strip()


def long_user_message(document: str) -> str:
    """A question over a delimited document (the retrieved-text layout of DESIGN.md §4.5)."""
    return f"Fiche officielle :\n<<<\n{document}\n>>>\n\n{LONG_QUESTION}"
