"""Write an ``artlens.assess/1`` report as JSON, CSV or one self-contained HTML page.

The report itself is a plain, JSON-ready dict made by :func:`artlens.quality.assess.run_assessment`; its
shape is fixed by the JSON Schema shipped as ``artlens/schemas/assess-1.json`` (draft 2020-12).

Validation uses :mod:`jsonschema` when it is importable. ``jsonschema`` is only a development extra, so
without it :func:`validate_report` falls back to a small built-in interpreter of the schema keywords that
``assess-1.json`` uses (``type``, ``const``, ``enum``, ``pattern``, ``minLength``, ``minimum``,
``required``, ``properties``, ``additionalProperties``, ``items``, local ``$ref``); it checks the same
structure but words its messages a little differently.

Every writer replaces its target atomically (a temporary file in the same folder, then :func:`os.replace`),
so a reader never sees half a report. Floats that are not finite (NaN, inf) are written as ``null`` and
numpy scalars as plain numbers, so the JSON is strict.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import functools
import hashlib
import html
import json
import math
import os
import secrets
import statistics
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from artlens.errors import ArtlensError, ConfigError
from artlens.quality.policy import VERDICTS
from artlens.schemas import read_schema
from artlens.thumbnails import thumbnail_uri

__all__ = [
    "FORMATS",
    "SCHEMA_ID",
    "load_schema",
    "render",
    "validate_report",
    "write_csv",
    "write_html",
    "write_json",
]

SCHEMA_ID = "artlens.assess/1"
FORMATS = ("json", "csv", "html")

_LABELS = {"pass": "Pass", "review": "Review", "fail": "Fail", "error": "Error"}
_ICONS = {"pass": "\u2713", "review": "!", "fail": "\u2717", "error": "\u2298"}

Report = Mapping[str, Any]
PathLike = str | os.PathLike[str]


# ----------------------------------------------------------------------------------------------------------
# Schema and validation
# ----------------------------------------------------------------------------------------------------------


def load_schema() -> dict[str, Any]:
    """Return the JSON Schema of ``artlens.assess/1`` (a fresh dict on every call).

    Returns
    -------
    dict
        The draft 2020-12 schema, read from the package data ``artlens/schemas/assess-1.json``.
    """
    return read_schema("assess")


def validate_report(report: Report) -> None:
    """Check that ``report`` is a valid ``artlens.assess/1`` report.

    Parameters
    ----------
    report : mapping
        The report dict, as made by :func:`artlens.quality.assess.run_assessment`.

    Raises
    ------
    ArtlensError
        On the first problem found, naming its JSON path (``$.images[0].verdict``) and what is wrong.

    Notes
    -----
    The structure is checked against :func:`load_schema` with :mod:`jsonschema` when it is installed, else
    with a built-in interpreter of the subset of keywords the schema uses. Beyond the schema, the counts in
    ``summary`` must agree with ``images`` and ``errors``, and each check's ``passed`` with its ``status``.
    """
    problem = _schema_problem(report, load_schema())
    if problem is None:
        problem = _consistency_problem(report)
    if problem is not None:
        where, message = problem
        raise ArtlensError(f"invalid {SCHEMA_ID} report at {where}: {message}")


def _schema_problem(report: Report, schema: dict[str, Any]) -> tuple[str, str] | None:
    try:
        import jsonschema
    except ImportError:
        return _builtin_problem(report, schema, schema, "$")
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(report))
    if error is None:
        return None
    return error.json_path, error.message


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": _is_integer,
}


def _builtin_problem(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any],
                     where: str) -> tuple[str, str] | None:
    """First problem of ``value`` against ``schema`` (the keyword subset used by assess-1.json), or None."""
    import re

    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ArtlensError(f"schema reference {ref!r} is not supported by the built-in validator")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        problem = _builtin_problem(value, target, root, where)
        if problem is not None:
            return problem
    if "const" in schema and value != schema["const"]:
        return where, f"{value!r} was expected to be {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return where, f"{value!r} is not one of {schema['enum']!r}"
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(_TYPE_TESTS[t](value) for t in types):
            return where, f"{value!r} is not of type {', '.join(repr(t) for t in types)}"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return where, f"{value!r} is too short"
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            return where, f"{value!r} does not match {schema['pattern']!r}"
    if _TYPE_TESTS["number"](value) and "minimum" in schema and value < schema["minimum"]:
        return where, f"{value!r} is less than the minimum of {schema['minimum']!r}"
    if _TYPE_TESTS["number"](value) and "maximum" in schema and value > schema["maximum"]:
        return where, f"{value!r} is greater than the maximum of {schema['maximum']!r}"
    if isinstance(value, list):
        low, high = schema.get("minItems", 0), schema.get("maxItems", len(value))
        if not low <= len(value) <= high:
            return where, f"{value!r} should have {low} to {high} items"
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                return where, f"{key!r} is a required property"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            path = f"{where}.{key}"
            if key in properties:
                problem = _builtin_problem(item, properties[key], root, path)
            elif extra is False:
                problem = where, f"Additional properties are not allowed ({key!r} was unexpected)"
            elif isinstance(extra, dict):
                problem = _builtin_problem(item, extra, root, path)
            else:
                problem = None
            if problem is not None:
                return problem
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problem = _builtin_problem(item, schema["items"], root, f"{where}[{index}]")
            if problem is not None:
                return problem
    return None


def _consistency_problem(report: Report) -> tuple[str, str] | None:
    """What the schema cannot say: summary counts, each check's ``passed`` flag and the reasons agree."""
    images, errors, summary = report["images"], report["errors"], report["summary"]
    for i, image in enumerate(images):
        behind = image.get("reason_checks")
        if behind is not None and [r["message"] for r in behind] != image["reasons"]:
            return f"$.images[{i}].reason_checks", "the messages do not match reasons"
        for j, check in enumerate(image["checks"]):
            if check["passed"] != (check["status"] == "pass"):
                return (f"$.images[{i}].checks[{j}].passed",
                        f"passed is {check['passed']} but status is {check['status']!r}")
    expected = {"assessed": len(images), "errors": len(errors)}
    expected.update({v: sum(1 for im in images if im["verdict"] == v) for v in VERDICTS})
    for key, count in expected.items():
        if summary[key] != count:
            return f"$.summary.{key}", f"{summary[key]!r} does not match the report, which has {count}"
    return None


