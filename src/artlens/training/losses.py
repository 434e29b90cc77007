"""Loss helpers shared by the trainers: the one class-weight rule and the ordered-pairs ranking term.

Class weights follow King & Zeng's correction for rare events (G. King and L. Zeng, "Logistic Regression in
Rare Events Data", Political Analysis 9, 2001): each class weighs ``n / (k * n_c)``, so every class counts as
much as any other whatever its size. The ranking term is the margin loss over ordered pairs of RankIQA
(X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image Quality
Assessment", ICCV 2017).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from artlens.errors import ConfigError

__all__ = ["class_weights", "ordered_pairs_loss"]


def class_weights(labels: Sequence[int] | np.ndarray, n_classes: int,
                  sample_weight: Sequence[float] | np.ndarray | None = None) -> torch.Tensor:
    """Balanced class weights ``n / (k * n_c)`` over the labelled rows.

    Parameters
    ----------
    labels
        (N,) class indices; negative values (a missing label) are left out.
    n_classes
        K.
    sample_weight
        Optional (N,) non-negative row weights; ``n`` and ``n_c`` are then sums of them.

    Returns
    -------
    torch.Tensor
        (K,) float32. A class with no labelled row weighs **0**: it has nothing to balance, and a large weight
        would still act through label smoothing (which spreads every row's target over all classes) and
        push predictions towards a class never seen. Every present class is unaffected by absent ones
        (``k`` counts all classes, so the weights of a set with every class present are unchanged).

    Raises
    ------
    ConfigError
        A label at or above ``n_classes``, or weights of another length or negative.
    """
    y = np.asarray(labels, np.int64).ravel()
    if n_classes < 1:
        raise ConfigError(f"n_classes must be at least 1, got {n_classes}")
    w = np.ones(y.size) if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    if w.shape != y.shape or (w.size and (not np.all(np.isfinite(w)) or w.min() < 0)):
        raise ConfigError(f"sample_weight must be {y.size} non-negative numbers, got shape {w.shape}")
    keep = y >= 0
    if keep.any() and y[keep].max() >= n_classes:
        raise ConfigError(f"a label {int(y[keep].max())} is not below n_classes={n_classes}")
    counts = np.bincount(y[keep], weights=w[keep], minlength=n_classes).astype(np.float64)
    out = np.divide(counts.sum(), n_classes * counts, out=np.zeros(n_classes), where=counts > 0)
    return torch.as_tensor(out, dtype=torch.float32)


def ordered_pairs_loss(scores: torch.Tensor, targets: torch.Tensor, margin: float) -> torch.Tensor:
    """Mean of ``max(0, margin - (s_i - s_j))`` over every pair with ``target_i > target_j`` (0 if none)."""
    ordered = targets[:, None] > targets[None, :]
    if not bool(ordered.any()):
        return scores.sum() * 0.0
    return torch.relu(margin - (scores[:, None] - scores[None, :]))[ordered].mean()
