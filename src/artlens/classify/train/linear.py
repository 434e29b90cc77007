"""``--mode linear``: calibrated softmax heads on frozen backbone features (a "linear probe").

:func:`train_linear` embeds every image once with the frozen pretrained backbone (cached by content hash,
:mod:`artlens.classify.features`), then fits, per head, a multinomial logistic regression with class-balanced
cross-entropy and an L2 penalty by L-BFGS. It validates on a stratified split or by k-fold cross-validation,
fits one temperature per head on the held-out logits, refits on every labelled row and saves the model
folder (:mod:`artlens.classify.model`): the heads only, the trunk being the pinned pretrained weights.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from artlens.classify.data import Dataset
from artlens.classify.features import embed_paths
from artlens.classify.model import ClassifierNet, save_model
from artlens.classify.train.heldout import held_out_report, make_config, split_rows
from artlens.errors import ConfigError
from artlens.models.backbones import get_backbone
from artlens.training.losses import class_weights
from artlens.training.progress import Progress, report

__all__ = ["fit_heads", "fit_softmax", "train_linear"]


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


def fit_heads(x: np.ndarray, data: Dataset, *, weight_decay: float = 1e-3,
              max_iter: int = 200) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One :func:`fit_softmax` per head on the rows of ``x`` labelled for it (``data`` aligned with ``x``)."""
    params = {}
    for head, classes in data.heads.items():
        y = data.labels[head]
        rows = np.flatnonzero(y >= 0)
        if np.unique(y[rows]).size < 2:
            raise ConfigError(f"head {head!r}: fewer than two classes among the {rows.size} readable "
                              "labelled training images")
        params[head] = fit_softmax(x[rows], y[rows], len(classes), weight_decay=weight_decay,
                                   max_iter=max_iter)
    return params


def train_linear(dataset: Dataset, out_dir: str | Path, *, backbone: str = "mobilenet_v2",
                 val_split: float = 0.2, kfold: int = 0, seed: int = 0, epochs: int = 200,
                 weight_decay: float = 1e-3, batch_size: int = 32, device: str | None = None,
                 cache: bool = True, progress: Progress | None = None) -> dict:
    """Train, validate, calibrate and save linear heads on frozen backbone features.

    Parameters
    ----------
    dataset
        From :func:`artlens.classify.data.load_dataset`.
    out_dir
        Model folder to write (created).
    backbone
        Feature extractor name (see :func:`artlens.models.backbones.list_backbones`).
    val_split
        Fraction of each class held out for validation and temperature fitting (when ``kfold`` is 0).
    kfold
        When at least 2, k-fold cross-validation instead; the temperature is fitted on the pooled
        out-of-fold logits.
    seed
        Seeds the splits; the fits themselves are deterministic.
    epochs
        L-BFGS iterations per fit.
    weight_decay
        L2 penalty of :func:`fit_softmax`.
    batch_size
        Images per backbone forward pass.
    device
        Passed to :func:`artlens.models.backbones.get_backbone`.
    cache
        Use the feature cache (:mod:`artlens.classify.features`).
    progress
        Receives :class:`~artlens.training.ProgressEvent` records: stages ``embed`` and ``fit``.

    Returns
    -------
    dict
        ``out_dir``, ``mode``, ``backbone``, ``n_images``, ``n_used``, ``skipped`` ([{path, reason}]),
        ``heads`` ({head: {classes, n_labelled, temperature, metrics}}), ``seconds`` ({embed, fit}).

    Raises
    ------
    ConfigError
        Bad settings, or too few readable labelled images for a head.
    """
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {epochs}")
    if weight_decay < 0:
        raise ConfigError(f"weight_decay must be non-negative, got {weight_decay}")
    if not dataset.heads:
        raise ConfigError("the dataset has no label heads")
    net = get_backbone(backbone, device=device)
    t0 = time.perf_counter()
    x, kept, skipped = embed_paths(dataset.paths, net, sha256=dataset.sha256 or None, batch_size=batch_size,
                                   cache=cache, progress=progress)
    t_embed = time.perf_counter() - t0
    if kept.size == 0:
        raise ConfigError(f"none of the {len(dataset.paths)} images could be read")
    data = dataset.subset(kept)
    folds = split_rows(data, val_split=val_split, kfold=kfold, seed=seed)
    t0 = time.perf_counter()
    held_out = {h: np.zeros((len(data), len(c)), np.float64) for h, c in data.heads.items()}
    for n_done, (train, val) in enumerate(folds):
        params = fit_heads(x[train], data.subset(train), weight_decay=weight_decay, max_iter=epochs)
        for head, (w, b) in params.items():
            held_out[head][val] = x[val].astype(np.float64) @ w.T + b
        report(progress, "fit", n_done + 1, len(folds) + 1)
    heads: dict[str, dict] = {}
    for head, classes in data.heads.items():
        temperature, metrics = held_out_report(data.labels[head], held_out[head], classes, folds)
        heads[head] = {"classes": list(classes), "n_labelled": int((data.labels[head] >= 0).sum()),
                       "temperature": temperature, "metrics": metrics}
    final = fit_heads(x, data, weight_decay=weight_decay, max_iter=epochs)
    report(progress, "fit", len(folds) + 1, len(folds) + 1)
    t_fit = time.perf_counter() - t0
    model = ClassifierNet(net.trunk, net.spec.feature_dim, [len(c) for c in data.heads.values()])
    with torch.no_grad():
        for layer, (w, b) in zip(model.heads, final.values(), strict=True):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    settings = {"mode": "linear", "val_split": val_split if kfold < 2 else None, "kfold": kfold, "seed": seed,
                "epochs": epochs, "weight_decay": weight_decay, "class_weighting": "balanced",
                "validation": f"{kfold}-fold" if kfold >= 2 else "stratified split"}
    config = make_config("linear", net, dataset, heads, settings, int(kept.size), skipped)
    save_model(out_dir, config, model, with_trunk=False)
    return {"out_dir": str(out_dir), "mode": "linear", "backbone": net.spec.name,
            "n_images": len(dataset.paths), "n_used": int(kept.size), "skipped": skipped, "heads": heads,
            "seconds": {"embed": t_embed, "fit": t_fit}}
