"""One card of the HTML report per image: thumbnail with switchable overlays, verdict, reasons, details.

The overlays (the text boxes the text checks measured, the product box segmentation found and the
``--explain`` quality heat map) are switched by checkboxes that stand before the thumbnail: the style sheet
shows an overlay while its box is ticked (``:checked ~``), so they work without JavaScript and under the
page's Content-Security-Policy. Outlines are drawn in an SVG with the image's own coordinates (``viewBox``)
that fits the thumbnail box as the ``object-fit: contain`` picture does, so they land on the right pixels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from artlens.assess.report.words import ICONS, LABELS, badge, esc, file_bytes, num, sentence, shown

__all__ = ["card"]

Image = Mapping[str, Any]
Thumbs = dict[str, str | None]

_SUBSCORES_TITLE = "Subscores (0\u2013100, higher is better)"


def _human(check_id: str) -> str:
    return check_id.replace("_", " ").capitalize()


def _split_path(path: str) -> tuple[str, str]:
    cut = max(path.rfind("/"), path.rfind("\\"))
    return (path[: cut + 1], path[cut + 1:]) if cut >= 0 else ("", path)


def _quality_bar(quality: Any, verdict: str) -> str:
    """Quality 0-100 as a bar in the verdict's colour, with the number as text."""
    if not isinstance(quality, int | float) or isinstance(quality, bool) or not math.isfinite(quality):
        return '<div class="quality"><span class="ql">Quality</span><span class="qv">n/a</span></div>'
    q = min(100.0, max(0.0, float(quality)))
    return (f'<div class="quality"><span class="ql">Quality</span>'
            f'<svg class="qbar" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
            f'<rect class="track" width="100" height="8" rx="4"/>'
            f'<rect class="fill f-{esc(verdict)}" width="{q:.1f}" height="8" rx="4"/></svg>'
            f'<span class="qv">{num(round(q, 1))}<small> / 100</small></span></div>')


def _read(check: Mapping[str, Any]) -> str:
    """The text a text check's boxes read, as a list under its finding."""
    items = "".join(f'<li>\u201c{esc(b["text"])}\u201d <span class="muted">({b["score"]:.2f}) at '
                    f'{", ".join(str(int(v)) for v in b["box"])} px</span></li>'
                    for b in check.get("boxes") or ())
    return f'<ul class="read">{items}</ul>' if items else ""


