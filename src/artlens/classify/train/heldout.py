"""What linear and fine-tuned classifier training share: the split, held-out metrics, calibration, the config.

Both modes validate the same way. Rows are split once for every head (a multi-task model shares one
backbone, so an image is either held out or not), stratified on the first head's label, seeded, by the one
split driver of :func:`artlens.training.make_splits`. With ``kfold >= 2`` each row is held out exactly once
and the metrics come from the pooled out-of-fold logits (plus per-fold means); otherwise one stratified
``val_split`` is held out. A temperature per head is fitted on the held-out logits (Guo et al., "On
calibration of modern neural networks", ICML 2017).
"""

from __future__ import annotations

import math

import numpy as np

from artlens.classify.data import Dataset
from artlens.classify.model import SCHEMA, preprocessing_of
from artlens.classify.unknown import domain_threshold
from artlens.errors import ConfigError
from artlens.evaluation import classification_metrics, softmax
from artlens.models.backbones import Backbone
from artlens.training.splits import Fold, check_split, make_splits

__all__ = ["check_split_settings", "fit_temperature", "held_out_report", "make_config", "split_rows"]


def check_split_settings(val_split: float, kfold: int) -> None:
    """Refuse a ``kfold`` of 1 or below 0, or a ``val_split`` outside ``[0, 1)``; a classifier needs held-out
    rows (to choose the epoch and fit the temperature), so ``val_split`` 0 needs ``kfold >= 2``
    (:func:`artlens.training.check_split`)."""
    check_split(val_split, kfold, required=True)


def split_rows(data: Dataset, *, val_split: float = 0.2, kfold: int = 0, seed: int = 0) -> list[Fold]:
    """Train/validation row indices: one stratified split, or ``kfold`` stratified folds.

    Stratified on the first head (a missing label counts as its own stratum).

    Raises
    ------
    ConfigError
        Bad settings, more folds than rows, or nothing can be held out.
    """
    key = next(iter(data.labels.values()))
    return make_splits(key, val_split=val_split, kfold=kfold, seed=seed, unit="readable images")


def _nll(logits: np.ndarray, y: np.ndarray) -> float:
    p = softmax(logits)[np.arange(y.size), y]
    return float(-np.log(np.clip(p, 1e-300, None)).mean())


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


def held_out_report(y: np.ndarray, logits: np.ndarray, classes: list[str],
                    folds: list[tuple[np.ndarray, np.ndarray]]) -> tuple[float, dict]:
    """Temperature and validation metrics of one head from its held-out logits.

    Parameters
    ----------
    y
        (N,) labels of every row, ``-1`` where missing.
    logits
        (N, K) held-out logits; only the rows of the folds' validation parts are read.
    classes
        Class names.
    folds
        As from :func:`split_rows`.

    Returns
    -------
    temperature, metrics
        Metrics of :func:`artlens.evaluation.classification_metrics` on the calibrated held-out
        probabilities, plus ``nll_uncalibrated``/``nll_calibrated`` and ``domain_min`` (the threshold of
        the "unknown" answer, :func:`artlens.classify.unknown.domain_threshold`); with k folds, also
        ``folds``, ``accuracy_std`` and ``per_fold``.
    """
    val = np.unique(np.concatenate([v for _, v in folds]))
    rows = val[y[val] >= 0]
    if rows.size == 0:
        raise ConfigError("a head has no labelled image among the held-out rows")
    yh, zh = y[rows], np.asarray(logits, np.float64)[rows]
    temperature = fit_temperature(zh, yh)
    metrics = classification_metrics(yh, zh.argmax(1), classes, proba=softmax(zh / temperature))
    metrics.update(nll_uncalibrated=_nll(zh, yh), nll_calibrated=_nll(zh / temperature, yh),
                   domain_min=domain_threshold(zh))
    if len(folds) > 1:
        per_fold = []
        for _, v in folds:
            r = v[y[v] >= 0]
            if r.size:
                m = classification_metrics(y[r], logits[r].argmax(1), classes)
                per_fold.append({"n": m["n"], "accuracy": m["accuracy"], "macro_f1": m["macro"]["f1"]})
        metrics.update(folds=len(folds), per_fold=per_fold,
                       accuracy_std=float(np.std([f["accuracy"] for f in per_fold])),
                       macro_f1_fold_mean=float(np.mean([f["macro_f1"] for f in per_fold])))
    return temperature, metrics


def make_config(mode: str, backbone: Backbone, data: Dataset, heads: dict[str, dict], settings: dict,
                n_used: int, skipped: list[dict]) -> dict:
    """The ``config.json`` of a trained model (see :mod:`artlens.classify.model`).

    ``heads`` maps each head name to ``{"classes", "temperature", "metrics", "n_labelled"}``.
    """
    return {
        "schema": SCHEMA,
        "mode": mode,
        "backbone": backbone.spec.name,
        "feature_dim": int(backbone.spec.feature_dim),
        "preprocessing": preprocessing_of(backbone),
        "heads": [{"name": h, "classes": list(r["classes"]), "temperature": float(r["temperature"]),
                   **({"domain_min": float(r["metrics"]["domain_min"])}
                      if "domain_min" in r["metrics"] else {})}
                  for h, r in heads.items()],
        "settings": settings,
        "metrics": {h: r["metrics"] for h, r in heads.items()},
        "data": {"source": str(data.source) if data.source else None, "n_images": len(data.paths),
                 "n_used": int(n_used), "n_labelled": {h: int(r["n_labelled"]) for h, r in heads.items()},
                 "skipped": skipped},
    }
