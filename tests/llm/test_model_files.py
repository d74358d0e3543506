"""The embedded model file: joined from parts, verified, refused on mismatch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from civique.llm.model_files import ModelFileError, is_verified, join_parts, verify_file


def _parts(tmp_path: Path) -> list[Path]:
    paths = []
    for index, chunk in enumerate([b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 10]):
        path = tmp_path / f"part{index}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def test_parts_are_joined_and_verified(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    expected = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    seen: list[int] = []
    target = join_parts(parts, tmp_path / "out" / "model.gguf", expected,
                        lambda done, total: seen.append(done))
    assert target.read_bytes()[:4] == b"GGUF" and target.stat().st_size == 3014
    assert seen[-1] == 3014
    assert is_verified(target, expected)
    verify_file(target, expected)


def test_checksum_mismatch_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    target = tmp_path / "model.gguf"
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        join_parts(parts, target, "0" * 64)
    assert not target.exists() and not list(tmp_path.glob("*.partial"))


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    expected = hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()
    target = join_parts(parts, tmp_path / "model.gguf", expected)
    with target.open("r+b") as handle:  # same size, one byte changed: stamp mtime changes too
        handle.seek(10)
        handle.write(b"Z")
    assert not is_verified(target, expected)
    with pytest.raises(ModelFileError, match="refusing to load"):
        verify_file(target, expected)