# ----------------------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------------------


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
    data = _jsonable(report)
    if validate:
        validate_report(data)
    return writers[kind](data, path, **options)


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
    text = _dumps(report, indent=2) + "\n"
    return _atomic_write(path, lambda fh: fh.write(text))


def _dumps(report: Report, **kwargs: Any) -> str:
    return json.dumps(_jsonable(report), ensure_ascii=False, allow_nan=False, **kwargs)


def _jsonable(value: Any) -> Any:
    """A copy of ``value`` in plain JSON types: numpy scalars unwrapped, NaN/inf as None, paths as str."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "item") and callable(value.item):  # numpy scalar / 0-d array
        return _jsonable(value.item())
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy array
        return _jsonable(value.tolist())
    raise ArtlensError(f"report value of type {type(value).__name__} cannot be written as JSON")


def _atomic_write(path: PathLike, write: Callable[[TextIO], object]) -> Path:
    """Write a UTF-8 text file via a temporary sibling and :func:`os.replace` (no torn files)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, unlike mkstemp
        try:
            with open(fd, "w", encoding="utf-8", newline="") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ArtlensError(f"cannot write report to {target}: {exc.strerror or exc}") from exc
    return target


# -- CSV ---------------------------------------------------------------------------------------------------

_CSV_BASE = ("path", "verdict", "width", "height", "format", "file_size", "sha256", "quality")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _union(dicts: Iterable[Mapping[str, Any] | None]) -> set[str]:
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
    report = _jsonable(report)
    images = report["images"]
    score_keys = sorted(_union(im["scores"] for im in images) - {"quality"})
    sub_keys = sorted(_union(im["subscores"] for im in images))
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

    return _atomic_write(path, write)


# -- HTML --------------------------------------------------------------------------------------------------


