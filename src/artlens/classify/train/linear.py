"""``--mode linear``: calibrated softmax heads on frozen backbone features (a "linear probe").

:func:`train_linear` embeds every image once with the frozen pretrained backbone (EfficientNet-Lite0 by
default; cached by content hash, :mod:`artlens.classify.features`), after framing it
(:mod:`artlens.classify.framing`: by default a cut-out on a plain background is padded to a square, so the
centre crop keeps all of it). By default the pass takes the multi-depth features
(:mod:`artlens.classify.pooling`); the features are power- and L2-normalised (signed square root); inner
3-fold cross-validation on macro-F1 over all labelled rows chooses, per head, the L2 strength
(:mod:`artlens.classify.train.selection`; the L2 strengths of one fold are fitted strongest first, each
warm-started from the last), and with ``pooling="auto"`` also between the multi-depth features and their
last columns (the usual average-pooled ones). Each head is a multinomial logistic regression with
class-balanced cross-entropy fitted by L-BFGS on the span of its training rows, on one thread
(:mod:`artlens.classify.train.softmax`). It validates the
chosen recipe on a stratified split or by k-fold cross-validation, fits one temperature per head on the
held-out logits, refits on every labelled row and saves the model folder (:mod:`artlens.classify.model`):
the heads and the pooling and framing settings only, the trunk being the pinned pretrained weights. The
validation figures are slightly optimistic: the L2 strength was chosen on rows that include the held-out
ones.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from artlens.classify.data import Dataset
from artlens.classify.features import embed_paths
from artlens.classify.framing import check_framing
from artlens.classify.model import ClassifierNet, save_model
from artlens.classify.pooling import NORMS, POOLINGS, multi_depth_stages
from artlens.classify.train.heldout import held_out_report, make_config, split_rows
from artlens.classify.train.selection import (
    WEIGHT_DECAYS,
    FeatureSet,
    choose,
    normalise_features,
    score_candidates,
)
from artlens.classify.train.softmax import fit_softmax
from artlens.errors import ConfigError
from artlens.models.backbones import get_backbone
from artlens.training.progress import Progress, report

__all__ = ["INNER_FOLDS", "fit_heads", "fit_softmax", "train_linear"]

INNER_FOLDS = 3  # inner cross-validation folds of the model selection (fewer when a class is smaller)


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


def _candidate_sets(x: np.ndarray, pooling: str, feature_dim: int) -> list[FeatureSet]:
    """The feature sets to choose among: with ``auto``, the multi-depth features and their last
    ``feature_dim`` columns (the last convolution average-pooled); otherwise the one pooling asked for."""
    if pooling == "auto":
        return [FeatureSet("avg", np.ascontiguousarray(x[:, -feature_dim:])), FeatureSet("multi", x)]
    return [FeatureSet(pooling, x)]


def _select(sets: list[FeatureSet], data: Dataset, norms: tuple[str, ...], decays: tuple[float, ...],
            seed: int, max_iter: int) -> tuple[str, str, list[float], list]:
    """The feature set, normalisation and each head's L2 strength, by inner CV on every labelled row
    (nothing to do when there is one candidate)."""
    heads = list(data.heads.items())
    for head, _ in heads:
        if np.unique(data.labels[head][data.labels[head] >= 0]).size < 2:
            raise ConfigError(f"head {head!r}: fewer than two classes among the readable labelled training "
                              "images")
    if len(sets) * len(norms) * len(decays) == 1:
        return sets[0].name, norms[0], [decays[0]] * len(heads), []
    scores = [score_candidates(sets, data.labels[h], len(c), norms=norms, weight_decays=decays, seed=seed,
                               folds=INNER_FOLDS, max_iter=min(max_iter, 100))
              for h, c in heads]
    name, norm, wds = choose(scores)
    return name, norm, wds, scores


def _fit_all_heads(x: np.ndarray, data: Dataset, rows: np.ndarray, wds: list[float],
                   max_iter: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every head fitted on the labelled rows among ``rows`` of the normalised features ``x``."""
    sub = data.subset(rows)
    params = {}
    for (head, classes), wd in zip(sub.heads.items(), wds, strict=True):
        y = sub.labels[head]
        keep = np.flatnonzero(y >= 0)
        if np.unique(y[keep]).size < 2:
            raise ConfigError(f"head {head!r}: fewer than two classes among the readable labelled training "
                              "images of a validation fold")
        params[head] = fit_softmax(x[rows][keep], y[keep], len(classes), weight_decay=wd, max_iter=max_iter)
    return params


