"""One entry point for every report format: :func:`render`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from artlens.assess.report.html import write_html
from artlens.assess.report.schema import validate_report
from artlens.assess.report.writers import FORMATS, PathLike, Report, jsonable, write_csv, write_json
from artlens.errors import ConfigError

__all__ = ["render"]


def render(report: Report, fmt: str, path: PathLike, *, validate: bool = True, **options: Any) -> Path:
    """Write ``report`` to ``path`` as ``fmt`` ("json", "csv" or "html"); return the path written.

    Parameters
    ----------
    report : mapping
        An ``artlens.assess/1`` report.
    fmt : {"json", "csv", "html"}
        Output format.
    path : str or path-like
        Target file; its folder is created if needed and an existing file is replaced atomically.
    validate : bool
        Check the report against the schema first (:func:`validate_report`).
    **options
        Passed to :func:`write_html` (``thumbnails``, ``thumb_size``, ``max_pixels``); not allowed for the
        other formats.

    Raises
    ------
    ConfigError
        For an unknown format or an option the format does not take.
    ArtlensError
        If the report is invalid or the file cannot be written.
    """
    kind = str(fmt).lower()
    writers: dict[str, Callable[..., Path]] = {"json": write_json, "csv": write_csv, "html": write_html}
    if kind not in writers:
        raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if options and kind != "html":
        raise ConfigError(f"the {kind} report takes no options (got {', '.join(sorted(options))})")
    data = jsonable(report)
    if validate:
        validate_report(data)
    return writers[kind](data, path, **options)