def write_html(report: Report, path: PathLike, *, thumbnails: bool = True, thumb_size: int = 256,
               max_pixels: int = 50_000_000) -> Path:
    """Write the report as one self-contained HTML page; return the path written.

    Parameters
    ----------
    report : mapping
        An ``artlens.assess/1`` report.
    path : str or path-like
        Target file.
    thumbnails : bool
        Embed a JPEG thumbnail of each image (made from the original file, base64 in a ``data:`` URI).
    thumb_size : int
        Longest side of a thumbnail in pixels.
    max_pixels : int
        Files with more pixels than this get a placeholder instead of a thumbnail.

    Notes
    -----
    The page needs no network: styles, script, thumbnails and charts (inline SVG) are all inside it, and
    a Content-Security-Policy allows only those (``default-src 'none'``; the one script and style sheet by
    hash; images from ``data:``). It shows the counts per verdict, a histogram of every score, a card per
    image (thumbnail, verdict, quality bar, reasons, every check and score) and the files that could not be
    read. About 100 lines of plain JavaScript filter by verdict, search the paths and sort by any score,
    reading the report from an embedded ``<script type="application/json">``; without JavaScript the page
    still shows everything. Every string from the report is HTML-escaped.
    """
    if thumb_size < 16:
        raise ConfigError(f"thumb_size must be at least 16 pixels, got {thumb_size}")
    report = _jsonable(report)
    thumbs: dict[str, str | None] = {}
    if thumbnails:
        for im in report["images"]:
            if im["path"] not in thumbs:
                thumbs[im["path"]] = thumbnail_uri(im["path"], thumb_size, max_pixels=max_pixels)
            heat = (im.get("explanation") or {}).get("path")
            if heat and heat not in thumbs:  # the --explain heat map, shown in the card's details
                thumbs[heat] = thumbnail_uri(heat, thumb_size, max_pixels=max_pixels)
    page = _page(report, thumbs if thumbnails else None)
    return _atomic_write(path, lambda fh: fh.write(page))


# .. formatting helpers ......................................................................................

_e = functools.partial(html.escape, quote=True)


def _num(value: Any) -> str:
    """A number as people read it: 412.5, 21.35, 0.712, 1,920."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if not math.isfinite(value):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def _shown(value: Any) -> str:
    """A check's value or threshold as text."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return _num(value)


def _bytes(n: Any) -> str:
    if not isinstance(n, int | float):
        return "\u2014"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def _when(created: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        return created
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _human(check_id: str) -> str:
    return check_id.replace("_", " ").capitalize()


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _split_path(path: str) -> tuple[str, str]:
    cut = max(path.rfind("/"), path.rfind("\\"))
    return (path[: cut + 1], path[cut + 1:]) if cut >= 0 else ("", path)


def _badge(verdict: str, count: int | None = None) -> str:
    label = f"{_ICONS[verdict]} {_LABELS[verdict]}"
    if count is not None:
        label += f" <b>{count}</b>"
    return f'<span class="badge b-{verdict}">{label}</span>'


def _score_keys(images: list[Mapping[str, Any]]) -> list[str]:
    keys = _union(im["scores"] for im in images)
    return (["quality"] if "quality" in keys else []) + sorted(keys - {"quality"})


# .. histograms ..............................................................................................

_HIST_W, _HIST_H, _HIST_PLOT = 240, 86, 60


def _histogram(key: str, values: list[float]) -> str:
    """A small inline SVG histogram of ``values`` (10 to 20 bins) with its range and count as text."""
    n = len(values)
    bins = min(20, max(10, math.ceil(math.sqrt(n))))
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):  # one value: centre it in a unit-wide (or relative) range
        pad = max(0.5, abs(hi) * 1e-6)
        lo, hi = lo - pad, hi + pad
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    peak = max(counts)
    bar_w = _HIST_W / bins
    bars = []
    edges = [lo + i * width for i in range(bins)] + [hi]
    edges = [0.0 if abs(e) < width * 1e-9 else e for e in edges]  # no "-1.1e-16" labels
    for i, c in enumerate(counts):
        if c == 0:
            continue
        h = _HIST_PLOT * c / peak
        tip = f"{_num(edges[i])} to {_num(edges[i + 1])}: {_plural(c, 'image')}"
        bars.append(f'<rect x="{i * bar_w + 1:.2f}" y="{4 + _HIST_PLOT - h:.2f}" width="{bar_w - 2:.2f}" '
                    f'height="{max(h, 0.0):.2f}"><title>{_e(tip)}</title></rect>')
    median = statistics.median(values)
    label = f"Histogram of {key}: {_plural(n, 'image')} from {_num(min(values))} to {_num(max(values))}"
    return (
        f'<figure class="hist"><figcaption><span class="hk">{_e(key)}</span>'
        f'<span class="hm">median {_e(_num(median))} \u00b7 n={n}</span></figcaption>'
        f'<svg viewBox="0 0 {_HIST_W} {_HIST_H}" role="img" aria-label="{_e(label)}">'
        f'<line class="axis" x1="0" y1="{4 + _HIST_PLOT + 0.5}" x2="{_HIST_W}" y2="{4 + _HIST_PLOT + 0.5}"/>'
        f'{"".join(bars)}'
        f'<text x="0" y="{_HIST_H - 4}">{_e(_num(min(values)))}</text>'
        f'<text x="{_HIST_W}" y="{_HIST_H - 4}" text-anchor="end">{_e(_num(max(values)))}</text>'
        f"</svg></figure>"
    )


