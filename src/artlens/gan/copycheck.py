"""Does a generator copy its training images? Nearest training image of every sample, in feature space.

Distances are cosine distances between features. Each generated image's distance to its nearest training
image is compared with how far training images lie from their own nearest other training image: a sample
closer to a training image than half the median of those distances is counted as a near copy.

References
----------
.. [1] C. Meehan, K. Chaudhuri and S. Dasgupta, "A Non-Parametric Test to Detect Data-Copying in
   Generative Models", AISTATS 2020 (the idea of comparing sample-to-train with train-to-train distances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artlens.errors import ConfigError

__all__ = ["MemorisationReport", "memorisation"]


@dataclass(frozen=True)
class MemorisationReport:
    """Per sample: the index of its nearest training image and the distance; and the summary shares."""

    nearest: list[int]
    distance: list[float]
    train_median: float
    share_closer_than_train: float
    near_copies: int
    near_copy_threshold: float


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def memorisation(train: np.ndarray, generated: np.ndarray, *, copy_ratio: float = 0.5) -> MemorisationReport:
    """Nearest training image of each generated one; ``share_closer_than_train`` is the share of samples
    nearer a training image than the median training image is to its nearest other one."""
    if len(train) < 2 or len(generated) < 1:
        raise ConfigError(f"the memorisation check needs 2+ training images and 1+ samples, got "
                          f"{len(train)} and {len(generated)}")
    t, g = _unit(train), _unit(generated)
    tt = 1.0 - t @ t.T
    np.fill_diagonal(tt, np.inf)
    train_nn = tt.min(axis=1)
    gt = 1.0 - g @ t.T
    nearest = gt.argmin(axis=1)
    dist = gt[np.arange(len(g)), nearest]
    median = float(np.median(train_nn))
    threshold = copy_ratio * median
    return MemorisationReport([int(i) for i in nearest], [float(max(0.0, d)) for d in dist], median,
                              float((dist < median).mean()), int((dist < threshold).sum()), threshold)
