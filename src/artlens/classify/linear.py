"""Linear classifiers on frozen backbone features ("linear probes"), calibrated by temperature scaling.

:func:`train_linear` embeds every image once with a frozen pretrained backbone, then fits, per head, a
multinomial logistic regression (a softmax layer) with class-weighted cross-entropy and an L2 penalty. It
measures each head on a stratified validation split (or by k-fold cross-validation), fits one temperature per
head on the held-out logits, refits on every labelled row and saves a model folder:

* ``config.json``: schema ``artlens.classifier/1``, the backbone name and feature size, the heads (classes,
  temperature), the training settings and the validation metrics;
* ``model.safetensors``: ``<head>.weight`` (K, D) and ``<head>.bias`` (K,) per head, acting on the raw
  pooled features (the feature standardisation used while fitting is folded in).

:func:`load_classifier` reads it back; :meth:`Classifier.predict` returns calibrated probabilities
``softmax(logits / T)``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from artlens.backbones import Backbone, get_backbone
from artlens.classify.data import Dataset
from artlens.errors import ArtlensError, ConfigError, ImageLoadError
from artlens.evaluation import classification_metrics, stratified_kfold, stratified_split
from artlens.imageio import load_image

__all__ = [
    "SCHEMA",
    "Classifier",
    "embed_paths",
    "fit_softmax",
    "fit_temperature",
    "load_classifier",
    "train_linear",
]

SCHEMA = "artlens.classifier/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
_EMBED_CHUNK = 64  # images decoded and held in memory at once while embedding

Progress = Callable[[str, int, int], None]


# ------------------------------------------------------------------------------------------------------------
# Fitting
# ------------------------------------------------------------------------------------------------------------

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
    into the returned parameters. Each class's loss weight is ``N / (K * n_k)``, so every class counts as much
    as any other whatever its size [1]_. The objective is convex and starts from zero, and L-BFGS is
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
    counts = torch.bincount(yt, minlength=n_classes).double()
    class_w = (yt.numel() / (n_classes * counts.clamp(min=1.0))).float()
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


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature ``T`` minimising the negative log-likelihood of ``softmax(logits / T)``.

    Parameters
    ----------
    logits
        (N, K) held-out logits.
    y
        (N,) true class indices.

    Returns
    -------
    float
        ``T`` in ``[0.05, 20]``; 1.0 when there is nothing to fit on.

    Notes
    -----
    Temperature scaling [1]_ divides every logit by one scalar, which leaves the predicted class unchanged
    and only calibrates the confidence. ``log T`` is found by a bounded scalar search.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration of modern neural networks",
       ICML 2017.
    """
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, np.float64)
    t = np.asarray(y, np.int64)
    if t.size == 0:
        return 1.0
    result = minimize_scalar(lambda log_t: _nll(z / math.exp(log_t), t),
                             bounds=(math.log(0.05), math.log(20.0)), method="bounded",
                             options={"xatol": 1e-4})
    return float(math.exp(result.x))


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax(np.asarray(z, np.float64)))


def _nll(z: np.ndarray, y: np.ndarray) -> float:
    return float(-_log_softmax(z)[np.arange(y.size), y].mean())


# ------------------------------------------------------------------------------------------------------------
# Embedding
# ------------------------------------------------------------------------------------------------------------

