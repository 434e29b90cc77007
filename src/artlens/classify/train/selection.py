"""Choose a linear head's feature set, feature normalisation and L2 strength by inner cross-validation.

Within one training call, every candidate (feature set x normalisation x ``weight_decay``) is scored by the
macro-F1 of its pooled out-of-fold predictions over stratified (optionally grouped) folds of the training
rows only, and the best is refitted on all of them. Macro-F1 weighs a rare class as much as a common one,
which is what a small, imbalanced label set needs; among equal scores the stronger penalty wins (the simpler
model). Nested model selection as in Varma and Simon, "Bias in error estimation when using cross-validation
for model selection", BMC Bioinformatics 7:91, 2006; power and L2 normalisation of pooled CNN features as in
Perronnin, Sánchez and Mensink, "Improving the Fisher kernel for large-scale image classification",
ECCV 2010.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from artlens.classify.pooling import NORMS, normalise_pooled
from artlens.classify.train.softmax import SoftmaxProblem, fit_softmax
from artlens.errors import ConfigError
from artlens.evaluation import classification_metrics
from artlens.models.backbones import one_thread
from artlens.training.splits import make_splits

__all__ = ["WEIGHT_DECAYS", "FeatureSet", "Selection", "choose", "fit_selected", "inner_folds",
           "normalise_features", "score_candidates"]

#: the L2 strengths tried (on standardised features; scikit-learn's C = 1 is about 1 / n_train)
WEIGHT_DECAYS = (1e-3, 1e-2, 1e-1)


def normalise_features(x: np.ndarray, norm: str) -> np.ndarray:
    """(N, D) features as :func:`artlens.classify.pooling.normalise_pooled` normalises them in the model."""
    return normalise_pooled(torch.from_numpy(np.ascontiguousarray(x, np.float32)), norm).numpy()


@dataclass(frozen=True)
class FeatureSet:
    """A named (N, D) feature matrix, rows aligned with the labels."""

    name: str
    x: np.ndarray


@dataclass
class Selection:
    """The chosen candidate, its weights on the normalised features, and every candidate's inner-CV score."""

    feature_set: str
    norm: str
    weight_decay: float
    weight: np.ndarray
    bias: np.ndarray
    inner_macro_f1: float
    scores: list[dict] = field(default_factory=list)


def inner_folds(y: np.ndarray, *, groups: np.ndarray | None = None, seed: int = 0,
                most: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds of the training rows: ``most`` of them, fewer when the rarest class has fewer rows
    (never under 2)."""
    counts = np.bincount(np.asarray(y)[np.asarray(y) >= 0])
    smallest = int(counts[counts > 0].min()) if counts.size else 0
    k = max(2, min(most, smallest))
    return make_splits(y, kfold=k, seed=seed, groups=groups, val_split=0.0)


def score_candidates(sets: Sequence[FeatureSet], y: np.ndarray, n_classes: int, *,
                     norms: Sequence[str] = NORMS, weight_decays: Sequence[float] = WEIGHT_DECAYS,
                     groups: np.ndarray | None = None, seed: int = 0, folds: int = 5,
                     max_iter: int = 100) -> list[dict]:
    """Inner-CV macro-F1 of every (feature set, normalisation, ``weight_decay``) on the labelled rows.

    Rows with a negative label are left out. Returns one ``{feature_set, norm, weight_decay, macro_f1}`` per
    candidate.
    """
    if not sets:
        raise ConfigError("no feature set to choose from")
    if not weight_decays or any(w < 0 for w in weight_decays):
        raise ConfigError(f"weight decays must be a non-empty list of non-negative values, "
                          f"got {list(weight_decays)}")
    y = np.asarray(y, np.int64)
    rows = np.flatnonzero(y >= 0)
    y = y[rows]
    split = inner_folds(y, groups=None if groups is None else np.asarray(groups)[rows], seed=seed, most=folds)
    with one_thread():  # many small fits: a second thread only costs (see one_thread)
        return _score_path(sets, rows, y, split, norms, sorted(weight_decays, reverse=True), n_classes,
                           max_iter)


def _score_path(sets: Sequence[FeatureSet], rows: np.ndarray, y: np.ndarray, split: list,
                norms: Sequence[str], decays: list[float], n_classes: int, max_iter: int) -> list[dict]:
    """The pooled out-of-fold macro-F1 of every (set, norm, decay), decays strongest first."""
    classes = [str(i) for i in range(n_classes)]
    scores: list[dict] = []
    for fs in sets:
        for norm in norms:
            x = normalise_features(fs.x[rows], norm)
            preds = {wd: np.full(y.size, -1) for wd in decays}
            for train, val in split:
                problem = SoftmaxProblem(x[train], y[train], n_classes)
                params = None
                for wd in decays:  # strongest first, each fit warm-started from the last (the L2 path)
                    params = problem.fit(wd, max_iter=max_iter, init=params)
                    w, b = problem.raw(*params)
                    preds[wd][val] = (x[val] @ w.T + b).argmax(1)
            for wd in decays:
                f1 = float(classification_metrics(y, preds[wd], classes)["macro"]["f1"])
                scores.append({"feature_set": fs.name, "norm": norm, "weight_decay": float(wd),
                               "macro_f1": f1})
    return scores


def choose(scores_per_head: Sequence[Sequence[dict]]) -> tuple[str, str, list[float]]:
    """The (feature set, normalisation) with the best mean over heads of each head's best inner-CV macro-F1,
    and per head the ``weight_decay`` that reached it (ties: the set listed first, the stronger penalty)."""
    best_of: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for head_scores in scores_per_head:
        per_pair: dict[tuple[str, str], tuple[float, float]] = {}
        for r in head_scores:
            pair = (r["feature_set"], r["norm"])
            cur = per_pair.get(pair)
            if cur is None or r["macro_f1"] > cur[0] + 1e-9 or (abs(r["macro_f1"] - cur[0]) <= 1e-9
                                                                 and r["weight_decay"] > cur[1]):
                per_pair[pair] = (r["macro_f1"], r["weight_decay"])
        for pair, value in per_pair.items():
            best_of.setdefault(pair, []).append(value)
    if not best_of:
        raise ConfigError("no candidate was scored")
    pair = max(best_of, key=lambda p: (round(float(np.mean([v[0] for v in best_of[p]])), 9),
                                       -list(best_of).index(p)))
    return pair[0], pair[1], [v[1] for v in best_of[pair]]


def fit_selected(sets: Sequence[FeatureSet], y: np.ndarray, n_classes: int, *,
                 norms: Sequence[str] = NORMS, weight_decays: Sequence[float] = WEIGHT_DECAYS,
                 groups: np.ndarray | None = None, seed: int = 0, folds: int = 5,
                 max_iter: int = 200) -> Selection:
    """Pick feature set, normalisation and ``weight_decay`` by inner cross-validation
    (:func:`score_candidates`, :func:`choose`), then refit on all rows.

    Returns
    -------
    Selection
        Weights act on ``normalise_features(x, selection.norm)`` of the chosen set.
    """
    scores = score_candidates(sets, y, n_classes, norms=norms, weight_decays=weight_decays, groups=groups,
                              seed=seed, folds=folds, max_iter=max_iter)
    name, norm, (wd,) = choose([scores])
    f1 = max(r["macro_f1"] for r in scores
             if (r["feature_set"], r["norm"], r["weight_decay"]) == (name, norm, wd))
    x = normalise_features(next(fs.x for fs in sets if fs.name == name), norm)
    w, b = fit_softmax(x, y, n_classes, weight_decay=wd, max_iter=max_iter)
    return Selection(name, norm, wd, w, b, f1, scores)
