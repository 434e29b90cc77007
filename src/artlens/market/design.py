"""Design matrices: what the hedonic ridge and the gradient-boosting models see of each sale.

The encoder is fitted on training sales only (vocabularies, fill values) and then applied unchanged to later
sales, so nothing of the test period reaches the model. A sale period the training data never saw takes the
latest period it did see: a valuation for a new period assumes the last known market level.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from artlens.market.normalise import Prepared

__all__ = ["GROUPS", "Encoder", "fit_encoder"]

#: Feature groups used for attributions, in report order.
GROUPS = ("artist", "medium", "size", "age", "period", "image")
_MAX_CATEGORIES = 250  # HistGradientBoosting's categorical features need codes below its 255 bins


@dataclass
class Encoder:
    """Vocabularies and fill values learnt from training sales."""

    artists: list[str]
    mediums: list[str]
    periods: list[int]
    area_fill: float
    age_fill: float
    image_dim: int = 0

    def _period_index(self, periods: np.ndarray) -> np.ndarray:
        known = np.array(self.periods)
        clipped = np.minimum(periods, known.max())
        return np.searchsorted(known, clipped, side="right") - 1

    def _numeric(self, p: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        area = np.where(np.isnan(p.log_area), self.area_fill, p.log_area)
        age = np.where(np.isnan(p.age), self.age_fill, p.age)
        return area, np.isnan(p.log_area).astype(float), age, np.isnan(p.age).astype(float)

    def ridge(self, p: Prepared) -> tuple[np.ndarray, list[str]]:
        """One-hot artist, medium and period columns, log area and age (with missing flags), and their
        feature-group names."""
        n = len(p)
        artist_idx = {a: i for i, a in enumerate(self.artists)}
        medium_idx = {m: i for i, m in enumerate(self.mediums)}
        a = np.zeros((n, len(self.artists)))
        m = np.zeros((n, len(self.mediums)))
        t = np.zeros((n, len(self.periods)))
        for i in range(n):
            j = artist_idx.get(p.artist[i])
            if j is not None:
                a[i, j] = 1.0
            k = medium_idx.get(p.medium[i])
            if k is not None:
                m[i, k] = 1.0
        pi = self._period_index(p.period)
        t[np.arange(n), np.maximum(pi, 0)] = 1.0
        area, area_missing, age, age_missing = self._numeric(p)
        x = np.column_stack([a, m, t, area, area_missing, age / 10.0, age_missing])
        groups = (
            ["artist"] * a.shape[1]
            + ["medium"] * m.shape[1]
            + ["period"] * t.shape[1]
            + ["size", "size", "age", "age"]
        )
        return x, groups

    def boosting(
        self, p: Prepared, image: np.ndarray | None = None
    ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Artist and medium codes (categorical; unknown: missing), period, log area, age and image
        features; the group of each column and the categorical mask."""
        artist_idx = {a: i for i, a in enumerate(self.artists)}
        medium_idx = {m: i for i, m in enumerate(self.mediums)}
        a = np.array([artist_idx.get(x, np.nan) for x in p.artist], dtype=float)
        m = np.array([medium_idx.get(x, np.nan) for x in p.medium], dtype=float)
        cols = [a, m, p.period.astype(float), p.log_area, p.age]
        groups = ["artist", "medium", "period", "size", "age"]
        x = np.column_stack(cols)
        if self.image_dim:
            feats = image if image is not None else np.full((len(p), self.image_dim), np.nan)
            x = np.column_stack([x, feats])
            groups += ["image"] * self.image_dim
        categorical = np.array([True, True] + [False] * (x.shape[1] - 2))
        return x, groups, categorical


def fit_encoder(p: Prepared, image_dim: int = 0) -> Encoder:
    """An :class:`Encoder` learnt from training sales ``p``."""
    artists = [a for a, _ in Counter(p.artist.tolist()).most_common(_MAX_CATEGORIES)]
    mediums = sorted(set(p.medium.tolist()))[:_MAX_CATEGORIES]
    area = p.log_area[~np.isnan(p.log_area)]
    age = p.age[~np.isnan(p.age)]
    return Encoder(
        sorted(artists),
        mediums,
        sorted({int(x) for x in p.period}),
        float(area.mean()) if len(area) else 0.0,
        float(age.mean()) if len(age) else 0.0,
        image_dim,
    )
