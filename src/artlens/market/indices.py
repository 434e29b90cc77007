"""Price indices: the hedonic time-dummy index and the weighted repeat-sales index, with confidence bands.

* Hedonic time-dummy: OLS of log price on sale-period dummies and the works' characteristics (artist, medium,
  log area, age); the period coefficients are the log index (Court 1939; for art, Renneboog & Spaenjers,
  Management Science 2013). Standard errors are heteroskedasticity-robust (HC1, MacKinnon & White 1985).
* Repeat sales: the change in log price between two sales of the same work regressed on period dummies (-1
  at the first sale, +1 at the second; Bailey, Muth & Nourse, JASA 1963), weighted by the inverse of the error
  variance fitted as a linear function of the time between the sales (Case & Shiller, "Prices of single-
  family homes since 1970", New England Economic Review 1987); for art, Mei & Moses, American Economic Review
  92 (2002).

Both are normalised to 0 (an index of 100) in the first period; only sold lots are used.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from artlens.market.normalise import Prepared

__all__ = ["Index", "hedonic_index", "repeat_pairs", "repeat_sales_index"]


@dataclass
class Index:
    """A log index over ``periods`` (the first is 0) with standard errors; ``observations`` used."""

    method: str
    periods: np.ndarray
    log_index: np.ndarray
    se: np.ndarray
    observations: int
    observed: np.ndarray | None = None  # log prices the index was fitted on (hedonic only)
    fitted: np.ndarray | None = None  # and the regression's fitted values

    def band(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper log bounds of the pointwise confidence band."""
        z = float(norm.ppf(0.5 + level / 2))
        return self.log_index - z * self.se, self.log_index + z * self.se

    def to_json(self, labels: list[str], level: float = 0.95) -> dict[str, object]:
        low, high = self.band(level)
        return {
            "method": self.method,
            "observations": self.observations,
            "level": level,
            "periods": labels,
            "log_index": _round(self.log_index),
            "se": _round(self.se),
            "index": _round(100 * np.exp(self.log_index)),
            "low": _round(100 * np.exp(low)),
            "high": _round(100 * np.exp(high)),
        }


def _round(x: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 5) for v in x]


def _ols(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and their HC1 covariance (weighted least squares when ``w`` is given)."""
    if w is not None:
        sw = np.sqrt(w)
        x, y = x * sw[:, None], y * sw
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    e = y - x @ beta
    n, k = x.shape
    meat = (x * (e**2)[:, None]).T @ x
    cov = xtx_inv @ meat @ xtx_inv * n / max(n - k, 1)
    return beta, cov


def _one_hot(values: np.ndarray, drop_first: bool = True) -> np.ndarray:
    levels = sorted(set(values.tolist()))
    if drop_first:
        levels = levels[1:]
    return (
        np.column_stack([(values == v).astype(float) for v in levels])
        if levels
        else np.zeros((len(values), 0))
    )


def hedonic_index(p: Prepared) -> Index:
    """The hedonic time-dummy index of the sold lots of ``p`` (see the module docstring)."""
    sold = p.take(np.flatnonzero(p.sold))
    periods = np.unique(sold.period)
    t = (
        np.column_stack([(sold.period == q).astype(float) for q in periods[1:]])
        if len(periods) > 1
        else np.zeros((len(sold), 0))
    )
    area = np.where(
        np.isnan(sold.log_area),
        np.nanmean(sold.log_area) if np.isfinite(sold.log_area).any() else 0.0,
        sold.log_area,
    )
    age = np.where(np.isnan(sold.age), np.nanmean(sold.age) if np.isfinite(sold.age).any() else 0.0, sold.age)
    x = np.column_stack([np.ones(len(sold)), t, _one_hot(sold.artist), _one_hot(sold.medium), area, age])
    beta, cov = _ols(x, sold.log_price)
    k = t.shape[1]
    log_index = np.concatenate([[0.0], beta[1 : 1 + k]])
    se = np.concatenate([[0.0], np.sqrt(np.maximum(np.diag(cov)[1 : 1 + k], 0))])
    return Index("hedonic time-dummy", periods, log_index, se, len(sold), sold.log_price, x @ beta)


def repeat_pairs(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """Positions (first, second) of consecutive sold sales of the same work (same artist, title and size;
    works without a title are not matched)."""
    s = p.sales
    groups: dict[tuple[object, ...], list[int]] = {}
    for i in np.flatnonzero(p.sold):
        if not s.title[i]:
            continue
        key = (
            p.artist[i],
            str(s.title[i]).lower(),
            round(float(s.height[i]), 1) if np.isfinite(s.height[i]) else None,
            round(float(s.width[i]), 1) if np.isfinite(s.width[i]) else None,
        )
        groups.setdefault(key, []).append(int(i))
    first, second = [], []
    for rows in groups.values():
        rows.sort(key=lambda i: s.date[i])
        for a, b in itertools.pairwise(rows):
            if p.period[b] > p.period[a]:
                first.append(a)
                second.append(b)
    return np.array(first, dtype=int), np.array(second, dtype=int)


def repeat_sales_index(p: Prepared, periods: np.ndarray | None = None) -> Index | None:
    """The weighted repeat-sales index (three stages of Case & Shiller), or ``None`` with fewer than 10 pairs.

    ``periods`` fixes the index's periods (the hedonic index's, so both line up); periods no pair spans are
    ``nan``.
    """
    first, second = repeat_pairs(p)
    if len(first) < 10:
        return None
    periods = np.unique(p.period[p.sold]) if periods is None else np.asarray(periods)
    position = {int(q): j for j, q in enumerate(periods)}
    d = np.zeros((len(first), len(periods)))
    d[np.arange(len(first)), [position[int(q)] for q in p.period[first]]] -= 1
    d[np.arange(len(first)), [position[int(q)] for q in p.period[second]]] += 1
    y = p.log_price[second] - p.log_price[first]
    identified = np.flatnonzero(np.abs(d[:, 1:]).sum(axis=0) > 0) + 1
    x = d[:, identified]
    beta, _ = _ols(x, y)
    gap = (p.sales.date[second] - p.sales.date[first]).astype(float) / 365.25
    e2 = (y - x @ beta) ** 2
    g = np.column_stack([np.ones(len(gap)), gap])
    coef = np.linalg.lstsq(g, e2, rcond=None)[0]
    variance = np.maximum(g @ coef, max(float(e2.mean()) * 0.05, 1e-6))
    beta, cov = _ols(x, y, 1.0 / variance)
    log_index = np.full(len(periods), np.nan)
    se = np.full(len(periods), np.nan)
    log_index[0], se[0] = 0.0, 0.0
    log_index[identified] = beta
    se[identified] = np.sqrt(np.maximum(np.diag(cov), 0))
    return Index("repeat sales (Case-Shiller weighted)", periods, log_index, se, len(first))
