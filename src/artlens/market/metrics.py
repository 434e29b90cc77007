"""Accuracy of valuations: R^2 on log price, median absolute percentage error, interval coverage."""

from __future__ import annotations

import numpy as np

__all__ = ["valuation_metrics"]


def valuation_metrics(
    y: np.ndarray, mid: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None
) -> dict[str, float | int | None]:
    """``r2`` (log price), ``mdape`` (median of ``|price/estimate - 1|``, as a fraction), and with an
    interval its ``coverage`` and median ``width`` (high/low price ratio)."""
    y, mid = np.asarray(y, float), np.asarray(mid, float)
    total = float(((y - y.mean()) ** 2).sum())
    result: dict[str, float | int | None] = {
        "n": len(y),
        "r2": 1 - float(((y - mid) ** 2).sum()) / total if total > 0 else None,
        "mdape": float(np.median(np.abs(np.exp(y - mid) - 1))) if len(y) else None,
        "coverage": None,
        "width": None,
    }
    if low is not None and high is not None and len(y):
        result["coverage"] = float(((y >= low) & (y <= high)).mean())
        result["width"] = float(np.median(np.exp(high - low)))
    return result
