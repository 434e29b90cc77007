"""Fitting a quality head on cached features: regression onto distortion-level targets plus RankIQA's
margin ranking loss (Liu et al., ICCV 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from artlens.errors import ArtlensError
from artlens.iqa.heads import QualityHead, new_head
from artlens.seeding import seeded

__all__ = ["train_head"]


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
    x = torch.as_tensor(np.asarray(features, np.float32) if not isinstance(features, torch.Tensor)
                        else features.detach().float().cpu())
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

    head = new_head(x.shape[1], hidden, dropout, seed)
    mean = x.mean(dim=0)
    std = x.std(dim=0, correction=0)
    head.feature_mean.copy_(mean)
    head.feature_scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = max(1, -(-n // batch_size))
    head.train()
    with seeded(seed):  # dropout masks
        for _ in range(epochs):
            order = torch.randperm(n, generator=gen)
            for k in range(steps_per_epoch):
                idx = order[k * batch_size:(k + 1) * batch_size]
                loss = nn.functional.mse_loss(head(x[idx]), y[idx])
                if rank_weight > 0 and p.shape[0]:
                    sel = p[torch.randint(p.shape[0], (min(batch_size, p.shape[0]),), generator=gen)]
                    both = head(x[sel.reshape(-1)]).reshape(-1, 2)
                    loss = loss + rank_weight * torch.relu(margin - (both[:, 0] - both[:, 1])).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return head.eval()


