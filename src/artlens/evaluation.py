"""Evaluation helpers shared by every trained model: classification and regression metrics, ROC-AUC,
stratified splits and a confusion-matrix picture.

Everything here is plain numpy/scipy (no scikit-learn) and works on labels given as class indices.

References
----------
.. [1] J. A. Hanley and B. J. McNeil, "The meaning and use of the area under a receiver operating
   characteristic (ROC) curve", Radiology 143(1), 1982 (AUC as the Mann-Whitney U statistic).
.. [2] D. J. Hand and R. J. Till, "A Simple Generalisation of the Area Under the ROC Curve for Multiple Class
   Classification Problems", Machine Learning 45, 2001.
.. [3] R. Kohavi, "A study of cross-validation and bootstrap for accuracy estimation and model selection",
   IJCAI 1995 (stratified k-fold cross-validation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import stats

from artlens.errors import ArtlensError

__all__ = [
    "classification_metrics",
    "confusion_matrix",
    "regression_metrics",
    "roc_auc",
    "save_confusion_matrix_png",
    "softmax",
    "stratified_kfold",
    "stratified_split",
]


# ------------------------------------------------------------------------------------------------------------
# Classification
# ------------------------------------------------------------------------------------------------------------

def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, in float64, shifted by the maximum so it cannot overflow."""
    z = np.asarray(logits, np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def confusion_matrix(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray,
                     n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes) int64: rows are true classes, columns predicted classes.

    Parameters
    ----------
    y_true, y_pred
        Class indices in ``[0, n_classes)``.
    n_classes
        Number of classes.

    Returns
    -------
    numpy.ndarray
    """
    t = np.asarray(y_true, np.int64).ravel()
    p = np.asarray(y_pred, np.int64).ravel()
    if t.shape != p.shape:
        raise ArtlensError(f"y_true and y_pred differ in length: {t.size} and {p.size}")
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= n_classes):
        raise ArtlensError(f"class indices must lie in [0, {n_classes})")
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def roc_auc(y_true: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve of a binary problem, by the Mann-Whitney U statistic.

    Parameters
    ----------
    y_true
        1 (or True) for positives, 0 for negatives.
    scores
        Higher means more likely positive.

    Returns
    -------
    float
        The probability that a random positive scores above a random negative, ties counting one half;
        NaN when either class is absent.

    Notes
    -----
    With ``R+`` the sum of the positives' ranks among all scores (tied scores share their average rank),
    ``AUC = (R+ - n+ (n+ + 1) / 2) / (n+ n-)`` [1]_.

    References
    ----------
    .. [1] J. A. Hanley and B. J. McNeil, Radiology 143(1), 1982.
    """
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(scores, np.float64).ravel()
    if y.shape != s.shape:
        raise ArtlensError(f"y_true and scores differ in length: {y.size} and {s.size}")
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(s, method="average")
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _safe_div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def classification_metrics(y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray,
                           classes: Sequence[str], proba: np.ndarray | None = None) -> dict:
    """Accuracy, per-class and macro precision/recall/F1, ROC-AUC and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred
        Class indices into ``classes``.
    classes
        Class names; for a binary problem the second one is the positive class of the ROC-AUC.
    proba
        Optional (N, K) class probabilities (or any scores, higher meaning more likely) for the ROC-AUC.

    Returns
    -------
    dict
        ``n``, ``accuracy``, ``per_class`` ({name: {precision, recall, f1, support}}), ``macro``
        ({precision, recall, f1}), ``roc_auc`` (binary: of ``classes[1]``; else the one-vs-rest mean over the
        classes that have both positives and negatives; ``None`` without ``proba`` or when undefined),
        ``classes`` and ``confusion_matrix`` (nested list, rows true, columns predicted).

    Notes
    -----
    Precision, recall or F1 of a class with an empty denominator count as 0. The macro averages run over all
    classes, and the multi-class ROC-AUC is the one-vs-rest average of Hand and Till's discussion [1]_.

    References
    ----------
    .. [1] D. J. Hand and R. J. Till, Machine Learning 45, 2001.
    """
    names = [str(c) for c in classes]
    k = len(names)
    if k < 2:
        raise ArtlensError(f"need at least two classes, got {names}")
    cm = confusion_matrix(y_true, y_pred, k)
    n = int(cm.sum())
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    support = cm.sum(axis=1)
    per_class = {}
    for i, name in enumerate(names):
        precision = _safe_div(tp[i], predicted[i])
        recall = _safe_div(tp[i], support[i])
        per_class[name] = {"precision": precision, "recall": recall,
                           "f1": _safe_div(2 * precision * recall, precision + recall),
                           "support": int(support[i])}
    macro = {m: float(np.mean([per_class[c][m] for c in names])) for m in ("precision", "recall", "f1")}
    auc = None
    if proba is not None:
        p = np.asarray(proba, np.float64)
        t = np.asarray(y_true, np.int64).ravel()
        if p.shape != (t.size, k):
            raise ArtlensError(f"proba must be (N, {k}) = ({t.size}, {k}), got {p.shape}")
        if k == 2:
            value = roc_auc(t == 1, p[:, 1])
        else:
            values = [roc_auc(t == i, p[:, i]) for i in range(k)]
            values = [v for v in values if not math.isnan(v)]
            value = float(np.mean(values)) if values else float("nan")
        auc = None if math.isnan(value) else value
    return {"n": n, "accuracy": _safe_div(tp.sum(), n), "per_class": per_class, "macro": macro,
            "roc_auc": auc, "classes": names, "confusion_matrix": cm.tolist()}


# ------------------------------------------------------------------------------------------------------------
# Regression
# ------------------------------------------------------------------------------------------------------------

def regression_metrics(y_true: Sequence[float] | np.ndarray, y_pred: Sequence[float] | np.ndarray) -> dict:
    """Rank and linear agreement and errors between ratings and predictions.

    Parameters
    ----------
    y_true, y_pred
        Ratings and predictions on the same scale (for RMSE and MAE).

    Returns
    -------
    dict
        ``n``, ``srcc`` (Spearman rank correlation), ``plcc`` (Pearson correlation of the raw values, no
        logistic fit), ``rmse``, ``mae``. A correlation is ``None`` when undefined (fewer than two items or
        a constant input).

    Notes
    -----
    Image-quality papers often fit a monotonic logistic to the predictions before the PLCC; this one is
    computed on the values as given, so it also rewards a correct scale.
    """
    t = np.asarray(y_true, np.float64).ravel()
    p = np.asarray(y_pred, np.float64).ravel()
    if t.shape != p.shape:
        raise ArtlensError(f"y_true and y_pred differ in length: {t.size} and {p.size}")
    if t.size == 0:
        raise ArtlensError("no items to evaluate")
    srcc = plcc = None
    if t.size >= 2 and np.ptp(t) > 0 and np.ptp(p) > 0:
        srcc = float(stats.spearmanr(t, p).statistic)
        plcc = float(stats.pearsonr(t, p).statistic)
    err = p - t
    return {"n": int(t.size), "srcc": srcc, "plcc": plcc, "rmse": float(np.sqrt(np.mean(err ** 2))),
            "mae": float(np.mean(np.abs(err)))}


# ------------------------------------------------------------------------------------------------------------
# Splits
# ------------------------------------------------------------------------------------------------------------

def _groups(labels: Sequence | np.ndarray, seed: int) -> list[np.ndarray]:
    """Indices of each distinct label, each group shuffled by ``seed``; groups in sorted label order."""
    arr = np.asarray(labels).ravel()
    rng = np.random.default_rng(seed)
    return [rng.permutation(np.flatnonzero(arr == value)) for value in np.unique(arr)]


def stratified_kfold(labels: Sequence | np.ndarray, k: int,
                     seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds whose test parts keep each label's share, as nearly as the counts allow.

    Parameters
    ----------
    labels
        One label per item (class indices, names, or binned scores).
    k
        Number of folds, 2 to the number of items.
    seed
        Shuffles the items within each label.

    Returns
    -------
    list of (train_idx, test_idx)
        Sorted int64 index arrays; the test parts are disjoint and together cover every item once.

    Notes
    -----
    The items of each label, shuffled, are dealt to the folds in turn, continuing where the previous label
    stopped, so fold sizes differ by at most one [1]_.

    References
    ----------
    .. [1] R. Kohavi, IJCAI 1995.
    """
    n = len(np.asarray(labels).ravel())
    if not 2 <= k <= n:
        raise ArtlensError(f"k-fold needs 2 <= k <= number of items ({n}), got k={k}")
    fold_of = np.empty(n, np.int64)
    start = 0
    for group in _groups(labels, seed):
        fold_of[group] = (start + np.arange(group.size)) % k
        start = (start + group.size) % k
    everything = np.arange(n)
    return [(everything[fold_of != f], everything[fold_of == f]) for f in range(k)]


def stratified_split(labels: Sequence | np.ndarray, fraction: float, seed: int = 0
                     ) -> tuple[np.ndarray, np.ndarray]:
    """One stratified train/test split with about ``fraction`` of each label held out.

    Each label with at least two items gives ``max(1, round(fraction * count))`` items (but never all of
    them) to the test part; a label seen once stays in training.

    Returns
    -------
    tuple of numpy.ndarray
        ``(train_idx, test_idx)``, sorted int64.
    """
    if not 0.0 < fraction < 1.0:
        raise ArtlensError(f"the held-out fraction must lie in (0, 1), got {fraction}")
    test: list[np.ndarray] = []
    for group in _groups(labels, seed):
        if group.size >= 2:
            test.append(group[:min(group.size - 1, max(1, round(fraction * group.size)))])
    test_idx = np.sort(np.concatenate(test)) if test else np.zeros(0, np.int64)
    n = len(np.asarray(labels).ravel())
    return np.setdiff1d(np.arange(n), test_idx), test_idx.astype(np.int64)


# ------------------------------------------------------------------------------------------------------------
# Picture
# ------------------------------------------------------------------------------------------------------------

_CELL = 72
_PAD = 12


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def save_confusion_matrix_png(matrix: Sequence[Sequence[int]] | np.ndarray, classes: Sequence[str],
                              path: str | Path, title: str | None = None) -> Path:
    """Draw a confusion matrix (rows true, columns predicted) to a PNG with Pillow.

    Each cell shows its count; its shade is the count's share of its row (the class's recall on the
    diagonal), from white (0) to dark blue (1), with white text on dark cells.

    Parameters
    ----------
    matrix
        (K, K) counts.
    classes
        K class names, in matrix order (names longer than 18 characters are shortened).
    path
        Output file; its folder is created.
    title
        Optional line above the matrix.

    Returns
    -------
    pathlib.Path
        ``path``. The picture is ``left + K * 72 + 12`` px wide and ``top + K * 72 + 12`` px high, where
        ``left`` and ``top`` hold the class names and axis titles.
    """
    from PIL import Image, ImageDraw

    cm = np.asarray(matrix, np.float64)
    k = len(classes)
    if cm.shape != (k, k):
        raise ArtlensError(f"matrix must be ({k}, {k}) for {k} classes, got {cm.shape}")
    names = [c if len(c) <= 18 else c[:17] + "…" for c in (str(c) for c in classes)]
    label_font, count_font, title_font = _font(14), _font(16), _font(16)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))

    def text_size(text: str, font) -> tuple[int, int]:
        box = probe.textbbox((0, 0), text, font=font)
        return box[2] - box[0], box[3] - box[1]

    name_w = max(text_size(n, label_font)[0] for n in names)
    line_h = text_size("Ag", label_font)[1] + 6
    title_h = line_h + 6 if title else 0
    left = _PAD + line_h + name_w + _PAD          # axis title "true" (rotated), then row names
    top = _PAD + title_h + line_h + max(text_size(n, label_font)[0] for n in names) + _PAD
    width, height = left + k * _CELL + _PAD, top + k * _CELL + _PAD
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    if title:
        draw.text((_PAD, _PAD), title, fill="black", font=title_font)
    draw.text((left, _PAD + title_h), "predicted", fill="black", font=label_font)
    # column names, rotated to read bottom-up
    for j, name in enumerate(names):
        w, h = text_size(name, label_font)
        tile = Image.new("RGB", (w + 2, h + 6), "white")
        ImageDraw.Draw(tile).text((1, -probe.textbbox((0, 0), name, font=label_font)[1] + 3), name,
                                  fill="black", font=label_font)
        tile = tile.rotate(90, expand=True)
        img.paste(tile, (left + j * _CELL + (_CELL - tile.width) // 2, top - _PAD // 2 - tile.height))
    axis = Image.new("RGB", (text_size("true", label_font)[0] + 2, line_h), "white")
    ImageDraw.Draw(axis).text((1, 0), "true", fill="black", font=label_font)
    axis = axis.rotate(90, expand=True)
    img.paste(axis, (_PAD, top + (k * _CELL - axis.height) // 2))
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    light, dark = np.array([255, 255, 255]), np.array([8, 48, 107])
    for i, name in enumerate(names):
        w, h = text_size(name, label_font)
        draw.text((left - _PAD - w, top + i * _CELL + (_CELL - h) // 2), name, fill="black", font=label_font)
        for j in range(k):
            x0, y0 = left + j * _CELL, top + i * _CELL
            colour = tuple(int(c) for c in np.rint(light + (dark - light) * share[i, j]))
            draw.rectangle([x0, y0, x0 + _CELL - 1, y0 + _CELL - 1], fill=colour, outline=(200, 200, 200))
            count = str(int(np.rint(cm[i, j])))
            box = draw.textbbox((0, 0), count, font=count_font)
            cw, ch = box[2] - box[0], box[3] - box[1]
            draw.text((x0 + (_CELL - cw) // 2 - box[0], y0 + (_CELL - ch) // 2 - box[1]), count,
                      fill="white" if share[i, j] > 0.5 else "black", font=count_font)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out, format="PNG")
    return out
