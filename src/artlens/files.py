"""Writing files so that no reader ever sees half of one, and hashing a file's bytes."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from artlens.regular_files import open_regular

__all__ = ["atomic_write", "atomic_write_text", "sha256_file"]

_CHUNK = 1 << 20


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Make ``path`` with ``write(temporary)``: a fresh sibling file name is written, flushed to disk and
    renamed over ``path`` with :func:`os.replace`, so a reader sees the old file or the whole new one. The
    temporary file is removed when ``write`` fails; ``OSError`` propagates for the caller to word."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write` of UTF-8 text (newlines written as given)."""
    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    return atomic_write(path, write)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (a regular file only: see
    :func:`artlens.regular_files.open_regular`)."""
    digest = hashlib.sha256()
    with open_regular(Path(path)) as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
