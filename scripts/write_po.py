"""Write or extend a French .po file from a {msgid: translation} JSON file (developer helper).

Usage: python scripts/write_po.py civique/web/translations/fr/LC_MESSAGES/core.po fr.json
Existing entries are kept; new ones added; the file is sorted for readable diffs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po


def main(po_path: str, json_path: str) -> None:
    """Merge the JSON translations into the .po file."""
    path = Path(po_path)
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale="fr")
    else:
        catalog = Catalog(locale="fr", project="Civique")
    for msgid, text in json.loads(Path(json_path).read_text(encoding="utf-8")).items():
        catalog.add(msgid, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, sort_output=True, width=100, omit_header=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
