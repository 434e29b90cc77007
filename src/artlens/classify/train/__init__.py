"""Training image classifiers: linear heads on cached features and fine-tuning with augmentation."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "AugmentSettings": "artlens.classify.train.augment",
    "CHECKPOINT_FILE": "artlens.classify.train.finetune",
    "check_split_settings": "artlens.classify.train.heldout",
    "centre_crop": "artlens.classify.train.augment",
    "color_jitter": "artlens.classify.train.augment",
    "downscale": "artlens.classify.train.augment",
    "fit_heads": "artlens.classify.train.linear",
    "FeatureSet": "artlens.classify.train.selection",
    "Selection": "artlens.classify.train.selection",
    "fit_selected": "artlens.classify.train.selection",
    "fit_softmax": "artlens.classify.train.softmax",
    "normalise_features": "artlens.classify.train.selection",
    "fit_temperature": "artlens.classify.train.heldout",
    "held_out_report": "artlens.classify.train.heldout",
    "make_config": "artlens.classify.train.heldout",
    "normalise": "artlens.classify.train.augment",
    "random_resized_crop": "artlens.classify.train.augment",
    "split_rows": "artlens.classify.train.heldout",
    "train_classifier": "artlens.classify.train.driver",
    "train_finetune": "artlens.classify.train.finetune",
    "train_linear": "artlens.classify.train.linear",
    "train_view": "artlens.classify.train.augment",
})
