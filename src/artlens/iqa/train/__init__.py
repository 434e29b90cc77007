"""Training the learned quality model: synthetic distortions, training sets, the shipped recipe, training on a
user's own good/bad labels and fine-tuning the last backbone blocks."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "DISTORTIONS": "artlens.iqa.train.distortions",
    "LEVELS": "artlens.iqa.train.distortions",
    "LabelSet": "artlens.iqa.train.labels",
    "METRICS_FILE": "artlens.iqa.train.labels",
    "RECIPE": "artlens.iqa.train.recipe",
    "apply": "artlens.iqa.train.distortions",
    "build_training_set": "artlens.iqa.train.training_set",
    "cached_arrays": "artlens.iqa.train.training_set",
    "chance_warnings": "artlens.iqa.train.labels",
    "describe_training_set": "artlens.iqa.train.training_set",
    "descriptor_code_digest": "artlens.iqa.train.training_set",
    "embed_training_set": "artlens.iqa.train.training_set",
    "evaluate_model": "artlens.iqa.train.labels",
    "finetune_on_synthetic": "artlens.iqa.train.finetune",
    "level_target": "artlens.iqa.train.training_set",
    "load_rgb": "artlens.iqa.train.training_set",
    "parse_overrides": "artlens.iqa.train.recipe",
    "pristine_files": "artlens.iqa.train.recipe",
    "random_distortion": "artlens.iqa.train.distortions",
    "read_labels": "artlens.iqa.train.labels",
    "set_code_digest": "artlens.iqa.train.training_set",
    "standardised_head": "artlens.iqa.train.head",
    "train_class_head": "artlens.iqa.train.head",
    "train_from_labels": "artlens.iqa.train.labels",
    "train_head": "artlens.iqa.train.head",
    "train_on_pristine": "artlens.iqa.train.recipe",
    "training_crops": "artlens.iqa.train.training_set",
    "tune_last_blocks": "artlens.iqa.train.finetune",
    "tuning_last_blocks": "artlens.iqa.train.finetune",
})
