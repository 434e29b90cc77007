"""The report's few key distributions as small inline SVG histograms, each with its unit and direction."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from artlens.assess.report.words import esc, num, plural

__all__ = ["KEY_MEASURES", "Measure", "histogram", "key_histograms"]

Image = Mapping[str, Any]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class Measure:
    """One distribution the report shows: what it is, in which unit, and which way is better."""

    key: str
    label: str
    unit: str
    better: str  # "higher" or "lower"
    value: Callable[[Image], float | None]
    bounds: tuple[float, float] | None = None  # a fixed scale (0-100) is drawn whole; else the data's range

    @property
    def direction(self) -> str:
        return f"{self.better} is better"


def _score(key: str) -> Callable[[Image], float | None]:
    return lambda im: _number((im.get("scores") or {}).get(key))


def _subscore(key: str) -> Callable[[Image], float | None]:
    return lambda im: _number((im.get("subscores") or {}).get(key))


def _megapixels(im: Image) -> float | None:
    w, h = _number(im.get("width")), _number(im.get("height"))
    return None if w is None or h is None else w * h / 1e6


#: The distributions worth a look, in this order; the raw values stay in each card's details.
KEY_MEASURES = (
    Measure("quality", "Quality", "score 0\u2013100", "higher", _score("quality"), (0.0, 100.0)),
    Measure("sharpness", "Sharpness", "subscore 0\u2013100", "higher", _subscore("sharpness"), (0.0, 100.0)),
    Measure("noise", "Low noise", "subscore 0\u2013100", "higher", _subscore("noise"), (0.0, 100.0)),
    Measure("exposure", "Exposure", "subscore 0\u2013100", "higher", _subscore("exposure"), (0.0, 100.0)),
    Measure("megapixels", "Resolution", "megapixels", "higher", _megapixels),
)

_W, _H, _PLOT = 240, 86, 60


def histogram(measure: Measure, values: list[float]) -> str:
    """An inline SVG histogram of ``values`` (10 to 20 bins) with label, unit, direction, median and range."""
    n = len(values)
    bins = min(20, max(10, math.ceil(math.sqrt(n))))
    lo, hi = min(values), max(values)
    if measure.bounds is not None:  # the whole scale, values outside it on its ends
        lo, hi = measure.bounds
        values = [min(hi, max(lo, v)) for v in values]
    elif hi - lo <= 1e-9 * max(1.0, abs(hi)):  # one value: centre it in a unit-wide (or relative) range
        pad = max(0.5, abs(hi) * 1e-6)
        lo, hi = lo - pad, hi + pad
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    peak = max(counts)
    bar_w = _W / bins
    edges = [lo + i * width for i in range(bins)] + [hi]
    edges = [0.0 if abs(e) < width * 1e-9 else e for e in edges]  # no "-1.1e-16" labels
    bars = []
    for i, c in enumerate(counts):
        if c == 0:
            continue
        h = _PLOT * c / peak
        tip = f"{num(edges[i])} to {num(edges[i + 1])} {measure.unit}: {plural(c, 'image')}"
        bars.append(f'<rect x="{i * bar_w + 1:.2f}" y="{4 + _PLOT - h:.2f}" width="{bar_w - 2:.2f}" '
                    f'height="{max(h, 0.0):.2f}"><title>{esc(tip)}</title></rect>')
    label = (f"Histogram of {measure.label} ({measure.unit}, {measure.direction}): {plural(n, 'image')} "
             f"from {num(min(values))} to {num(max(values))}")
    return (
        f'<figure class="hist"><figcaption><span class="hk">{esc(measure.label)}</span>'
        f'<span class="hm">median {esc(num(statistics.median(values)))} \u00b7 n={n}</span>'
        f'<span class="hu">{esc(measure.unit)} \u00b7 <b>{esc(measure.direction)}</b></span></figcaption>'
        f'<svg viewBox="0 0 {_W} {_H}" role="img" aria-label="{esc(label)}">'
        f'<line class="axis" x1="0" y1="{4 + _PLOT + 0.5}" x2="{_W}" y2="{4 + _PLOT + 0.5}"/>'
        f'{"".join(bars)}'
        f'<text x="0" y="{_H - 4}">{esc(num(lo if measure.bounds else min(values)))}</text>'
        f'<text x="{_W}" y="{_H - 4}" text-anchor="end">'
        f'{esc(num(hi if measure.bounds else max(values)))}</text>'
        f"</svg></figure>"
    )


def key_histograms(images: list[Image]) -> list[str]:
    """The histograms of :data:`KEY_MEASURES` that have at least one value among ``images``."""
    figures = []
    for measure in KEY_MEASURES:
        values = [v for im in images if (v := measure.value(im)) is not None]
        if values:
            figures.append(histogram(measure, values))
    return figures
