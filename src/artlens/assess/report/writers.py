"""Writing an ``artlens.assess/1`` report as JSON or CSV, and the helpers every report writer shares.

Every writer replaces its target atomically (a temporary file in the same folder, then :func:`os.replace`),
so a reader never sees half a report. Floats that are not finite (NaN, inf) are written as ``null`` and
numpy scalars as plain numbers, so the JSON is strict.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from artlens.errors import ArtlensError
from artlens.files import atomic_write

__all__ = ["FORMATS", "dumps", "jsonable", "key_union", "write_csv", "write_json", "write_text"]

FORMATS = ("json", "csv", "html")

Report = Mapping[str, Any]
PathLike = str | os.PathLike[str]




def write_json(report: Report, path: PathLike) -> Path:
    """Write ``report`` as indented UTF-8 JSON.

    Parameters
    ----------
    report : mapping
        An ``artlens.assess/1`` report (not validated here; :func:`render` does that).
    path : str or path-like
        Target file, replaced atomically.

    Returns
    -------
    Path
        The path written.

    Notes
    -----
    The output is strict JSON (RFC 8259): NaN and infinities become ``null``; non-ASCII text is kept as is.
    """
    text = dumps(report, indent=2) + "\n"
    return write_text(path, lambda fh: fh.write(text))


def dumps(report: Report, **kwargs: Any) -> str:
    return json.dumps(jsonable(report), ensure_ascii=False, allow_nan=False, **kwargs)


def jsonable(value: Any) -> Any:
    """A copy of ``value`` in plain JSON types: numpy scalars unwrapped, NaN/inf as None, paths as str."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar / 0-d array
        return jsonable(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy array
        return jsonable(value.tolist())
    raise ArtlensError(f"report value of type {type(value).__name__} cannot be written as JSON")


def write_text(path: PathLike, write: Callable[[TextIO], object]) -> Path:
    """Write a UTF-8 report file through ``write(file)``, atomically (:func:`artlens.files.atomic_write`)."""
    def to_file(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            write(fh)

    try:
        return atomic_write(path, to_file)
    except OSError as exc:
        raise ArtlensError(f"cannot write report to {path}: {exc.strerror or exc}") from exc


# -- CSV ---------------------------------------------------------------------------------------------------

_CSV_BASE = ("path", "verdict", "width", "height", "format", "file_size", "sha256", "quality")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def key_union(dicts: Iterable[Mapping[str, Any] | None]) -> set[str]:
    keys: set[str] = set()
    for d in dicts:
        keys.update(d or {})
    return keys


def _csv_cell(value: Any) -> str | int | float:
    """Numbers stay numbers; text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(report: Report, path: PathLike) -> Path:
    """Write one CSV row per image (and one per error, verdict ``error``); return the path written.

    Columns: ``path, verdict, width, height, format, file_size, sha256, quality``, then ``score_<key>`` for
    every other score and ``sub_<key>`` for every subscore (union over the images, sorted), ``reasons``
    (joined with `` | ``), then ``check_<id>`` with each check's status (ids in the policy's order).

    Notes
    -----
    UTF-8, comma-separated, ``\\r\\n`` line ends (the :mod:`csv` default). Missing values are empty cells.
    Text cells that begin with ``= + - @`` get a leading ``'`` so a spreadsheet shows a file name such as
    ``=cmd.jpg`` as text instead of running it as a formula.
    """
    report = jsonable(report)
    images = report["images"]
    score_keys = sorted(key_union(im["scores"] for im in images) - {"quality"})
    sub_keys = sorted(key_union(im["subscores"] for im in images))
    check_ids = list(dict.fromkeys(c["id"] for im in images for c in im["checks"]))
    header = [*_CSV_BASE, *(f"score_{k}" for k in score_keys), *(f"sub_{k}" for k in sub_keys), "reasons",
              *(f"check_{c}" for c in check_ids)]

    def write(fh: TextIO) -> None:
        writer = csv.writer(fh)
        writer.writerow(header)
        for im in images:
            scores, subs = im["scores"] or {}, im["subscores"] or {}
            status = {c["id"]: c["status"] for c in im["checks"]}
            row = [im["path"], im["verdict"], im["width"], im["height"], im["format"], im["file_size"],
                   im["sha256"], scores.get("quality"), *(scores.get(k) for k in score_keys),
                   *(subs.get(k) for k in sub_keys), " | ".join(im["reasons"]),
                   *(status.get(c) for c in check_ids)]
            writer.writerow([_csv_cell(v) for v in row])
        blanks = len(score_keys) + len(sub_keys)
        for err in report["errors"]:
            row = [err["path"], "error", *([None] * (len(_CSV_BASE) - 2 + blanks)), err["error"],
                   *([None] * len(check_ids))]
            writer.writerow([_csv_cell(v) for v in row])

    return write_text(path, write)