def _checks_table(checks: list[Mapping[str, Any]]) -> str:
    if not checks:
        return '<p class="muted">This policy has no checks for this image.</p>'
    rows = []
    for c in checks:
        status = c["status"]
        rows.append(
            f'<tr><td><span class="st s-{esc(status)}">{ICONS.get(status, "?")} '
            f'{esc(LABELS.get(status, status))}</span></td>'
            f"<td>{esc(_human(c['id']))}</td><td>{esc(sentence(c['message']))}{_read(c)}</td>"
            f'<td class="num">{esc(shown(c["value"]))}</td>'
            f'<td class="num">{esc(shown(c["threshold"]))}</td></tr>'
        )
    return ('<table class="checks"><caption>Checks</caption><thead><tr><th>Result</th><th>Check</th>'
            '<th>Finding</th><th class="num">Value</th><th class="num">Limit</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _reason_items(im: Image) -> str:
    """The reasons as list items, each marked and coloured by its own check's status (fail or review)."""
    behind = im.get("reason_checks")
    if behind is None:  # a report from before reason_checks: every reason takes the verdict's status
        behind = [{"status": im["verdict"], "message": r} for r in im["reasons"]]
    return "".join(f'<li class="rs-{esc(r["status"])}"><span class="st s-{esc(r["status"])}">'
                   f'{ICONS.get(r["status"], "?")} {esc(LABELS.get(r["status"], r["status"]))}</span> '
                   f'{esc(sentence(r["message"]))}</li>' for r in behind)


def _kv_table(title: str, values: Mapping[str, Any] | None) -> str:
    if not values:
        return ""
    rows = "".join(f'<tr><th>{esc(k)}</th><td class="num">{esc(num(v) if v is not None else "n/a")}</td></tr>'
                   for k, v in values.items())
    return f'<table class="kv"><caption>{esc(title)}</caption><tbody>{rows}</tbody></table>'


# .. overlays ................................................................................................

def _rect(css: str, box: list[int] | tuple[int, ...], title: str) -> str:
    x0, y0, x1, y1 = (int(v) for v in box)
    return (f'<rect class="{css}" x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" '
            f'vector-effect="non-scaling-stroke"><title>{esc(title)}</title></rect>')


def _heat_uri(im: Image, thumbs: Thumbs) -> str | None:
    explanation = im.get("explanation")
    return thumbs.get(explanation["path"]) if explanation else None


def _overlays(index: int, im: Image, uri: str, name: str, thumbs: Thumbs) -> str:
    """The thumbnail with its overlays and one labelled checkbox per overlay the report has data for."""
    text = [_rect(f"tb tb-{esc(c['status'])}", b["box"], f"text \u201c{b['text']}\u201d")
            for c in im["checks"] for b in c.get("boxes") or ()]
    product = im.get("product_box")
    heat = _heat_uri(im, thumbs)
    shapes = "".join(text)
    if product:
        shapes += _rect("pb", product, "product (segmentation)")
    if heat:
        shapes += _rect("wr", im["explanation"]["worst_region"], "weakest area")
    # (class, label, ticked at first): the text boxes are why an image is flagged, so they start shown
    toggles = [t for t in (("text", f"Text ({len(text)})", True) if text else None,
                           ("product", "Product", False) if product else None,
                           ("heat", "Heat map", False) if heat else None) if t]
    heat_img = f'<img class="heat" src="{heat}" alt="quality heat map of {esc(name)}">' if heat else ""
    svg = (f'<svg class="boxes" viewBox="0 0 {int(im["width"])} {int(im["height"])}" '
           f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="overlays">{shapes}</svg>'
           if shapes else "")
    picture = (f'<div class="thumb{" has-boxes" if toggles else ""}"><img src="{uri}" alt="{esc(name)}" '
               f'loading="lazy" decoding="async">{heat_img}{svg}</div>')
    if not toggles:
        return picture
    boxes = "".join(f'<input type="checkbox" class="ov ov-{kind}" id="ov{index}-{kind}"'
                    f'{" checked" if on else ""}>' for kind, _, on in toggles)
    labels = "".join(f'<label for="ov{index}-{kind}" class="ol ol-{kind}">{esc(label)}</label>'
                     for kind, label, _ in toggles)
    return f'{boxes}{picture}<div class="ov-bar" role="group" aria-label="Overlays">Overlays {labels}</div>'


def _heat_note(im: Image, thumbs: Thumbs) -> str:
    """The ``--explain`` map's figures, under the checks (the map itself is an overlay)."""
    explanation = im.get("explanation")
    if not explanation or not _heat_uri(im, thumbs):
        return ""
    x0, y0, x1, y1 = (int(v) for v in explanation["worst_region"])
    return (f'<p class="qmap">Quality heat map: red where the quality model saw defects; weakest area '
            f"{x0},{y0}\u2013{x1},{y1} px (dashed), local quality {round(float(explanation['min']))}/100, "
            f"mean {round(float(explanation['mean']))}/100.</p>")


def card(index: int, im: Image, policy: str, thumbs: Thumbs | None) -> str:
    """The ``<article>`` of image number ``index``; ``thumbs`` maps paths to data URIs (None: no pictures)."""
    verdict = im["verdict"]
    folder, name = _split_path(im["path"])
    thumb = ""
    if thumbs is not None:
        uri = thumbs.get(im["path"])
        if uri:
            thumb = _overlays(index, im, uri, name, thumbs)
        else:
            thumb = ('<div class="thumb placeholder" role="img" aria-label="no preview">'
                     "<span>No preview</span></div>")
    if im["reasons"]:
        reason_html = f'<ul class="reasons r-{esc(verdict)}">{_reason_items(im)}</ul>'
    else:
        reason_html = f'<p class="ok-note">Meets every check of the {esc(policy)} policy.</p>'
    facts = (f'{esc(num(im["width"]))}\u00d7{esc(num(im["height"]))} px \u00b7 {esc(im["format"])} \u00b7 '
             f'{esc(file_bytes(im["file_size"]))}')
    return (
        f'<article class="card v-{esc(verdict)}" data-i="{index}">{thumb}<div class="body">'
        f'<div class="head"><h3 class="name" title="{esc(im["path"])}">{esc(name)}</h3>{badge(verdict)}</div>'
        f'<p class="folder" title="{esc(im["path"])}">{esc(folder)}</p>'
        f'{_quality_bar((im["scores"] or {}).get("quality"), verdict)}{reason_html}'
        f'<details><summary>All checks and scores</summary>'
        f'<p class="facts">{facts}<br><span class="sha" title="SHA-256">{esc(im["sha256"])}</span></p>'
        f'{_checks_table(im["checks"])}{_heat_note(im, thumbs or {})}'
        f'<div class="kvs">{_kv_table("Scores", im["scores"])}{_kv_table(_SUBSCORES_TITLE, im["subscores"])}'
        f"</div></details></div></article>"
    )