def _histograms(images: list[Mapping[str, Any]], keys: list[str]) -> str:
    figures = []
    for key in keys:
        values = [float(v) for im in images if isinstance(v := (im["scores"] or {}).get(key), int | float)
                  and not isinstance(v, bool) and math.isfinite(v)]
        if values:
            figures.append(_histogram(key, values))
    if not figures:
        return ""
    return ('<section class="panel" aria-labelledby="h-dist"><h2 id="h-dist">Score distributions</h2>'
            f'<div class="hists">{"".join(figures)}</div></section>')


# .. cards ...................................................................................................


def _quality_bar(quality: Any, verdict: str) -> str:
    """Quality 0-100 as a bar in the verdict's colour, with the number as text."""
    if not isinstance(quality, int | float) or isinstance(quality, bool) or not math.isfinite(quality):
        return '<div class="quality"><span class="ql">Quality</span><span class="qv">n/a</span></div>'
    q = min(100.0, max(0.0, float(quality)))
    return (f'<div class="quality"><span class="ql">Quality</span>'
            f'<svg class="qbar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect class="track" width="100" height="8" rx="4"/>'
            f'<rect class="fill f-{_e(verdict)}" width="{q:.1f}" height="8" rx="4"/></svg>'
            f'<span class="qv">{_num(round(q, 1))}<small> / 100</small></span></div>')


