"""A short-horizon forecast of a log price index with prediction intervals.

An AR(1) model of the index's period-to-period changes with a drift, fitted by least squares (Box & Jenkins,
*Time Series Analysis*, 1970; an ARIMA(1,1,0)); with fewer than five changes it falls back to a random walk
with drift. The intervals add the innovation variance along the forecast path; they leave out the index's
own estimation error, so they are narrower than the truth when the index is noisy.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

__all__ = ["forecast_index"]


def forecast_index(log_index: np.ndarray, horizon: int = 2, level: float = 0.8) -> dict[str, object]:
    """``horizon`` forecast steps after the last value of ``log_index``: ``log_index``, ``low`` and ``high``
    (log), and the index (100 x exp) with its bounds."""
    series = np.asarray(log_index, dtype=float)
    series = series[np.isfinite(series)]
    diffs = np.diff(series)
    if len(diffs) >= 5:
        x = np.column_stack([np.ones(len(diffs) - 1), diffs[:-1]])
        (c, phi), *_ = np.linalg.lstsq(x, diffs[1:], rcond=None)
        phi = float(np.clip(phi, -0.95, 0.95))
        resid = diffs[1:] - (c + phi * diffs[:-1])
        sigma = float(np.sqrt((resid**2).sum() / max(len(resid) - 2, 1)))
    else:
        c, phi = (float(diffs.mean()) if len(diffs) else 0.0), 0.0
        sigma = float(diffs.std(ddof=1)) if len(diffs) > 1 else 0.0
    z = float(norm.ppf(0.5 + level / 2))
    level_now, last_diff = float(series[-1]) if len(series) else 0.0, float(diffs[-1]) if len(diffs) else 0.0
    means, variances = [], []
    psi_sum, variance = 0.0, 0.0
    for _ in range(horizon):
        last_diff = c + phi * last_diff
        level_now += last_diff
        psi_sum = psi_sum * phi + 1.0  # cumulative effect of a shock h steps back on the level
        variance += psi_sum**2 * sigma**2
        means.append(level_now)
        variances.append(variance)
    sd = np.sqrt(variances)
    mean = np.array(means)
    return {
        "log_index": mean.round(5).tolist(),
        "low": (mean - z * sd).round(5).tolist(),
        "high": (mean + z * sd).round(5).tolist(),
        "index": (100 * np.exp(mean)).round(3).tolist(),
        "index_low": (100 * np.exp(mean - z * sd)).round(3).tolist(),
        "index_high": (100 * np.exp(mean + z * sd)).round(3).tolist(),
        "level": level,
    }
