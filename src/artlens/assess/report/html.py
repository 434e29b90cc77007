"""The self-contained HTML page of an ``artlens.assess/1`` report (styles and script from
``report.css`` and ``report.js`` beside this module)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import html
import math
import os
import statistics
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from artlens.assess.policy import VERDICTS
from artlens.assess.report.writers import dumps, jsonable, key_union, write_text
from artlens.errors import ConfigError
from artlens.thumbnails import thumbnail_uri

__all__ = ["write_html"]

_LABELS = {"pass": "Pass", "review": "Review", "fail": "Fail", "error": "Error"}
_ICONS = {"pass": "\u2713", "review": "!", "fail": "\u2717", "error": "\u2298"}

Report = Mapping[str, Any]
PathLike = str | os.PathLike[str]



@functools.cache
def _asset(name: str) -> str:
    return resources.files("artlens.assess.report").joinpath(name).read_text(encoding="utf-8")


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
    report = jsonable(report)
    thumbs: dict[str, str | None] = {}
    if thumbnails:
        for im in report["images"]:
            if im["path"] not in thumbs:
                thumbs[im["path"]] = thumbnail_uri(im["path"], thumb_size, max_pixels=max_pixels)
            heat = (im.get("explanation") or {}).get("path")
            if heat and heat not in thumbs:  # the --explain heat map, shown in the card's details
                thumbs[heat] = thumbnail_uri(heat, thumb_size, max_pixels=max_pixels)
    page = _page(report, thumbs if thumbnails else None)
    return write_text(path, lambda fh: fh.write(page))


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
    keys = key_union(im["scores"] for im in images)
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
    sub_keys = sorted(key_union(im["subscores"] for im in images))
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
    text = dumps(report, separators=(",", ":"))
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
    css, js = _asset("report.css"), _asset("report.js")
    csp = (f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
           "base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'  # only quotes and base64: safe
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="artlens {_e(report["artlens_version"])}">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body>\n"
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
        f"<script>{js}</script>\n</body></html>\n"
    )
