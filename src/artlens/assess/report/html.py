"""The self-contained HTML page of an ``artlens.assess/1`` report (styles and script from
``report.css`` and ``report.js`` beside this module; cards from :mod:`~artlens.assess.report.cards`)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import os
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from artlens.assess.policy import RULES, VERDICTS
from artlens.assess.report.cards import card
from artlens.assess.report.histograms import key_histograms
from artlens.assess.report.words import ICONS, LABELS, badge, esc, num, plural, sentence
from artlens.assess.report.writers import dumps, jsonable, key_union, write_text
from artlens.errors import ConfigError, printable
from artlens.thumbnails import thumbnail_uri

__all__ = ["error_reason", "write_html"]

Report = Mapping[str, Any]
PathLike = str | os.PathLike[str]

#: How many of the most common reasons the summary names.
TOP_REASONS = 5


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
    The page opens on the images. First a summary bar: the counts per verdict, the most common reasons in
    words (by rule, with how many images failed or need review for it) and, folded in a ``<details>``, a few
    key distributions with their unit and which way is better. Then a card per image: thumbnail with
    switchable overlays (the detected text boxes, the product box when segmentation ran, the ``--explain``
    heat map), verdict, quality bar, reasons (each in the colour of its own check's status), and every check
    and score folded below. Last, the files that could not be read, each with its reason once.

    The page needs no network: styles, script, thumbnails and charts (inline SVG) are all inside it, and
    a Content-Security-Policy allows only those (``default-src 'none'``; the one script and style sheet by
    hash; images from ``data:``). About 100 lines of plain JavaScript filter by verdict, search the paths and
    sort by any score, reading the report from an embedded ``<script type="application/json">``; without
    JavaScript the page still shows everything and the overlays still switch (checkboxes and CSS). Every
    string from the report is HTML-escaped.
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
            if heat and heat not in thumbs:  # the --explain heat map, an overlay of the card's thumbnail
                thumbs[heat] = thumbnail_uri(heat, thumb_size, max_pixels=max_pixels)
    page = _page(report, thumbs if thumbnails else None)
    return write_text(path, lambda fh: fh.write(page))


def _when(created: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(created)
    except ValueError:
        return created
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _score_keys(images: list[Mapping[str, Any]]) -> list[str]:
    keys = key_union(im["scores"] for im in images)
    return (["quality"] if "quality" in keys else []) + sorted(keys - {"quality"})


# .. summary bar .............................................................................................

def _reason_rows(images: list[Mapping[str, Any]]) -> list[tuple[str, Counter[str]]]:
    """(words, statuses) of the most common reasons: by rule where reports name it, else by message."""
    found: dict[str, Counter[str]] = {}
    for im in images:
        behind = im.get("reason_checks")
        if behind is None:  # an older report: its reasons, each in the verdict's status
            behind = [{"status": im["verdict"], "message": r} for r in im["reasons"]]
        for r in behind:
            spec = RULES.get(r.get("id", ""))
            words = sentence(spec.label) if spec is not None else sentence(r["message"])
            found.setdefault(words, Counter())[r["status"]] += 1
    ranked = sorted(found.items(), key=lambda kv: (-sum(kv[1].values()), -kv[1]["fail"], kv[0]))
    return ranked[:TOP_REASONS]


def _common_reasons(images: list[Mapping[str, Any]]) -> str:
    rows = _reason_rows(images)
    if not rows:
        return '<p class="ok-note">No image was flagged.</p>' if images else ""
    items = []
    for words, statuses in rows:
        worst = "fail" if statuses["fail"] else "review"
        split = ", ".join(f"{statuses[s]} {LABELS[s].lower()}" for s in ("fail", "review") if statuses[s])
        items.append(f'<li class="rs-{worst}"><span class="st s-{worst}">{ICONS[worst]}</span> '
                     f'{esc(words)} <span class="muted">\u2014 {plural(sum(statuses.values()), "image")} '
                     f"({split})</span></li>")
    return ('<div class="common"><h2 id="h-sum">Most common reasons</h2>'
            f'<ol class="top-reasons">{"".join(items)}</ol></div>')


def _summary(images: list[Mapping[str, Any]], n_errors: int) -> str:
    counts = {v: sum(1 for im in images if im["verdict"] == v) for v in VERDICTS}
    total = len(images) + n_errors
    tallies = "".join(
        f'<li>{badge(v, counts[v])}<span class="pct">{round(100 * counts[v] / (total or 1))}%</span></li>'
        for v in VERDICTS) + f"<li>{badge('error', n_errors)}</li>"
    figures = key_histograms(images)
    dist = ""
    if figures:
        dist = (f'<details class="dist"><summary>Key distributions ({len(figures)}), with units and which '
                f'way is better</summary><div class="hists">{"".join(figures)}</div></details>')
    return (f'<section class="panel summary" aria-label="Summary"><ul class="tallies" '
            f'aria-label="Counts per verdict">{tallies}</ul>{_common_reasons(images)}{dist}</section>')


# .. errors and toolbar ......................................................................................

def error_reason(error: Mapping[str, Any]) -> str:
    """An error's reason without the path it starts with ("x.jpg: empty file" -> "empty file")."""
    text, path = str(error["error"]), str(error["path"])
    for prefix in (path, printable(path)):
        if prefix and text.startswith(prefix + ": "):
            return sentence(text[len(prefix) + 2:])
    return sentence(text)


