"""The three valuation models side by side: a hedonic ridge regression on log price, gradient boosting, and
gradient boosting with image features; each gives a median and an interval.

* ``hedonic``: ridge regression on one-hot artist, medium and period with log area and age, the hedonic model
  of art prices (Renneboog & Spaenjers, Management Science 2013); its intervals are split-conformal on the
  absolute residual (Lei, G'Sell, Rinaldo, Tibshirani & Wasserman, JASA 2018).
* ``boosting`` and ``boosting+image``: scikit-learn's histogram gradient boosting (the LightGBM algorithm, Ke
  et al., NeurIPS 2017) on log price, with quantile models at both ends made conformal (conformalized quantile
  regression: Romano, Patterson & Candès, NeurIPS 2019).

scikit-learn's OpenMP threads spin while they wait and slow a shared machine to a crawl (a 2,000-row boosting
fit took 50 s instead of 0.7 s at load 10 on 2 cores), so fitting and prediction run in one thread each.

Calibration is time-aware: the scores come from the latest training period, predicted by models fitted on the
periods before it, so they hold the one-step-ahead error a valuation of the next period makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from artlens.market.design import Encoder
from artlens.market.normalise import Prepared

__all__ = ["MODELS", "Fitted", "conformal_quantile", "fit_estimator", "one_thread"]

MODELS = ("hedonic", "boosting", "boosting+image")


def one_thread() -> Any:
    """A context in which scikit-learn's native thread pools (OpenMP, BLAS) use one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The split-conformal ``ceil((n+1) level)``-th smallest score (infinite when there are too few)."""
    s = np.sort(np.asarray(scores, dtype=float))
    k = int(np.ceil((len(s) + 1) * level))
    return float(s[k - 1]) if 0 < k <= len(s) else float("inf")


@dataclass
class Fitted:
    """One fitted model: ``predict`` gives (median, low, high) log prices."""

    kind: str
    encoder: Encoder
    level: float
    estimators: dict[str, Any] = field(default_factory=dict)
    correction: float = 0.0

    def design(self, p: Prepared, image: np.ndarray | None) -> tuple[np.ndarray, list[str]]:
        """The model's design matrix of ``p`` and the feature group of each column."""
        if self.kind == "hedonic":
            return self.encoder.ridge(p)
        x, groups, _ = self.encoder.boosting(p, image if self.kind == "boosting+image" else None)
        return x, groups

    def predict_design(self, x: np.ndarray) -> np.ndarray:
        """Median log prices of design rows ``x`` (see :meth:`design`)."""
        with one_thread():
            return self.estimators["mid"].predict(x)

    def raw(self, p: Prepared, image: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Median and the uncorrected interval ends."""
        x, _ = self.design(p, image)
        with one_thread():
            mid = self.estimators["mid"].predict(x)
            if self.kind == "hedonic":
                return mid, mid, mid
            return mid, self.estimators["low"].predict(x), self.estimators["high"].predict(x)

    def predict(
        self, p: Prepared, image: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Median log price and the conformal interval ``[low, high]`` at :attr:`level`."""
        mid, low, high = self.raw(p, image)
        low, high = np.minimum(low, mid), np.maximum(high, mid)
        return mid, low - self.correction, high + self.correction

    def scores(self, p: Prepared, y: np.ndarray, image: np.ndarray | None = None) -> np.ndarray:
        """Conformity scores of sales with log prices ``y``."""
        mid, low, high = self.raw(p, image)
        if self.kind == "hedonic":
            return np.abs(y - mid)
        low, high = np.minimum(low, mid), np.maximum(high, mid)
        return np.maximum(low - y, y - high)


def _boosting(loss: str, quantile: float | None, categorical: np.ndarray, seed: int, iterations: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    kwargs = {"quantile": quantile} if quantile is not None else {}
    return HistGradientBoostingRegressor(
        loss=loss,
        learning_rate=0.06,
        max_iter=iterations,
        max_leaf_nodes=15,
        min_samples_leaf=20,
        l2_regularization=1.0,
        categorical_features=categorical,
        random_state=seed,
        early_stopping=False,
        **kwargs,
    )


def fit_estimator(
    kind: str,
    encoder: Encoder,
    p: Prepared,
    y: np.ndarray,
    image: np.ndarray | None = None,
    *,
    level: float = 0.8,
    seed: int = 0,
    alpha: float = 1.0,
    iterations: int = 300,
) -> Fitted:
    """Fit one model of :data:`MODELS` on prepared sales ``p`` with log prices ``y`` (no calibration yet)."""
    with one_thread():
        return _fit(kind, encoder, p, y, image, level, seed, alpha, iterations)


def _fit(
    kind: str,
    encoder: Encoder,
    p: Prepared,
    y: np.ndarray,
    image: np.ndarray | None,
    level: float,
    seed: int,
    alpha: float,
    iterations: int,
) -> Fitted:
    fitted = Fitted(kind, encoder, level)
    if kind == "hedonic":
        from sklearn.linear_model import Ridge

        x = encoder.ridge(p)[0]
        fitted.estimators["mid"] = Ridge(alpha=alpha).fit(x, y)
        return fitted
    x, _, categorical = encoder.boosting(p, image if kind == "boosting+image" else None)
    tail = (1 - level) / 2
    fitted.estimators["mid"] = _boosting("absolute_error", None, categorical, seed, iterations).fit(x, y)
    fitted.estimators["low"] = _boosting("quantile", tail, categorical, seed, iterations).fit(x, y)
    fitted.estimators["high"] = _boosting("quantile", 1 - tail, categorical, seed, iterations).fit(x, y)
    return fitted
