"""Fidelity and diversity of generated images apart: improved precision and recall on image features.

Each set's manifold is the union of balls around its points, each ball reaching the point's k-th nearest
neighbour in the same set. *Precision* is the share of generated images inside the real manifold (are the
samples realistic?), *recall* the share of real images inside the generated manifold (is the collection's
variety covered?). KID and the Fréchet distance fold both into one number; a generator that draws a few
convincing motifs over and over (mode collapse) keeps a fair precision but loses recall.

References
----------
.. [1] T. Kynkäänniemi, T. Karras, S. Laine, J. Lehtinen and T. Aila, "Improved Precision and Recall Metric
   for Assessing Generative Models", NeurIPS 2019 (k = 3, Euclidean distances between features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from artlens.errors import ConfigError

__all__ = ["PrecisionRecall", "precision_recall"]


@dataclass(frozen=True)
class PrecisionRecall:
    """Share of samples on the real manifold (precision) and of real images on the samples' (recall)."""

    precision: float
    recall: float
    k: int


def _radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    d = cdist(points, points)
    return np.partition(d, k, axis=1)[:, k]  # column 0 is the point itself (distance 0)


def _covered(queries: np.ndarray, points: np.ndarray, radii: np.ndarray) -> float:
    """Share of ``queries`` inside at least one ball (centre ``points[i]``, radius ``radii[i]``)."""
    return float((cdist(queries, points) <= radii[None, :]).any(axis=1).mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, *, k: int = 3) -> PrecisionRecall:
    """Improved precision and recall of ``fake`` features against ``real`` ones (rows are images)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ConfigError(f"precision and recall need two feature sets of one width, got {real.shape} and "
                          f"{fake.shape}")
    if min(len(real), len(fake)) <= k:
        raise ConfigError(f"precision and recall with k = {k} need more than {k} images on each side, got "
                          f"{len(real)} and {len(fake)}")
    return PrecisionRecall(precision=_covered(fake, real, _radii(real, k)),
                           recall=_covered(real, fake, _radii(fake, k)), k=k)