def _errors_section(errors: list[Mapping[str, Any]]) -> str:
    if not errors:
        return ""
    items = "".join(f'<li data-path="{esc(err["path"])}"><code>{esc(err["path"])}</code>'
                    f'<span>{esc(error_reason(err))}</span></li>' for err in errors)
    return (f'<section id="errors" class="panel errors" aria-labelledby="h-err">'
            f'<h2 id="h-err">{badge("error")} Files that could not be assessed ({len(errors)})</h2>'
            f"<ul>{items}</ul></section>")


def _toolbar(images: list[Mapping[str, Any]], keys: list[str], n_errors: int) -> str:
    buttons = [("all", "All"), ("pass", f"{ICONS['pass']} Pass"), ("review", f"{ICONS['review']} Review"),
               ("fail", f"{ICONS['fail']} Fail"), ("errors", f"{ICONS['error']} Errors")]
    filters = "".join(
        f'<button type="button" data-filter="{v}" aria-pressed="{"true" if v == "all" else "false"}">'
        f"{label}</button>" for v, label in buttons)
    sub_keys = sorted(key_union(im["subscores"] for im in images))
    options = ['<option value="">Report order</option>']
    options += [f'<option value="s:{esc(k)}">{esc(k)}</option>' for k in keys]
    options += [f'<option value="u:{esc(k)}">{esc(k)} (subscore)</option>' for k in sub_keys]
    total = len(images)
    return (
        '<nav class="toolbar" aria-label="Filter and sort">'
        f'<div class="filters" role="group" aria-label="Verdict">{filters}</div>'
        '<label class="search">Search <input id="search" type="search" placeholder="file name or folder" '
        'autocomplete="off"></label>'
        f'<label>Sort by <select id="sort-key">{"".join(options)}</select></label>'
        '<label>Order <select id="sort-dir"><option value="desc">high to low</option>'
        '<option value="asc">low to high</option></select></label>'
        f'<output id="shown" aria-live="polite">{plural(total, "image")}, '
        f'{plural(n_errors, "error")}</output></nav>'
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
    elapsed = summary.get("elapsed_s")
    speed = (f" in {num(elapsed)} s ({num(summary['computed'])} computed, {num(summary['cached'])} cached)"
             if isinstance(elapsed, int | float) else "")
    cards = "".join(card(i, im, policy, thumbs) for i, im in enumerate(images))
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
        f'<meta name="generator" content="artlens {esc(report["artlens_version"])}">'
        f"<title>{esc(title)}</title><style>{css}</style></head><body>\n"
        '<header class="top"><div class="title"><h1>Image check report</h1>'
        f'<p class="meta">Policy <strong>{esc(policy)}</strong> \u00b7 '
        f'<time datetime="{esc(report["created"])}">{esc(_when(report["created"]))}</time> \u00b7 '
        f'{esc(num(summary["total"]))} files{esc(speed)}</p></div></header>\n'
        f"<main>{_summary(images, len(errors))}{_toolbar(images, keys, len(errors))}\n"
        f'<section id="cards" class="grid" aria-label="Images">{cards}</section>{empty}'
        '<p id="none" class="muted" hidden>No image matches the filter.</p>\n'
        f"{_errors_section(errors)}</main>\n"
        f'<footer>Made by artlens {esc(report["artlens_version"])} \u00b7 {esc(report["schema"])} \u00b7 '
        f'policy sha256 <span class="sha">{esc(report["policy"]["sha256"])}</span></footer>\n'
        f'<script type="application/json" id="report-data">{_embedded_json(report)}</script>\n'
        f"<script>{js}</script>\n</body></html>\n"
    )
