"""How the HTML report writes numbers, sizes, counts and verdicts: escaped text and small marked-up pieces."""

from __future__ import annotations

import functools
import html
import math
from typing import Any

__all__ = ["ICONS", "LABELS", "badge", "esc", "file_bytes", "num", "plural", "sentence", "shown"]

LABELS = {"pass": "Pass", "review": "Review", "fail": "Fail", "error": "Error"}
ICONS = {"pass": "\u2713", "review": "!", "fail": "\u2717", "error": "\u2298"}

#: HTML-escape text for an element or a quoted attribute.
esc = functools.partial(html.escape, quote=True)


def num(value: Any) -> str:
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


def shown(value: Any) -> str:
    """A check's value or threshold as text."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    return num(value)


def file_bytes(n: Any) -> str:
    """A file size in B, KB, MB or GB (powers of 1000)."""
    if not isinstance(n, int | float):
        return "\u2014"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""  # pragma: no cover


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def badge(verdict: str, count: int | None = None) -> str:
    """A verdict's pill (icon, word and, given, a count) in the verdict's colours."""
    label = f"{ICONS[verdict]} {LABELS[verdict]}"
    if count is not None:
        label += f" <b>{count}</b>"
    return f'<span class="badge b-{verdict}">{label}</span>'
