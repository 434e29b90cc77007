"""The one split driver: validated settings, stratification, groups kept whole."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.errors import ConfigError
from artlens.evaluation import stratified_kfold, stratified_split
from artlens.training import check_split, group_strata, make_splits


@pytest.mark.parametrize(("val_split", "kfold", "match"), [
    (0.2, 1, "kfold"), (0.2, -2, "kfold"), (1.0, 0, "val_split"), (-0.1, 0, "val_split"),
    (float("nan"), 0, "val_split"), (1.5, 3, "val_split"), (0.0, 0, "held-out"),
])
def test_check_split_refuses_bad_settings(val_split, kfold, match):
    with pytest.raises(ConfigError, match=match):
        check_split(val_split, kfold)


def test_no_validation_only_where_the_trainer_does_without():
    check_split(0.0, 0, required=False)
    assert make_splits([0, 1, 0, 1], val_split=0.0, required=False) == []
    assert make_splits([0, 1, 2], val_split=0.3, required=False) == []  # no class has two rows
    with pytest.raises(ConfigError, match="no class has two readable images"):
        make_splits([0, 1, 2], val_split=0.3, unit="readable images")


def test_without_groups_the_splits_are_the_stratified_ones_over_rows():
    y = np.array([0] * 7 + [1] * 5 + [-1] * 3)  # -1: a missing label, a stratum of its own
    (tr, va), = make_splits(y, val_split=0.25, seed=3)
    ref_tr, ref_va = stratified_split(y, 0.25, seed=3)
    assert np.array_equal(tr, ref_tr) and np.array_equal(va, ref_va)
    folds = make_splits(y, kfold=3, seed=1)
    for (a, b), (c, d) in zip(folds, stratified_kfold(y, 3, seed=1), strict=True):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    # singleton groups change nothing
    grouped = make_splits(y, kfold=3, seed=1, groups=np.arange(y.size)[::-1])
    assert all(np.array_equal(a, c) and np.array_equal(b, d)
               for (a, b), (c, d) in zip(folds, grouped, strict=True))


def test_groups_stay_on_one_side_and_every_row_is_held_out_once():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(12), 3)  # a picture and two copies
    strata = np.where(np.arange(36) % 3 == 0, 1, 0)  # the original good, its copies bad
    folds = make_splits(strata, kfold=4, seed=0, groups=rng.permutation(groups))
    seen = np.concatenate([va for _, va in folds])
    assert np.array_equal(np.sort(seen), np.arange(36))
    g = rng.permutation(groups)
    both = make_splits(strata, kfold=4, seed=0, groups=g) + make_splits(strata, val_split=0.3, groups=g)
    for tr, va in both:
        assert not set(g[tr]) & set(g[va])
    with pytest.raises(ConfigError, match="kfold=13 exceeds the 12 distinct pictures"):
        make_splits(strata, kfold=13, groups=groups, unit="distinct pictures")


def test_group_strata_takes_the_commonest_and_the_lowest_of_ties():
    strata = ["bad", "good", "good", "bad", "good", "bad"]
    groups = ["x", "x", "x", "y", "y", "z"]
    # sorted strata: bad=0, good=1; groups by first appearance: x=0, y=1, z=2
    assert group_strata(strata, groups).tolist() == [1, 0, 0]
