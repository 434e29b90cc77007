"""Fitting a quality head on cached features, with the shared epoch loop (:func:`artlens.training.fit`):
regression onto distortion-level targets plus RankIQA's margin ranking loss (Liu et al., ICCV 2017), or
class-balanced cross-entropy on a user's classes (King and Zeng, Political Analysis 2001).

The heads keep the optimiser they were tuned with: AdamW on every parameter of the small head, constant rate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from artlens.errors import ArtlensError
from artlens.iqa.heads import QualityHead, new_head
from artlens.seeding import seeded
from artlens.training.loop import fit
from artlens.training.losses import class_weights

__all__ = ["standardised_head", "train_class_head", "train_head"]


def standardised_head(x: torch.Tensor, hidden: int, dropout: float, seed: int,
                      out_dim: int = 1) -> QualityHead:
    """A new head (initialised by ``seed``) that standardises its input by the mean and spread of ``x``."""
    head = new_head(x.shape[1], hidden, dropout, seed, out_dim)
    std = x.std(dim=0, correction=0)
    head.feature_mean.copy_(x.mean(dim=0))
    head.feature_scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))
    return head


def _as_features(features: torch.Tensor | np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(features, np.float32)) if not isinstance(features, torch.Tensor) \
        else features.detach().float().cpu()


def train_head(features: torch.Tensor | np.ndarray, targets: np.ndarray | Sequence[float],
               pairs: np.ndarray | Sequence[tuple[int, int]], *, epochs: int = 150, lr: float = 1e-3,
               rank_weight: float = 1.0, margin: float = 0.05, weight_decay: float = 1e-3,
               hidden: int = 128, dropout: float = 0.25, batch_size: int = 128, seed: int = 0) -> QualityHead:
    """Fit a :class:`QualityHead` on cached features.

    The loss is ``MSE(head(x), target) + rank_weight * mean(max(0, margin - (s_i - s_j)))`` over pairs
    ``(i, j)`` in which image ``i`` is known to be better than image ``j`` (RankIQA's margin ranking loss).

    Parameters
    ----------
    features
        (N, D) pooled features (:meth:`QualityModel.embed`).
    targets
        (N,) regression targets, e.g. :func:`level_target` of each image's distortion level.
    pairs
        (P, 2) indices ``(better, worse)``; may be empty.
    epochs
        Passes over the images (each step also draws ``batch_size`` pairs).
    lr, weight_decay
        AdamW settings.
    rank_weight, margin
        Weight and margin of the ranking term.
    hidden, dropout
        Head shape; store the same values in :class:`QualityModelConfig`.
    batch_size
        Images (and pairs) per step.
    seed
        Seeds initialisation and batch order; the result is deterministic on the CPU.

    Returns
    -------
    QualityHead
        In eval mode, on the CPU, with the feature standardisation of ``features`` built in.

    References
    ----------
    X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image
    Quality Assessment", ICCV 2017.
    """
    x = _as_features(features)
    y = torch.as_tensor(np.asarray(targets, np.float32))
    p = torch.as_tensor(np.asarray(pairs, np.int64).reshape(-1, 2))
    n = x.shape[0]
    if x.ndim != 2 or n < 2 or y.shape != (n,):
        raise ArtlensError(f"need features (N>=2, D) and targets (N,), "
                           f"got {tuple(x.shape)} and {tuple(y.shape)}")
    if p.numel() and (int(p.min()) < 0 or int(p.max()) >= n):
        raise ArtlensError(f"pair indices must lie in [0, {n})")
    if epochs < 1 or batch_size < 1:
        raise ArtlensError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")

    head = standardised_head(x, hidden, dropout, seed)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, -(-n // batch_size))

    def batches(_epoch: int) -> list[torch.Tensor]:
        order = torch.randperm(n, generator=gen)
        return [order[k * batch_size:(k + 1) * batch_size] for k in range(steps_per_epoch)]

    def loss(idx: torch.Tensor) -> torch.Tensor:
        value = nn.functional.mse_loss(head(x[idx]), y[idx])
        if rank_weight > 0 and p.shape[0]:
            sel = p[torch.randint(p.shape[0], (min(batch_size, p.shape[0]),), generator=gen)]
            both = head(x[sel.reshape(-1)]).reshape(-1, 2)
            value = value + rank_weight * torch.relu(margin - (both[:, 0] - both[:, 1])).mean()
        return value

    with seeded(seed):  # dropout masks
        fit(head, opt, batches, loss, epochs=epochs, generators={"order": gen})
    return head.eval()


def train_class_head(features: torch.Tensor | np.ndarray, labels: Sequence[int] | np.ndarray, n_classes: int,
                     *, epochs: int = 150, lr: float = 1e-3, weight_decay: float = 1e-2, hidden: int = 128,
                     dropout: float = 0.25, batch_size: int = 64, seed: int = 0,
                     sample_weight: np.ndarray | Sequence[float] | None = None) -> QualityHead:
    """Fit a K-output :class:`QualityHead` by class-weighted cross-entropy on cached features.

    Parameters
    ----------
    features
        (N, D) pooled features (:meth:`QualityModel.embed`).
    labels
        (N,) class indices in ``[0, n_classes)``.
    n_classes
        K, the head's output width.
    epochs, lr, weight_decay, batch_size
        AdamW training settings.
    hidden, dropout
        Head shape; store the same values in the model's config.
    seed
        Seeds initialisation, batch order and dropout; deterministic on the CPU.
    sample_weight
        Optional (N,) non-negative weight of each row (default 1), e.g. the share of its image that a view
        carries when an image gives several rows.

    Returns
    -------
    QualityHead
        In eval mode on the CPU, with the feature standardisation of ``features`` built in.

    Notes
    -----
    Each class is weighted by ``N / (K * count)`` (:func:`artlens.training.class_weights`), so a rare class
    counts as much as a common one [1]_ (with ``sample_weight``, ``count`` is the class's summed row weight).
    A batch's loss is the weighted mean of its rows' cross-entropies.

    References
    ----------
    .. [1] G. King and L. Zeng, Political Analysis 9, 2001.
    """
    x = _as_features(features)
    y_np = np.asarray(labels, np.int64).ravel()
    n = x.shape[0]
    if x.ndim != 2 or n < 2 or y_np.shape != (n,):
        raise ArtlensError(f"need features (N>=2, D) and labels (N,), got {tuple(x.shape)} and {y_np.shape}")
    if n_classes < 2 or y_np.min() < 0 or y_np.max() >= n_classes:
        raise ArtlensError(f"labels must be class indices in [0, {n_classes}) with n_classes >= 2")
    if epochs < 1 or batch_size < 1:
        raise ArtlensError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}")
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64).ravel()
    if sw.shape != (n,) or not np.all(np.isfinite(sw)) or sw.min() < 0 or sw.sum() <= 0:
        raise ArtlensError(f"sample_weight must be (N,) non-negative and not all zero, got shape {sw.shape}")
    y = torch.as_tensor(y_np)
    head = standardised_head(x, hidden, dropout, seed, n_classes)
    row_weight = torch.as_tensor(class_weights(y_np, n_classes, sw).numpy()[y_np] * sw, dtype=torch.float32)
    ce = nn.CrossEntropyLoss(reduction="none")
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)

    def batches(_epoch: int) -> list[torch.Tensor]:
        order = torch.randperm(n, generator=gen)
        return [order[start:start + batch_size] for start in range(0, n, batch_size)]

    def loss(idx: torch.Tensor) -> torch.Tensor:
        w = row_weight[idx]
        return (w * ce(head(x[idx]), y[idx])).sum() / w.sum().clamp_min(1e-12)

    with seeded(seed):  # dropout masks
        fit(head, opt, batches, loss, epochs=epochs, generators={"order": gen})
    return head.eval()
