"""JSON log lines; message contents, passwords and tokens are never logged."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SECRET_KEYS = ("password", "token", "secret", "authorization", "cookie", "content", "text")


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the record's extra fields (secret-looking keys dropped)."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _RESERVED or any(s in key.lower() for s in _SECRET_KEYS):
                continue
            entry[key] = value if isinstance(value, (int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, as_json: bool) -> None:
    """Install the formatter on the root logger (idempotent)."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    handler = next((h for h in root.handlers if getattr(h, "_civique", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._civique = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    handler.setFormatter(
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
