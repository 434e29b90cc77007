"""The one train/validation split driver: a stratified hold-out or stratified k-fold, optionally by group.

Every trainer validates through :func:`make_splits` with the same rules:

* ``kfold`` is 0 (a hold-out) or at least 2 (k folds, every row held out exactly once), and at most the
  number of groups;
* ``val_split`` is the held-out fraction of each stratum, in ``[0, 1)``; 0 means no hold-out, which only a
  trainer that can do without validation accepts (``required=False``);
* with ``groups`` (e.g. near-duplicate pictures found by perceptual hash), every row of a group lands on the
  same side, so the figures say how a model does on pictures it has not seen; each group is stratified by its
  rows' commonest stratum. Without groups, or when no two rows share one, the splits are those of
  :func:`artlens.evaluation.stratified_split` and :func:`~artlens.evaluation.stratified_kfold` over the rows.

Stratified k-fold cross-validation follows R. Kohavi, "A Study of Cross-Validation and Bootstrap for Accuracy
Estimation and Model Selection", IJCAI 1995.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from artlens.errors import ConfigError
from artlens.evaluation import stratified_kfold, stratified_split

__all__ = ["Fold", "check_split", "group_strata", "make_splits"]

#: Sorted int64 row indices of one fold's training and validation parts.
Fold = tuple[np.ndarray, np.ndarray]


def check_split(val_split: float, kfold: int, *, required: bool = True) -> None:
    """Refuse a ``kfold`` of 1 or below 0, a ``val_split`` outside ``[0, 1)``, and, when ``required``, no
    validation at all (``kfold`` 0 with ``val_split`` 0).

    Raises
    ------
    ConfigError
        One line naming the setting.
    """
    if isinstance(kfold, bool) or not isinstance(kfold, int | np.integer) or kfold == 1 or kfold < 0:
        raise ConfigError(f"kfold must be 0 (one validation split) or at least 2, got {kfold!r}")
    if not (isinstance(val_split, int | float) and math.isfinite(val_split) and 0.0 <= val_split < 1.0):
        raise ConfigError(f"val_split must lie in [0, 1), got {val_split!r}")
    if required and kfold == 0 and val_split == 0.0:
        raise ConfigError("val_split must lie in (0, 1) for this trainer (it needs held-out rows), or use "
                          "kfold >= 2")


def _codes(values: Sequence | np.ndarray, by_first_appearance: bool) -> np.ndarray:
    """Non-negative int64 codes of ``values``: in sorted order, or in order of first appearance."""
    arr = np.asarray(values).ravel()
    uniq, first, inverse = np.unique(arr, return_index=True, return_inverse=True)
    if not by_first_appearance:
        return inverse.astype(np.int64)
    rank = np.empty(uniq.size, np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq.size)
    return rank[inverse]


def group_strata(strata: Sequence | np.ndarray, groups: Sequence | np.ndarray) -> np.ndarray:
    """One stratum per group (groups numbered by first appearance): its rows' commonest, the lowest of ties.

    Returns
    -------
    numpy.ndarray
        (G,) codes of the strata in sorted order (0 for the lowest stratum value).
    """
    s, g = _codes(strata, False), _codes(groups, True)
    if s.shape != g.shape:
        raise ConfigError(f"strata and groups differ in length: {s.size} and {g.size}")
    counts = np.zeros((int(g.max()) + 1 if g.size else 0, int(s.max()) + 1 if s.size else 0), np.int64)
    np.add.at(counts, (g, s), 1)
    return counts.argmax(axis=1).astype(np.int64)


def make_splits(strata: Sequence | np.ndarray, *, val_split: float = 0.2, kfold: int = 0, seed: int = 0,
                groups: Sequence | np.ndarray | None = None, required: bool = True,
                unit: str = "images") -> list[Fold]:
    """Training and validation rows: one stratified hold-out, or ``kfold`` stratified folds.

    Parameters
    ----------
    strata
        (N,) what to stratify by: class indices (a missing label, e.g. -1, is a stratum of its own) or
        binned scores.
    val_split
        Held-out fraction of each stratum (``kfold`` 0), in ``[0, 1)``.
    kfold
        0 for a hold-out, else the number of folds (2 to the number of groups).
    seed
        Shuffles the rows (groups) within each stratum.
    groups
        (N,) group of each row (any comparable values); a group is never split.
    required
        Raise when nothing can be held out; otherwise return an empty list.
    unit
        What a group is called in messages (``"images"``, ``"distinct pictures"``...).

    Returns
    -------
    list of (train, val)
        Sorted int64 row indices; one pair for a hold-out, ``kfold`` pairs otherwise, none when ``val_split``
        is 0 or no stratum has two groups (and ``required`` is False).

    Raises
    ------
    ConfigError
        Bad settings, more folds than groups, or (``required``) nothing to hold out.
    """
    check_split(val_split, kfold, required=required)
    n = len(np.asarray(strata).ravel())
    if groups is None:
        keys, members = np.asarray(strata).ravel(), None
    else:
        members = _codes(groups, True)
        if members.size != n:
            raise ConfigError(f"strata and groups differ in length: {n} and {members.size}")
        keys = group_strata(strata, members)
    n_groups = len(keys)
    if kfold >= 2:
        if kfold > n_groups:
            raise ConfigError(f"kfold={kfold} exceeds the {n_groups} {unit}" +
                              (f" among the {n} rows (a group stays in one fold)" if members is not None
                               and n_groups < n else ""))
        parts = stratified_kfold(keys, kfold, seed=seed)
    elif val_split > 0:
        train, val = stratified_split(keys, val_split, seed=seed)
        parts = [] if val.size == 0 or train.size == 0 else [(train, val)]
    else:
        parts = []
    if not parts:
        if required:
            raise ConfigError(f"no class has two {unit}, so nothing can be held out for validation")
        return []
    if members is None:
        return [(tr.astype(np.int64), va.astype(np.int64)) for tr, va in parts]
    return [(np.flatnonzero(np.isin(members, tr)), np.flatnonzero(np.isin(members, va))) for tr, va in parts]
