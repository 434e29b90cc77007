"""``--sort-into``: copy or hard-link assessed images into ``pass/``, ``review/`` and ``fail/`` folders, and
the files that could not be assessed into ``unreadable/``.

Below each verdict folder an image keeps its path relative to the input folder it was found in
(``photos/shoes/a.jpg`` assessed as ``photos`` goes to ``<target>/pass/shoes/a.jpg``); a file named on its own
goes to the top of its verdict folder. Originals are never moved, renamed or deleted. Two inputs that would
land on the same name get distinct names (the first 8 hex digits of the content hash, or of the path for an
unreadable file, are added to the later one); a file already sorted is left alone. Only regular files are
placed in ``unreadable/``: a missing path, a folder, a pipe or a device is counted under ``not_placed``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from artlens.assess.policy import VERDICTS
from artlens.errors import ArtlensError

__all__ = ["UNREADABLE", "sort_into"]

#: the folder of the files that could not be assessed
UNREADABLE = "unreadable"


def sort_into(report: dict[str, Any], target: str | Path, *, roots: Sequence[str | os.PathLike[str]] = (),
              link: bool = False) -> dict[str, int]:
    """Place every assessed image of ``report`` under ``target/<verdict>/`` and every unreadable file under
    ``target/unreadable/``.

    Parameters
    ----------
    report
        An ``artlens.assess/1`` report.
    target
        The folder to sort into (created).
    roots
        The inputs the report was made from: files below one of these folders keep their path relative to
        it. Without roots (or outside every root) a file goes to the top of its folder.
    link
        Hard-link instead of copying (no extra disk space; the target must be on the same file system).

    Returns
    -------
    dict
        Files placed per verdict, under ``unreadable``, and ``not_placed`` (unreadable entries that are not
        regular files).

    Raises
    ------
    ArtlensError
        A file cannot be copied or linked.
    """
    base = Path(target)
    folders = [Path(os.path.abspath(r)) for r in roots if Path(r).is_dir()]
    counts = dict.fromkeys((*VERDICTS, UNREADABLE, "not_placed"), 0)
    for verdict in (*VERDICTS, UNREADABLE):
        (base / verdict).mkdir(parents=True, exist_ok=True)
    for image in report["images"]:
        src = Path(image["path"])
        _place(src, base / image["verdict"] / _relative(src, folders), image["sha256"][:8], link)
        counts[image["verdict"]] += 1
    for error in report.get("errors", []):
        src = Path(error["path"])
        if not _is_regular_file(src):
            counts["not_placed"] += 1
            continue
        tag = hashlib.sha256(str(src).encode("utf-8", "surrogateescape")).hexdigest()[:8]
        _place(src, base / UNREADABLE / _relative(src, folders), tag, link)
        counts[UNREADABLE] += 1
    return counts


def _relative(src: Path, folders: Sequence[Path]) -> Path:
    """``src`` relative to the innermost input folder holding it, else its bare name."""
    absolute = Path(os.path.abspath(src))  # as the walk found it: symbolic links are not followed here
    holders = [f for f in folders if absolute.is_relative_to(f)]
    if not holders:
        return Path(src.name)
    return absolute.relative_to(max(holders, key=lambda f: len(f.parts)))


def _place(src: Path, dest: Path, tag: str, link: bool) -> None:
    if dest.exists() and not _same_file(src, dest):
        dest = dest.with_name(f"{dest.stem}-{tag}{dest.suffix}")
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        if link:
            os.link(src, dest)
        else:
            shutil.copy2(src, dest)
    except OSError as exc:
        how = "hard-link" if link else "copy"
        raise ArtlensError(f"{src}: cannot {how} into {dest.parent}: {exc.strerror or exc}") from exc


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b) or (a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes())
    except OSError:
        return False
