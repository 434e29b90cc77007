"""Training the alignment heads: pairs, the cached feature pass and the recipe (``artlens train align``)."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "AlignSettings": "artlens.align.train.recipe",
    "FeatureCache": "artlens.align.train.features",
    "HOLDOUT_CATEGORIES": "artlens.align.train.pairs",
    "Pair": "artlens.align.train.pairs",
    "TrainingSet": "artlens.align.train.recipe",
    "assign_roles": "artlens.align.train.pairs",
    "build_feature_cache": "artlens.align.train.features",
    "clean_title": "artlens.align.train.pairs",
    "collect_pairs": "artlens.align.train.recipe",
    "fit_calibration": "artlens.align.train.recipe",
    "load_feature_cache": "artlens.align.train.features",
    "train_heads": "artlens.align.train.recipe",
    "training_set": "artlens.align.train.recipe",
})
