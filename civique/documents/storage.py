"""Uploaded files on disk, addressed by organisation and content hash (the data directory must be
shared by every replica at scale: see docs/admin-guide.md)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class FileStore:
    """Write-once files under `<root>/<org>/<sha[:2]>/<sha>`; identical uploads share one file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def key(self, org_id: int, sha256: str) -> str:
        """The storage key of a file of `org_id` with this content hash."""
        return f"{org_id}/{sha256[:2]}/{sha256}"

    def put(self, org_id: int, data: bytes) -> tuple[str, str]:
        """Store `data` (atomically: written to a temporary file, then renamed); (key, sha256)."""
        sha256 = hashlib.sha256(data).hexdigest()
        key = self.key(org_id, sha256)
        path = self.root / key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, path)
        return key, sha256

    def get(self, key: str) -> bytes:
        """The bytes stored under `key`."""
        return (self.root / self._checked(key)).read_bytes()

    def path(self, key: str) -> Path:
        """Where the file of `key` lies (to stream it back without reading it whole)."""
        return self.root / self._checked(key)

    def delete(self, key: str) -> None:
        """Remove a file (no error if it is already gone)."""
        (self.root / self._checked(key)).unlink(missing_ok=True)

    @staticmethod
    def _checked(key: str) -> str:
        # Keys are made by `key()`; refuse anything else rather than touch another path.
        parts = key.split("/")
        if len(parts) != 3 or not all(p.isalnum() for p in parts):
            raise ValueError("invalid storage key")
        return key