def train_linear(dataset: Dataset, out_dir: str | Path, *, backbone: str = "efficientnet_lite0",
                 val_split: float = 0.2, kfold: int = 0, seed: int = 0, epochs: int = 200,
                 weight_decay: float | None = None, pooling: str = "multi", norm: str = "sqrt",
                 flip: bool = False, framing: str = "auto", batch_size: int = 32, device: str | None = None,
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
        L2 penalty of :func:`fit_softmax`; None (default): chosen per head among
        :data:`~artlens.classify.train.selection.WEIGHT_DECAYS` by inner cross-validation.
    pooling
        ``multi`` (default), ``avg`` or ``gem`` (:mod:`artlens.classify.pooling`), or ``auto``: ``avg`` or
        ``multi``, chosen by inner cross-validation from one multi-depth pass.
    norm
        Feature normalisation, ``sqrt`` (default), ``l2``, ``none``, or ``auto`` (chosen by inner CV).
    flip
        Average the features of each image and its mirror image, in training and at inference (two passes).
    framing
        ``auto`` (default), ``pad`` or ``crop``: how images are framed before the backbone's centre crop
        (:mod:`artlens.classify.framing`; ``auto`` shows cut-outs on a plain background whole).
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
        ``heads`` ({head: {classes, n_labelled, temperature, metrics, weight_decay}}), ``features``
        ({pooling, stages, norm, flip, framing}), ``selection`` (inner-CV scores of the final fit),
        ``seconds`` ({embed, fit}).

    Raises
    ------
    ConfigError
        Bad settings, or too few readable labelled images for a head.
    """
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {epochs}")
    if weight_decay is not None and weight_decay < 0:
        raise ConfigError(f"weight_decay must be non-negative, got {weight_decay}")
    if pooling not in ("auto", *POOLINGS):
        raise ConfigError(f"pooling must be auto or one of {', '.join(POOLINGS)}, got {pooling!r}")
    if norm not in ("auto", *NORMS):
        raise ConfigError(f"norm must be auto or one of {', '.join(NORMS)}, got {norm!r}")
    if not dataset.heads:
        raise ConfigError("the dataset has no label heads")
    check_framing(framing)
    net = get_backbone(backbone, device=device)
    t0 = time.perf_counter()
    x, kept, skipped = embed_paths(dataset.paths, net, sha256=dataset.sha256 or None, batch_size=batch_size,
                                   cache=cache, progress=progress,
                                   pooling="multi" if pooling == "auto" else pooling, flip=flip,
                                   framing=framing)
    t_embed = time.perf_counter() - t0
    if kept.size == 0:
        raise ConfigError(f"none of the {len(dataset.paths)} images could be read")
    data = dataset.subset(kept)
    sets = _candidate_sets(x, pooling, net.spec.feature_dim)
    norms = NORMS if norm == "auto" else (norm,)
    decays = WEIGHT_DECAYS if weight_decay is None else (float(weight_decay),)
    folds = split_rows(data, val_split=val_split, kfold=kfold, seed=seed)
    t0 = time.perf_counter()
    name, chosen_norm, wds, scores = _select(sets, data, norms, decays, seed, epochs)
    report(progress, "fit", 1, len(folds) + 2)
    x = normalise_features(next(fs.x for fs in sets if fs.name == name), chosen_norm)
    held_out = {h: np.zeros((len(data), len(c)), np.float64) for h, c in data.heads.items()}
    for n_done, (train, val) in enumerate(folds):
        for head, (w, b) in _fit_all_heads(x, data, train, wds, epochs).items():
            held_out[head][val] = x[val].astype(np.float64) @ w.T + b
        report(progress, "fit", n_done + 2, len(folds) + 2)
    final = _fit_all_heads(x, data, np.arange(len(data)), wds, epochs)
    report(progress, "fit", len(folds) + 2, len(folds) + 2)
    t_fit = time.perf_counter() - t0
    heads: dict[str, dict] = {}
    for (head, classes), wd in zip(data.heads.items(), wds, strict=True):
        temperature, metrics = held_out_report(data.labels[head], held_out[head], classes, folds)
        heads[head] = {"classes": list(classes), "n_labelled": int((data.labels[head] >= 0).sum()),
                       "temperature": temperature, "metrics": metrics, "weight_decay": wd}
    stages = multi_depth_stages(net.trunk) if name == "multi" else ()
    model = ClassifierNet(net.trunk, x.shape[1], [len(c) for c in data.heads.values()], pooling=name,
                          stages=stages, norm=chosen_norm, flip=flip, framing=framing)
    dim = x.shape[1]
    with torch.no_grad():
        for layer, (w, b) in zip(model.heads, final.values(), strict=True):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    features = model.feature_settings()
    settings = {"mode": "linear", "val_split": val_split if kfold < 2 else None, "kfold": kfold, "seed": seed,
                "epochs": epochs, "weight_decay": weight_decay, "pooling": pooling, "norm": norm,
                "flip": flip, "framing": framing,
                "chosen_weight_decay": {h: r["weight_decay"] for h, r in heads.items()},
                "class_weighting": "balanced",
                "validation": f"{kfold}-fold" if kfold >= 2 else "stratified split"}
    config = make_config("linear", net, dataset, heads, settings, int(kept.size), skipped)
    config.update(feature_dim=int(dim), features=features)
    save_model(out_dir, config, model, with_trunk=False)
    return {"out_dir": str(out_dir), "mode": "linear", "backbone": net.spec.name,
            "n_images": len(dataset.paths), "n_used": int(kept.size), "skipped": skipped, "heads": heads,
            "features": features, "selection": scores, "seconds": {"embed": t_embed, "fit": t_fit}}
