"""``--sort-into``: copy or hard-link assessed images into ``pass/``, ``review/`` and ``fail/`` folders.

Originals are never moved, renamed or deleted. Two inputs with the same file name get distinct names (the
first 8 hex digits of the content hash are added to the later one); a file already sorted is left alone.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from artlens.assess.policy import VERDICTS
from artlens.errors import ArtlensError

__all__ = ["sort_into"]


def sort_into(report: dict[str, Any], target: str | Path, *, link: bool = False) -> dict[str, int]:
    """Place every assessed image of ``report`` under ``target/<verdict>/``; return counts per verdict.

    With ``link=True`` hard links are made (no extra disk space; the target must be on the same file system).
    """
    root = Path(target)
    for verdict in VERDICTS:
        (root / verdict).mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(VERDICTS, 0)
    for image in report["images"]:
        src = Path(image["path"])
        folder = root / image["verdict"]
        dest = folder / src.name
        if dest.exists() and not _same_file(src, dest):
            dest = folder / f"{src.stem}-{image['sha256'][:8]}{src.suffix}"
        if not dest.exists():
            try:
                if link:
                    os.link(src, dest)
                else:
                    shutil.copy2(src, dest)
            except OSError as exc:
                how = "hard-link" if link else "copy"
                raise ArtlensError(f"{src}: cannot {how} into {folder}: {exc.strerror or exc}") from exc
        counts[image["verdict"]] += 1
    return counts


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b) or (a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes())
    except OSError:
        return False
