"""Multinomial logistic regression with class-balanced weights and an L2 penalty, fitted by L-BFGS: the
linear head every ``--mode linear`` candidate is fitted with."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from artlens.training.losses import class_weights

__all__ = ["fit_softmax"]


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, *, weight_decay: float = 1e-3,
                max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with class-balanced weights and an L2 penalty.

    Parameters
    ----------
    x
        (N, D) features.
    y
        (N,) class indices in ``[0, n_classes)``.
    n_classes
        K, the number of classes (a class absent from ``y`` gets a low bias).
    weight_decay
        L2 penalty ``weight_decay / 2 * ||W||^2`` on the weights of the standardised features.
    max_iter
        L-BFGS iterations.

    Returns
    -------
    weight, bias
        (K, D) and (K,) float32 acting on the raw features: ``logits = x @ weight.T + bias``.

    Notes
    -----
    Features are standardised (training mean and standard deviation) for the fit, and the transform is folded
    into the returned parameters. Each class's loss weight is ``N / (K * n_k)``
    (:func:`artlens.training.class_weights`), so every class counts as much as any other whatever its size
    [1]_. The objective is convex and starts from zero, and L-BFGS is
    deterministic, so the result depends on the data alone.

    References
    ----------
    .. [1] G. King and L. Zeng, "Logistic regression in rare events data", Political Analysis 9(2), 2001.
    """
    xt = torch.as_tensor(np.asarray(x, np.float32))
    yt = torch.as_tensor(np.asarray(y, np.int64))
    mean = xt.mean(dim=0)
    std = xt.std(dim=0, unbiased=False)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    z = (xt - mean) / std
    class_w = class_weights(y, n_classes)
    w = torch.zeros(n_classes, xt.shape[1], requires_grad=True)
    b = torch.zeros(n_classes, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=20,
                            tolerance_grad=1e-6, tolerance_change=1e-9, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(z @ w.T + b, yt, weight=class_w) + 0.5 * weight_decay * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        weight = w / std
        bias = b - weight @ mean
    return weight.numpy().astype(np.float32), bias.numpy().astype(np.float32)