def embed_paths(paths: Sequence[Path], backbone: Backbone, *, batch_size: int = 32,
                progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Pooled backbone features of the readable images among ``paths``.

    Returns
    -------
    features, kept, skipped
        (M, D) float32 features; (M,) indices into ``paths`` of the images embedded; and
        ``[{"path", "reason"}]`` for each image that could not be read.
    """
    feats: list[np.ndarray] = []
    kept: list[int] = []
    skipped: list[dict] = []
    total = len(paths)
    for start in range(0, total, _EMBED_CHUNK):
        images, idx = [], []
        for i in range(start, min(start + _EMBED_CHUNK, total)):
            try:
                images.append(load_image(paths[i]).rgb)
                idx.append(i)
            except ImageLoadError as exc:
                skipped.append({"path": str(paths[i]), "reason": exc.reason})
        if images:
            feats.append(backbone.features(images, batch_size=batch_size))
            kept.extend(idx)
        if progress is not None:
            progress("embed", min(start + _EMBED_CHUNK, total), total)
    dim = backbone.spec.feature_dim
    x = np.concatenate(feats) if feats else np.zeros((0, dim), np.float32)
    return x, np.asarray(kept, np.int64), skipped


# ------------------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------------------

def train_linear(dataset: Dataset, out_dir: str | Path, *, backbone: str = "mobilenet_v2",
                 val_split: float = 0.2, kfold: int = 0, seed: int = 0, epochs: int = 200,
                 weight_decay: float = 1e-3, batch_size: int = 32, device: str | None = None,
                 progress: Progress | None = None) -> dict:
    """Train, validate, calibrate and save a linear classifier per head on frozen backbone features.

    Parameters
    ----------
    dataset
        From :func:`artlens.classify.data.load_dataset`.
    out_dir
        Model folder to write (created).
    backbone
        Feature extractor name (see :func:`artlens.backbones.list_backbones`).
    val_split
        Fraction of each class held out for validation and temperature fitting (when ``kfold`` is 0).
    kfold
        When at least 2, k-fold cross-validation instead: metrics are fold means and the temperature is
        fitted on the pooled out-of-fold logits.
    seed
        Seeds the splits; the fits themselves are deterministic.
    epochs
        L-BFGS iterations per fit.
    weight_decay
        L2 penalty of :func:`fit_softmax`.
    batch_size
        Images per backbone forward pass.
    device
        Passed to :func:`artlens.backbones.get_backbone`.
    progress
        Optional ``progress(stage, done, total)`` callback (stages ``"embed"`` and ``"fit"``).

    Returns
    -------
    dict
        ``out_dir``, ``backbone``, ``n_images``, ``n_embedded``, ``skipped`` ([{path, reason}]),
        ``heads`` ({head: {classes, n_labelled, temperature, metrics}}), ``seconds`` ({embed, fit}).

    Raises
    ------
    ConfigError
        Bad settings, or too few readable labelled images for a head.
    """
    if kfold == 1 or kfold < 0:
        raise ConfigError(f"kfold must be 0 (one validation split) or at least 2, got {kfold}")
    if kfold == 0 and not 0.0 < val_split < 1.0:
        raise ConfigError(f"val_split must lie in (0, 1), got {val_split}")
    if epochs < 1:
        raise ConfigError(f"epochs must be at least 1, got {epochs}")
    if weight_decay < 0:
        raise ConfigError(f"weight_decay must be non-negative, got {weight_decay}")
    if not dataset.heads:
        raise ConfigError("the dataset has no label heads")
    net = get_backbone(backbone, device=device)
    t0 = time.perf_counter()
    x, kept, skipped = embed_paths(dataset.paths, net, batch_size=batch_size, progress=progress)
    t_embed = time.perf_counter() - t0
    if kept.size == 0:
        raise ConfigError(f"none of the {len(dataset.paths)} images could be read")
    t0 = time.perf_counter()
    head_results: dict[str, dict] = {}
    tensors: dict[str, torch.Tensor] = {}
    for n_done, (head, classes) in enumerate(dataset.heads.items()):
        y_all = dataset.labels[head][kept]
        rows = np.flatnonzero(y_all >= 0)
        xh, yh = x[rows], y_all[rows]
        present = np.unique(yh)
        if present.size < 2:
            raise ConfigError(f"head {head!r}: fewer than two classes among the {yh.size} readable labelled "
                              "images")
        k = len(classes)
        fit = dict(n_classes=k, weight_decay=weight_decay, max_iter=epochs)
        if kfold >= 2:
            smallest = int(np.bincount(yh, minlength=k)[present].min())
            if kfold > yh.size:
                raise ConfigError(f"head {head!r}: kfold={kfold} exceeds the {yh.size} labelled images")
            folds = stratified_kfold(yh, kfold, seed=seed)
            oof = np.zeros((yh.size, k), np.float64)
            for tr, te in folds:
                wt, bt = fit_softmax(xh[tr], yh[tr], **fit)
                oof[te] = xh[te] @ wt.T + bt
            temperature = fit_temperature(oof, yh)
            fold_metrics = [classification_metrics(yh[te], oof[te].argmax(1), classes,
                                                    proba=_softmax(oof[te] / temperature))
                            for _, te in folds]
            metrics = _fold_means(fold_metrics)
            metrics.update(pooled=classification_metrics(yh, oof.argmax(1), classes,
                                                         proba=_softmax(oof / temperature)),
                           nll_uncalibrated=_nll(oof, yh), nll_calibrated=_nll(oof / temperature, yh),
                           smallest_class=smallest)
        else:
            tr, te = stratified_split(yh, val_split, seed=seed)
            if te.size == 0:
                raise ConfigError(f"head {head!r}: no class has two images, so nothing can be held out")
            wt, bt = fit_softmax(xh[tr], yh[tr], **fit)
            val_logits = xh[te].astype(np.float64) @ wt.T + bt
            temperature = fit_temperature(val_logits, yh[te])
            metrics = classification_metrics(yh[te], val_logits.argmax(1), classes,
                                             proba=_softmax(val_logits / temperature))
            metrics.update(n_train=int(tr.size), nll_uncalibrated=_nll(val_logits, yh[te]),
                           nll_calibrated=_nll(val_logits / temperature, yh[te]))
        weight, bias = fit_softmax(xh, yh, **fit)
        tensors[f"{head}.weight"] = torch.from_numpy(weight)
        tensors[f"{head}.bias"] = torch.from_numpy(bias)
        head_results[head] = {"classes": list(classes), "n_labelled": int(yh.size),
                              "temperature": temperature, "metrics": metrics}
        if progress is not None:
            progress("fit", n_done + 1, len(dataset.heads))
    t_fit = time.perf_counter() - t0
    settings = {"val_split": val_split if kfold < 2 else None, "kfold": kfold, "seed": seed, "epochs": epochs,
                "weight_decay": weight_decay, "class_weighting": "balanced",
                "validation": f"{kfold}-fold" if kfold >= 2 else "stratified split"}
    config = {
        "schema": SCHEMA,
        "backbone": net.spec.name,
        "feature_dim": int(net.spec.feature_dim),
        "heads": [{"name": h, "classes": r["classes"], "temperature": r["temperature"]}
                  for h, r in head_results.items()],
        "settings": settings,
        "metrics": {h: r["metrics"] for h, r in head_results.items()},
        "data": {"source": str(dataset.source) if dataset.source else None, "n_images": len(dataset.paths),
                 "n_embedded": int(kept.size), "skipped": skipped},
    }
    out = Path(out_dir)
    _save(out, config, tensors)
    return {"out_dir": str(out), "backbone": net.spec.name, "n_images": len(dataset.paths),
            "n_embedded": int(kept.size), "skipped": skipped, "heads": head_results,
            "seconds": {"embed": t_embed, "fit": t_fit}}


def _fold_means(folds: list[dict]) -> dict:
    """Mean (and spread) of the fold metrics that are numbers."""
    def stat(values: list) -> dict | None:
        vals = [v for v in values if v is not None]
        if not vals:
            return None
        return {"mean": float(np.mean(vals)), "std": float(np.std(vals))}

    return {"folds": len(folds), "n": int(sum(f["n"] for f in folds)),
            "accuracy": stat([f["accuracy"] for f in folds])["mean"],
            "accuracy_std": stat([f["accuracy"] for f in folds])["std"],
            "macro_f1": stat([f["macro"]["f1"] for f in folds])["mean"],
            "roc_auc": (stat([f["roc_auc"] for f in folds]) or {}).get("mean"),
            "per_fold": [{"n": f["n"], "accuracy": f["accuracy"], "macro_f1": f["macro"]["f1"],
                          "roc_auc": f["roc_auc"]} for f in folds]}


def _save(out: Path, config: dict, tensors: dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(out / WEIGHTS_FILE),
              metadata={"schema": SCHEMA})
    (out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------------------
# Loading and prediction
# ------------------------------------------------------------------------------------------------------------

class Classifier:
    """Calibrated linear heads over a frozen backbone.

    Parameters
    ----------
    config
        The parsed ``config.json``.
    params
        Head name -> (weight (K, D), bias (K,)) as float32 arrays.
    backbone
        The feature extractor named in ``config``.
    """

    def __init__(self, config: dict, params: dict[str, tuple[np.ndarray, np.ndarray]],
                 backbone: Backbone) -> None:
        self.config = config
        self.backbone = backbone
        self.heads: dict[str, list[str]] = {h["name"]: list(h["classes"]) for h in config["heads"]}
        self.temperatures: dict[str, float] = {h["name"]: float(h["temperature"]) for h in config["heads"]}
        self.params = params

    def __repr__(self) -> str:
        return f"Classifier(backbone={self.config['backbone']!r}, heads={list(self.heads)})"

    def probabilities(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Head name -> (N, K) calibrated probabilities ``softmax(logits / T)`` for (N, D) features."""
        f = np.asarray(features, np.float64)
        return {h: _softmax((f @ w.T + b) / self.temperatures[h]) for h, (w, b) in self.params.items()}

    def predict_features(self, features: np.ndarray, top_k: int = 3) -> list[dict]:
        """Like :meth:`predict`, on pooled features (N, D) already computed by the backbone."""
        if top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {top_k}")
        probs = self.probabilities(features)
        first = next(iter(self.heads))
        results = []
        for i in range(np.asarray(features).shape[0]):
            per_head = {}
            for head, classes in self.heads.items():
                p = probs[head][i]
                order = np.argsort(-p, kind="stable")[:top_k]
                per_head[head] = {"label": classes[order[0]], "score": float(p[order[0]]),
                                  "topk": [[classes[j], float(p[j])] for j in order]}
            results.append({**per_head[first], "heads": per_head})
        return results

    def predict(self, rgbs: Sequence[np.ndarray], top_k: int = 3, *, batch_size: int = 32) -> list[dict]:
        """Classify RGB images.

        Parameters
        ----------
        rgbs
            RGB uint8 images (H, W, 3).
        top_k
            Classes listed per head, most probable first.

        Returns
        -------
        list of dict
            Per image: ``label``, ``score`` and ``topk`` ([[label, probability], ...]) of the first head,
            and ``heads`` ({head: {label, score, topk}}) for every head.
        """
        if len(rgbs) == 0:
            return []
        return self.predict_features(self.backbone.features(list(rgbs), batch_size=batch_size), top_k)


def load_classifier(directory: str | Path, *, backbone: Backbone | None = None,
                    device: str | None = None) -> Classifier:
    """Load a model folder written by :func:`train_linear`.

    Parameters
    ----------
    directory
        Folder with ``config.json`` and ``model.safetensors``.
    backbone
        A feature extractor to use instead of loading the one named in the config (its name and feature
        size must match).
    device
        Passed to :func:`artlens.backbones.get_backbone`.

    Raises
    ------
    ConfigError
        A file is missing or unreadable, the schema is not ``artlens.classifier/1``, or the backbone, the
        feature size or the tensors do not match the config.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(directory)
    cfg_path, w_path = root / CONFIG_FILE, root / WEIGHTS_FILE
    for p in (cfg_path, w_path):
        if not p.is_file():
            raise ConfigError(f"{root}: not a classifier folder ({p.name} missing)")
    try:
        config = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{cfg_path}: cannot be read as JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("schema") != SCHEMA:
        found = config.get("schema") if isinstance(config, dict) else type(config).__name__
        raise ConfigError(f"{cfg_path}: schema {found!r} is not {SCHEMA!r}")
    name, dim, heads = config.get("backbone"), config.get("feature_dim"), config.get("heads")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{cfg_path}: 'backbone' must be a backbone name")
    if not isinstance(dim, int) or dim < 1:
        raise ConfigError(f"{cfg_path}: 'feature_dim' must be a positive integer")
    if not isinstance(heads, list) or not heads:
        raise ConfigError(f"{cfg_path}: 'heads' must be a non-empty list")
    for h in heads:
        ok = (isinstance(h, dict) and isinstance(h.get("name"), str) and isinstance(h.get("classes"), list)
              and len(h["classes"]) >= 2 and isinstance(h.get("temperature"), (int, float))
              and h["temperature"] > 0)
        if not ok:
            raise ConfigError(f"{cfg_path}: each head needs a name, two or more classes and a positive "
                              f"temperature; got {h!r:.120}")
    if backbone is None:
        try:
            backbone = get_backbone(name, device=device)
        except ArtlensError as exc:
            if type(exc) is not ArtlensError:  # ConfigError, WeightsError and the like keep their own type
                raise
            raise ConfigError(f"{cfg_path}: backbone {name!r} cannot be built: {exc}") from None
    elif backbone.spec.name != name:
        raise ConfigError(f"{cfg_path}: trained on backbone {name!r}, given {backbone.spec.name!r}")
    if backbone.spec.feature_dim != dim:
        raise ConfigError(f"{cfg_path}: feature_dim {dim} does not match backbone {name!r} "
                          f"({backbone.spec.feature_dim})")
    try:
        tensors = load_file(str(w_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ConfigError(f"{w_path}: cannot be read as safetensors: {exc}") from None
    params = {}
    for h in heads:
        k = len(h["classes"])
        w, b = tensors.get(f"{h['name']}.weight"), tensors.get(f"{h['name']}.bias")
        if w is None or b is None or tuple(w.shape) != (k, dim) or tuple(b.shape) != (k,):
            raise ConfigError(f"{w_path}: head {h['name']!r} needs tensors {h['name']}.weight ({k}, {dim}) "
                              f"and {h['name']}.bias ({k},)")
        params[h["name"]] = (w.float().numpy(), b.float().numpy())
    return Classifier(config, params, backbone)
