"""Reports of search results: JSON, CSV (duplicates) and self-contained HTML with inline thumbnails.

The HTML needs nothing but the file itself: thumbnails are JPEG data URIs, styles are inline, no script or
font is fetched from anywhere.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
from pathlib import Path

from artlens.errors import ConfigError
from artlens.schemas import read_schema
from artlens.thumbnails import thumbnail_uri

__all__ = ["load_schema", "render"]

THUMB_SIDE = 160

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em} h2{font-size:1.05em;margin:1.2em 0 .4em}
.row{display:flex;flex-wrap:wrap;gap:.6em;align-items:flex-start}
figure{margin:0;width:170px;background:#fff;border:1px solid #ddd;border-radius:6px;padding:5px}
figure.query{border:2px solid #2a6df4} figure.keep{border:2px solid #1a9b4b}
figure img{display:block;max-width:160px;max-height:160px;margin:auto}
figcaption{font-size:.72em;word-break:break-all;margin-top:4px}
.score{font-weight:600} .meta{color:#666;font-size:.85em}
"""


def _figure(path: str, caption: str, css_class: str = "") -> str:
    uri = thumbnail_uri(path, THUMB_SIDE)
    img = f'<img src="{uri}" alt="">' if uri else '<div class="meta">(unreadable)</div>'
    cls = f' class="{css_class}"' if css_class else ""
    return (f"<figure{cls}>{img}<figcaption>{caption}<br>{html.escape(Path(path).name)}"
            f'<div class="meta">{html.escape(path)}</div></figcaption></figure>')


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def _similar_html(report: dict) -> str:
    parts = []
    for q in report["queries"]:
        figures = [_figure(q["path"], "<b>query</b>", "query")]
        figures += [_figure(r["path"], f'#{r["rank"]} <span class="score">{r["score"]:.3f}</span>')
                    for r in q["results"]]
        parts.append(f"<h2>{html.escape(q['query'])}</h2><div class=\"row\">{''.join(figures)}</div>")
    parts += [f'<p class="meta">error: {html.escape(e["error"])}</p>' for e in report.get("errors", [])]
    return _page(f"artlens similar — by {report['by']}", "".join(parts))


def _duplicates_html(report: dict) -> str:
    s = report["summary"]
    parts = [f'<p class="meta">{s["items"]} images, {s["groups"]} groups ({s["exact_groups"]} exact, '
             f'{s["near-identical_groups"]} near-identical, {s["visual_groups"]} visual); '
             "the suggested file to keep is framed in green. Nothing was deleted.</p>"]
    for g in report["groups"]:
        figures = [_figure(m["path"], f'{m["width"]}×{m["height"]}, {m["size"] / 1024:.0f} KiB'
                           f'{_assessed(m.get("assessment"))}', "keep" if m["path"] == g["keep"] else "")
                   for m in g["members"]]
        why = f'<p class="meta">{html.escape(g["keep_reason"])}</p>' if g.get("keep_reason") else ""
        parts.append(f"<h2>group {g['group']} — {g['kind']} ({g['size']})</h2>{why}"
                     f"<div class=\"row\">{''.join(figures)}</div>")
    return _page("artlens duplicates", "".join(parts))


def _assessed(assessment: dict | None) -> str:
    """A member's verdict and quality for its caption ("", when it was not assessed)."""
    if not assessment:
        return ""
    if "error" in assessment:
        return "<br>not assessed"
    quality = assessment.get("quality")
    shown = f", quality {quality:.0f}" if isinstance(quality, int | float) else ""
    return f"<br>{html.escape(assessment['verdict'])}{shown}"


def _recommend_html(report: dict) -> str:
    p = report["profile"]
    figures = [_figure(r["path"], f'#{r["rank"]} <span class="score">{r["relevance"]:.3f}</span>'
                       + (f' (+{len(r["folded"])} near copies)' if r.get("folded") else ""))
               for r in report["results"]]
    body = (f'<p class="meta">profile: {p["liked"]} liked, {p["disliked"]} disliked, {p["seen"]} seen; '
            f'diversity {report["diversity"]}</p><div class="row">{"".join(figures)}</div>')
    return _page("artlens recommend", body)


def _duplicates_csv(report: dict) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["group", "kind", "keep", "path", "width", "height", "bytes", "sha256", "verdict",
                     "quality", "keep_reason"])
    for g in report["groups"]:
        for m in g["members"]:
            judged = m.get("assessment") or {}
            kept = m["path"] == g["keep"]
            writer.writerow([g["group"], g["kind"], int(kept), m["path"], m["width"], m["height"], m["size"],
                             m["sha256"], judged.get("verdict", ""), judged.get("quality", ""),
                             g.get("keep_reason", "") if kept else ""])
    return buf.getvalue()


def load_schema(name: str) -> dict:
    """The JSON Schema (draft 2020-12) of ``artlens.NAME/1``, read from ``artlens/schemas/NAME-1.json``.

    Parameters
    ----------
    name
        ``similar``, ``duplicates``, ``recommend`` or ``profile``.

    Returns
    -------
    dict
        The schema (a fresh dict on every call).
    """
    if name not in ("similar", "duplicates", "recommend", "profile"):
        raise ConfigError(f"no search schema {name!r}; use similar, duplicates, recommend or profile")
    return read_schema(name)


def render(report: dict, fmt: str, out: str | os.PathLike[str] | None = None) -> str:
    """Render a similar, duplicates or recommend result as ``json``, ``csv`` (duplicates) or ``html``.

    Parameters
    ----------
    report
        A dict from :func:`~artlens.search.similar.find_similar`,
        :func:`~artlens.search.duplicates.find_duplicates` or :func:`~artlens.search.recommend.recommend`.
    fmt
        ``json``, ``csv`` or ``html``.
    out
        Write the text to this file as well.

    Returns
    -------
    str
        The rendered text.
    """
    schema = str(report.get("schema", ""))
    kind = schema.split("/")[0].removeprefix("artlens.")
    if fmt == "json":
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "csv":
        if kind != "duplicates":
            raise ConfigError("CSV is available for duplicates reports; use json or html")
        text = _duplicates_csv(report)
    elif fmt == "html":
        renderers = {"similar": _similar_html, "duplicates": _duplicates_html, "recommend": _recommend_html}
        if kind not in renderers:
            raise ConfigError(f"no HTML report for {schema!r}")
        text = renderers[kind](report)
    else:
        raise ConfigError(f"unknown report format {fmt!r}; use json, csv or html")
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text
