"""Shared evaluation helpers: metrics against hand-computed values, ROC-AUC with ties, splits, the picture."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PIL import Image

from artlens.errors import ArtlensError
from artlens.evaluation import (
    classification_metrics,
    confusion_matrix,
    regression_metrics,
    roc_auc,
    save_confusion_matrix_png,
    stratified_kfold,
    stratified_split,
)


def _auc_by_pairs(y, s):
    pos, neg = s[y == 1], s[y == 0]
    return np.mean([1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg)])


# -- classification ----------------------------------------------------------------------------------------

def test_classification_metrics_by_hand():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0]
    m = classification_metrics(y_true, y_pred, ["a", "b", "c"])
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert m["n"] == 6 and m["accuracy"] == pytest.approx(4 / 6)
    pc = m["per_class"]
    assert (pc["a"]["precision"], pc["a"]["recall"], pc["a"]["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (pc["b"]["precision"], pc["b"]["recall"], pc["b"]["f1"]) == pytest.approx((2 / 3, 1.0, 0.8))
    assert (pc["c"]["precision"], pc["c"]["recall"], pc["c"]["f1"]) == pytest.approx((1.0, 0.5, 2 / 3))
    assert [pc[c]["support"] for c in "abc"] == [2, 2, 2]
    assert m["macro"]["precision"] == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert m["macro"]["recall"] == pytest.approx(2 / 3)
    assert m["macro"]["f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)
    assert m["roc_auc"] is None


def test_class_never_predicted_counts_zero_and_binary_auc_uses_second_class():
    m = classification_metrics([0, 0, 1, 1], [0, 0, 0, 0], ["bad", "good"],
                               proba=[[0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.2, 0.8]])
    assert m["per_class"]["good"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert m["accuracy"] == 0.5
    assert m["roc_auc"] == pytest.approx(1.0)  # the ranking is perfect even though the threshold is not


def test_multiclass_auc_is_one_vs_rest_mean():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 40)
    proba = rng.dirichlet(np.ones(3), 40)
    proba[np.arange(40), y] += 0.3
    m = classification_metrics(y, proba.argmax(1), ["x", "y", "z"], proba=proba)
    expected = np.mean([_auc_by_pairs((y == k).astype(int), proba[:, k]) for k in range(3)])
    assert m["roc_auc"] == pytest.approx(expected)
    with pytest.raises(ArtlensError):
        classification_metrics(y, y, ["x", "y", "z"], proba=proba[:, :2])


def test_confusion_matrix_rejects_out_of_range():
    assert confusion_matrix([1, 1], [1, 0], 2).tolist() == [[0, 0], [1, 1]]
    with pytest.raises(ArtlensError):
        confusion_matrix([0, 3], [0, 1], 2)


# -- ROC-AUC -----------------------------------------------------------------------------------------------

def test_roc_auc_with_ties_by_hand():
    # positives 0.5 and 0.9 against negatives 0.1 and 0.5: 1 + 0.5 (tie) + 1 + 1 over 4 pairs
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)
    assert roc_auc([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]) == pytest.approx(0.5)
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == pytest.approx(0.0)
    assert np.isnan(roc_auc([1, 1], [0.1, 0.2]))


def test_roc_auc_matches_pair_counting_on_heavily_tied_scores():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 60)
    s = rng.integers(0, 5, 60).astype(float) + y  # few distinct values: many ties
    assert roc_auc(y, s) == pytest.approx(_auc_by_pairs(y, s))


# -- regression --------------------------------------------------------------------------------------------

def test_regression_metrics_by_hand():
    m = regression_metrics([1, 2, 3, 4], [1, 3, 2, 4])
    assert m["n"] == 4
    assert m["srcc"] == pytest.approx(0.8)  # 1 - 6 * 2 / (4 * 15)
    assert m["plcc"] == pytest.approx(0.8)
    assert m["rmse"] == pytest.approx(np.sqrt(0.5)) and m["mae"] == pytest.approx(0.5)
    flat = regression_metrics([1, 2, 3], [2, 2, 2])
    assert flat["srcc"] is None and flat["plcc"] is None and flat["mae"] == pytest.approx(2 / 3)


# -- splits ------------------------------------------------------------------------------------------------

def test_stratified_kfold_is_disjoint_complete_and_stratified():
    labels = np.array(["a"] * 10 + ["b"] * 5 + ["c"] * 7)
    folds = stratified_kfold(labels, 5, seed=3)
    assert len(folds) == 5
    tests = [te for _, te in folds]
    assert sorted(np.concatenate(tests).tolist()) == list(range(22))
    for train, test in folds:
        assert not set(train) & set(test) and len(train) + len(test) == 22
        counts = {c: int(np.sum(labels[test] == c)) for c in "abc"}
        assert counts["a"] == 2 and counts["b"] == 1 and counts["c"] in (1, 2)
    sizes = [len(t) for t in tests]
    assert max(sizes) - min(sizes) <= 1
    again = stratified_kfold(labels, 5, seed=3)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    other = stratified_kfold(labels, 5, seed=4)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    with pytest.raises(ArtlensError):
        stratified_kfold(labels, 1)
    with pytest.raises(ArtlensError):
        stratified_kfold(labels[:3], 4)


def test_stratified_split_holds_out_each_class():
    labels = np.array([0] * 10 + [1] * 5 + [2])
    train, test = stratified_split(labels, 0.2, seed=0)
    assert sorted([*train, *test]) == list(range(16)) and not set(train) & set(test)
    assert [int(np.sum(labels[test] == c)) for c in range(3)] == [2, 1, 0]


# -- picture -----------------------------------------------------------------------------------------------

def test_confusion_png_is_drawn_with_row_shading(tmp_path):
    path = save_confusion_matrix_png([[3, 1], [0, 5]], ["bad", "good"], tmp_path / "sub" / "cm.png",
                                     title="test")
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        w, h = im.size
        rgb = np.asarray(im).astype(int)
    cell, pad = 72, 12
    assert w >= 2 * cell + 2 * pad and h >= 2 * cell + 2 * pad
    # bottom row (true "good"): the diagonal cell (5 of 5) is dark, the one left of it (0 of 5) white
    dark = rgb[h - pad - 6, w - pad - 6]
    white = rgb[h - pad - 6, w - pad - cell - 6]
    light = rgb[h - pad - cell - 6, w - pad - 6]  # top right: 1 of 4
    assert dark.sum() < 300 and white.tolist() == [255, 255, 255]
    assert dark.sum() < light.sum() < white.sum()
    bigger = save_confusion_matrix_png(np.eye(4, dtype=int), ["a", "b", "c", "d"], tmp_path / "cm4.png")
    with Image.open(bigger) as im:
        assert im.size[0] >= 4 * cell + 2 * pad and im.size[0] > w
    with pytest.raises(ArtlensError):
        save_confusion_matrix_png([[1, 2]], ["a", "b"], tmp_path / "x.png")