def _checks_table(checks: list[Mapping[str, Any]]) -> str:
    if not checks:
        return '<p class="muted">This policy has no checks for this image.</p>'
    rows = []
    for c in checks:
        status = c["status"]
        rows.append(
            f'<tr><td><span class="st s-{_e(status)}">{_ICONS.get(status, "?")} '
            f'{_e(_LABELS.get(status, status))}</span></td>'
            f"<td>{_e(_human(c['id']))}</td><td>{_e(_sentence(c['message']))}{_read(c)}</td>"
            f'<td class="num">{_e(_shown(c["value"]))}</td>'
            f'<td class="num">{_e(_shown(c["threshold"]))}</td></tr>'
        )
    return ('<table class="checks"><caption>Checks</caption><thead><tr><th>Result</th><th>Check</th>'
            '<th>Finding</th><th class="num">Value</th><th class="num">Limit</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _read(check: Mapping[str, Any]) -> str:
    """The text a text check's boxes read, as a list under its finding."""
    items = "".join(f'<li>\u201c{_e(b["text"])}\u201d <span class="muted">({b["score"]:.2f}) at '
                    f'{", ".join(str(int(v)) for v in b["box"])} px</span></li>'
                    for b in check.get("boxes") or ())
    return f'<ul class="read">{items}</ul>' if items else ""


def _reason_items(im: Mapping[str, Any]) -> str:
    """The reasons as list items, each marked and coloured by its own check's status (fail or review)."""
    behind = im.get("reason_checks")
    if behind is None:  # a report from before reason_checks: every reason takes the verdict's status
        behind = [{"status": im["verdict"], "message": r} for r in im["reasons"]]
    return "".join(f'<li class="rs-{_e(r["status"])}"><span class="st s-{_e(r["status"])}">'
                   f'{_ICONS.get(r["status"], "?")} {_e(_LABELS.get(r["status"], r["status"]))}</span> '
                   f'{_e(_sentence(r["message"]))}</li>' for r in behind)


def _text_boxes(im: Mapping[str, Any]) -> str:
    """An SVG over the thumbnail outlining the text boxes of the text checks, in image coordinates.

    The overlay has the image's own coordinate system (``viewBox``) and fits the thumbnail box as the
    ``object-fit: contain`` picture does (``xMidYMid meet``), so the outlines land on the text at any size.
    """
    rects = []
    for c in im["checks"]:
        for b in c.get("boxes") or ():
            x0, y0, x1, y1 = (int(v) for v in b["box"])
            rects.append(f'<rect class="tb tb-{_e(c["status"])}" x="{x0}" y="{y0}" width="{x1 - x0}" '
                         f'height="{y1 - y0}" vector-effect="non-scaling-stroke">'
                         f'<title>{_e(b["text"])}</title></rect>')
    if not rects:
        return ""
    return (f'<svg class="boxes" viewBox="0 0 {int(im["width"])} {int(im["height"])}" '
            f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="text found">{"".join(rects)}</svg>')


def _kv_table(title: str, values: Mapping[str, Any] | None) -> str:
    if not values:
        return ""
    rows = "".join(f'<tr><th>{_e(k)}</th><td class="num">{_e(_num(v) if v is not None else "n/a")}</td></tr>'
                   for k, v in values.items())
    return f'<table class="kv"><caption>{_e(title)}</caption><tbody>{rows}</tbody></table>'


_SUBSCORES_TITLE = "Subscores (0\u2013100, higher is better)"


def _card(index: int, im: Mapping[str, Any], policy: str, thumbs: dict[str, str | None] | None) -> str:
    verdict = im["verdict"]
    folder, name = _split_path(im["path"])
    thumb = ""
    if thumbs is not None:
        uri = thumbs.get(im["path"])
        boxes = _text_boxes(im)
        if uri:
            thumb = (f'<div class="thumb{" has-boxes" if boxes else ""}"><img src="{uri}" alt="{_e(name)}" '
                     f'loading="lazy" decoding="async">{boxes}</div>')
        else:
            thumb = ('<div class="thumb placeholder" role="img" aria-label="no preview">'
                     "<span>No preview</span></div>")
    if im["reasons"]:
        reason_html = f'<ul class="reasons r-{_e(verdict)}">{_reason_items(im)}</ul>'
    else:
        reason_html = f'<p class="ok-note">Meets every check of the {_e(policy)} policy.</p>'
    facts = (f'{_e(_num(im["width"]))}\u00d7{_e(_num(im["height"]))} px \u00b7 {_e(im["format"])} \u00b7 '
             f'{_e(_bytes(im["file_size"]))}')
    return (
        f'<article class="card v-{_e(verdict)}" data-i="{index}">{thumb}<div class="body">'
        f'<div class="head"><h3 class="name" title="{_e(im["path"])}">{_e(name)}</h3>{_badge(verdict)}</div>'
        f'<p class="folder" title="{_e(im["path"])}">{_e(folder)}</p>'
        f'{_quality_bar((im["scores"] or {}).get("quality"), verdict)}{reason_html}'
        f'<details><summary>All checks and scores</summary>'
        f'<p class="facts">{facts}<br><span class="sha" title="SHA-256">{_e(im["sha256"])}</span></p>'
        f'{_checks_table(im["checks"])}<div class="kvs">{_kv_table("Scores", im["scores"])}'
        f'{_kv_table(_SUBSCORES_TITLE, im["subscores"])}</div>{_heat_map(im, thumbs)}'
        f"</details></div></article>"
    )


def _heat_map(im: Mapping[str, Any], thumbs: dict[str, str | None] | None) -> str:
    """The ``--explain`` quality map of an image, when there is one and it could be embedded."""
    explanation = im.get("explanation")
    uri = thumbs.get(explanation["path"]) if explanation and thumbs is not None else None
    if not uri:
        return ""
    x0, y0, x1, y1 = (int(v) for v in explanation["worst_region"])
    return (f'<figure class="qmap"><img src="{uri}" alt="quality heat map" loading="lazy">'
            f"<figcaption>Where the quality model saw defects (red); weakest area "
            f"{x0},{y0}\u2013{x1},{y1} px, local quality {round(float(explanation['min']))}/100."
            f"</figcaption></figure>")


def _errors_section(errors: list[Mapping[str, Any]]) -> str:
    if not errors:
        return ""
    items = "".join(f'<li data-path="{_e(err["path"])}"><code>{_e(err["path"])}</code>'
                    f'<span>{_e(err["error"])}</span></li>' for err in errors)
    return (f'<section id="errors" class="panel errors" aria-labelledby="h-err">'
            f'<h2 id="h-err">{_badge("error")} Files that could not be assessed ({len(errors)})</h2>'
            f"<ul>{items}</ul></section>")


def _toolbar(images: list[Mapping[str, Any]], keys: list[str], n_errors: int) -> str:
    buttons = [("all", "All"), ("pass", f"{_ICONS['pass']} Pass"), ("review", f"{_ICONS['review']} Review"),
               ("fail", f"{_ICONS['fail']} Fail"), ("errors", f"{_ICONS['error']} Errors")]
    filters = "".join(
        f'<button type="button" data-filter="{v}" aria-pressed="{"true" if v == "all" else "false"}">'
        f"{label}</button>" for v, label in buttons)
    sub_keys = sorted(_union(im["subscores"] for im in images))
    options = ['<option value="">Report order</option>']
    options += [f'<option value="s:{_e(k)}">{_e(k)}</option>' for k in keys]
    options += [f'<option value="u:{_e(k)}">{_e(k)} (subscore)</option>' for k in sub_keys]
    total = len(images)
    return (
        '<nav class="toolbar" aria-label="Filter and sort">'
        f'<div class="filters" role="group" aria-label="Verdict">{filters}</div>'
        '<label class="search">Search <input id="search" type="search" placeholder="file name or folder" '
        'autocomplete="off"></label>'
        f'<label>Sort by <select id="sort-key">{"".join(options)}</select></label>'
        '<label>Order <select id="sort-dir"><option value="desc">high to low</option>'
        '<option value="asc">low to high</option></select></label>'
        f'<output id="shown" aria-live="polite">{_plural(total, "image")}, '
        f'{_plural(n_errors, "error")}</output></nav>'
    )


def _embedded_json(report: Report) -> str:
    """JSON text that cannot end its ``<script>`` element or open a comment (``<``, ``>``, ``&`` escaped)."""
    text = _dumps(report, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _page(report: Report, thumbs: dict[str, str | None] | None) -> str:
    images = list(report["images"])
    errors = list(report["errors"])
    policy = report["policy"]["name"]
    summary = report["summary"]
    keys = _score_keys(images)
    counts = {v: sum(1 for im in images if im["verdict"] == v) for v in VERDICTS}
    badges = "".join(_badge(v, counts[v]) for v in VERDICTS) + _badge("error", len(errors))
    elapsed = summary.get("elapsed_s")
    speed = (f" in {_num(elapsed)} s ({_num(summary['computed'])} computed, {_num(summary['cached'])} cached)"
             if isinstance(elapsed, int | float) else "")
    cards = "".join(_card(i, im, policy, thumbs) for i, im in enumerate(images))
    empty = "" if images else '<p class="muted">No images were assessed.</p>'
    title = f"artlens report \u2014 {policy} policy"
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}; "
           "base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'  # only quotes and base64: safe
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="artlens {_e(report["artlens_version"])}">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        '<header class="top"><div class="title"><h1>Image check report</h1>'
        f'<p class="meta">Policy <strong>{_e(policy)}</strong> \u00b7 '
        f'<time datetime="{_e(report["created"])}">{_e(_when(report["created"]))}</time> \u00b7 '
        f'{_e(_num(summary["total"]))} files{_e(speed)}</p></div>'
        f'<div class="badges" aria-label="Counts per verdict">{badges}</div></header>\n'
        f"<main>{_histograms(images, keys)}{_toolbar(images, keys, len(errors))}\n"
        f'<section id="cards" class="grid" aria-label="Images">{cards}</section>{empty}'
        '<p id="none" class="muted" hidden>No image matches the filter.</p>\n'
        f"{_errors_section(errors)}</main>\n"
        f'<footer>Made by artlens {_e(report["artlens_version"])} \u00b7 {_e(report["schema"])} \u00b7 '
        f'policy sha256 <span class="sha">{_e(report["policy"]["sha256"])}</span></footer>\n'
        f'<script type="application/json" id="report-data">{_embedded_json(report)}</script>\n'
        f"<script>{_JS}</script>\n</body></html>\n"
    )


_CSS = """
:root{--bg:#f5f6f8;--card:#fff;--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--accent:#0a58ca;
--pass:#1a7f37;--pass-bg:#dafbe1;--review:#7d4e00;--review-bg:#fff1c2;--fail:#b42318;--fail-bg:#ffe4e1;
--error:#4b5563;--error-bg:#eceef1}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
header.top{display:flex;flex-wrap:wrap;gap:12px 24px;align-items:center;justify-content:space-between;
padding:20px 24px;background:var(--card);border-bottom:1px solid var(--line)}
h1{margin:0;font-size:22px}h2{font-size:17px;margin:0 0 12px}
.meta{margin:4px 0 0;color:var(--muted)}
.badges{display:flex;flex-wrap:wrap;gap:8px}
.badge{display:inline-flex;align-items:center;gap:6px;padding:3px 10px;border-radius:999px;font-weight:600;
font-size:13px;white-space:nowrap;border:1px solid currentColor}
.badge b{font-size:15px}
.b-pass{color:var(--pass);background:var(--pass-bg)}.b-review{color:var(--review);background:var(--review-bg)}
.b-fail{color:var(--fail);background:var(--fail-bg)}.b-error{color:var(--error);background:var(--error-bg)}
main{padding:20px 24px;max-width:1600px;margin:0 auto}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px;margin-bottom:20px}
.hists{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:16px}
.hist{margin:0}.hist figcaption{display:flex;justify-content:space-between;gap:8px;font-size:13px}
.hk{font-weight:600}.hm{color:var(--muted)}
.hist svg{width:100%;height:auto;display:block}.hist rect{fill:var(--accent);opacity:.8}
.hist rect:hover{opacity:1}.hist text{font-size:10px;fill:var(--muted)}.hist .axis{stroke:var(--line)}
.toolbar{position:sticky;top:0;z-index:2;display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;
background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;margin-bottom:16px;
box-shadow:0 2px 6px rgba(0,0,0,.06)}
.filters{display:flex;flex-wrap:wrap;gap:4px}
.filters button{font:inherit;font-size:14px;padding:5px 12px;border:1px solid var(--line);background:#fff;
color:var(--ink);border-radius:6px;cursor:pointer}
.filters button[aria-pressed=true]{background:var(--ink);color:#fff;border-color:var(--ink)}
.toolbar label{display:flex;align-items:center;gap:6px;font-size:14px;color:var(--muted)}
.toolbar input,.toolbar select{font:inherit;font-size:14px;padding:5px 8px;border:1px solid var(--line);
border-radius:6px;color:var(--ink);background:#fff}
.search input{width:16em}
#shown{margin-left:auto;font-size:14px;color:var(--muted)}
button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{
outline:3px solid var(--accent);outline-offset:2px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:16px;align-items:start}
.card{background:var(--card);border:1px solid var(--line);border-top:5px solid var(--line);border-radius:10px;
overflow:hidden;display:flex;flex-direction:column}
.card.v-pass{border-top-color:var(--pass)}.card.v-review{border-top-color:#bf8700}
.card.v-fail{border-top-color:var(--fail)}
.thumb{aspect-ratio:4/3;background:#e9ebee;display:flex;align-items:center;justify-content:center}
.thumb img{max-width:100%;max-height:100%;object-fit:contain;display:block}
.qmap{margin:.5rem 0 0}.qmap img{max-width:100%;display:block}.qmap figcaption{font-size:.8rem;color:#555}
.placeholder span{color:var(--muted);font-size:13px}
.body{padding:12px 14px 14px}
.head{display:flex;align-items:flex-start;justify-content:space-between;gap:8px}
.name{margin:0;font-size:15px;overflow-wrap:anywhere}
.folder{margin:2px 0 8px;color:var(--muted);font-size:12px;overflow-wrap:anywhere}
.quality{display:flex;align-items:center;gap:8px;margin:6px 0}
.ql{font-size:13px;color:var(--muted)}.qv{font-weight:700;white-space:nowrap}.qv small{font-weight:400;
color:var(--muted)}
.qbar{flex:1;min-width:60px;height:8px}.track{fill:#e6e8eb}.f-pass{fill:var(--pass)}.f-review{fill:#bf8700}
.f-fail{fill:var(--fail)}
.reasons{margin:8px 0;padding-left:20px}.reasons li{margin:2px 0}
.reasons .rs-fail::marker{color:var(--fail)}.reasons .rs-review::marker{color:#bf8700}
.rs-fail{color:var(--fail)}.rs-review{color:var(--review)}.reasons .st{font-size:.8rem;margin-right:2px}
.thumb{position:relative}.thumb.has-boxes img{width:100%;height:100%}
.boxes{position:absolute;inset:0;width:100%;height:100%;pointer-events:none}
.tb{fill:none;stroke-width:2px}.tb-fail{stroke:#e5341d}.tb-review{stroke:#f0a000}.tb-pass{stroke:#2d7ff9}
.read{margin:2px 0 0;padding-left:16px;font-size:.8rem}
.ok-note{margin:8px 0;color:var(--pass)}
details{margin-top:8px;border-top:1px solid var(--line);padding-top:8px}
summary{cursor:pointer;color:var(--accent);font-size:14px}
.facts{font-size:13px;color:var(--muted)}
.sha{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.kvs{display:grid;grid-template-columns:1fr 1fr;gap:12px}.kv th{font-weight:400;color:var(--muted)}
.st{font-weight:600;white-space:nowrap}.s-pass{color:var(--pass)}.s-review{color:var(--review)}
.s-fail{color:var(--fail)}
.errors ul{margin:0;padding:0;list-style:none}
.errors li{display:flex;flex-wrap:wrap;gap:4px 12px;padding:8px 0;border-bottom:1px solid #eaeef2}
.errors code{font-weight:600;overflow-wrap:anywhere}.errors li span{color:var(--muted)}
.muted{color:var(--muted)}
footer{padding:16px 24px 32px;color:var(--muted);font-size:12px;text-align:center}
@media (max-width:600px){header.top,main{padding:14px}.kvs{grid-template-columns:1fr}.search input{width:100%}
#shown{margin-left:0}}
@media print{.toolbar{display:none}.card{break-inside:avoid}details{display:block}}
"""

_JS = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var grid = document.getElementById("cards");
  var cards = Array.prototype.slice.call(grid.querySelectorAll("article.card"));
  var errorBox = document.getElementById("errors");
  var errorItems = errorBox ? Array.prototype.slice.call(errorBox.querySelectorAll("li[data-path]")) : [];
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-filter]"));
  var search = document.getElementById("search");
  var sortKey = document.getElementById("sort-key");
  var sortDir = document.getElementById("sort-dir");
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var state = { verdict: "all", query: "", key: "", desc: true };
  var lastOrder = "";

  function indexOf(card) { return Number(card.getAttribute("data-i")); }
  function imageOf(card) { return data.images[indexOf(card)]; }

  function scoreOf(card, key) {
    var image = imageOf(card);
    var table = key.charAt(0) === "u" ? image.subscores : image.scores;
    var value = table ? table[key.slice(2)] : null;
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  function matches(path) {
    return !state.query || String(path).toLowerCase().indexOf(state.query) !== -1;
  }

  function compare(a, b) {
    var ia = indexOf(a), ib = indexOf(b);
    if (!state.key) { return ia - ib; }
    var va = scoreOf(a, state.key), vb = scoreOf(b, state.key);
    if (va === null || vb === null) {
      if (va === vb) { return ia - ib; }
      return va === null ? 1 : -1;  // missing values last in both directions
    }
    if (va === vb) { return ia - ib; }
    return state.desc ? vb - va : va - vb;
  }

  function reorder() {
    var order = state.key + "|" + state.desc;
    if (order === lastOrder) { return; }
    lastOrder = order;
    var fragment = document.createDocumentFragment();
    cards.slice().sort(compare).forEach(function (card) { fragment.appendChild(card); });
    grid.appendChild(fragment);
  }

  function apply() {
    reorder();
    var nCards = 0, nErrors = 0;
    var wantCards = state.verdict !== "errors";
    var wantErrors = state.verdict === "all" || state.verdict === "errors";
    cards.forEach(function (card) {
      var image = imageOf(card);
      var ok = wantCards && (state.verdict === "all" || image.verdict === state.verdict) &&
        matches(image.path);
      card.hidden = !ok;
      if (ok) { nCards += 1; }
    });
    errorItems.forEach(function (item) {
      var ok = wantErrors && matches(item.getAttribute("data-path"));
      item.hidden = !ok;
      if (ok) { nErrors += 1; }
    });
    grid.hidden = !wantCards;
    if (errorBox) { errorBox.hidden = nErrors === 0; }
    none.hidden = nCards + nErrors > 0 || (cards.length + errorItems.length) === 0;
    shown.textContent = "Showing " + nCards + " of " + cards.length + " images" +
      (errorItems.length ? ", " + nErrors + " of " + errorItems.length + " errors" : "");
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      state.verdict = button.getAttribute("data-filter");
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      apply();
    });
  });
  search.addEventListener("input", function () { state.query = search.value.trim().toLowerCase(); apply(); });
  sortKey.addEventListener("change", function () { state.key = sortKey.value; apply(); });
  sortDir.addEventListener("change", function () { state.desc = sortDir.value === "desc"; apply(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search) { event.preventDefault(); search.focus(); }
  });
  apply();
})();
"""
