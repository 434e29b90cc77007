"""Training machinery shared by every artlens trainer: one loop, one progress protocol, one split driver.

=====================  ==================================================================================
:mod:`.progress`       :class:`ProgressEvent` and the ``Progress`` callback every trainer reports through
:mod:`.checks`         checks of a run's settings (sizes, dropout, learning rate), one wording each
:mod:`.checkpoints`    atomic checkpoints, safe loading, random-generator state for exact resumption
:mod:`.optim`          parameter groups without decay on norms and biases, AdamW, warm-up + cosine schedule
:mod:`.stopping`       early stopping on a validation score
:mod:`.splits`         stratified hold-out / k-fold driver, by group when asked
:mod:`.losses`         the one class-weight rule, the ordered-pairs ranking term
:mod:`.loop`           ``fit`` (epochs, validation, checkpoints) and ``finetune`` (LP-FT)
=====================  ==================================================================================
"""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "CHECKPOINT_FORMAT": "artlens.training.checkpoints",
    "CheckpointError": "artlens.training.checkpoints",
    "EarlyStopping": "artlens.training.stopping",
    "FinetuneSettings": "artlens.training.loop",
    "FitResult": "artlens.training.loop",
    "Fold": "artlens.training.splits",
    "Progress": "artlens.training.progress",
    "ProgressEvent": "artlens.training.progress",
    "Validation": "artlens.training.loop",
    "capture_rng": "artlens.training.checkpoints",
    "check_dropout": "artlens.training.checks",
    "check_learning_rate": "artlens.training.checks",
    "check_positive_integers": "artlens.training.checks",
    "check_split": "artlens.training.splits",
    "class_weights": "artlens.training.losses",
    "cosine_schedule": "artlens.training.optim",
    "finetune": "artlens.training.loop",
    "fit": "artlens.training.loop",
    "group_strata": "artlens.training.splits",
    "load_checkpoint": "artlens.training.checkpoints",
    "make_optimizer": "artlens.training.optim",
    "make_splits": "artlens.training.splits",
    "ordered_pairs_loss": "artlens.training.losses",
    "parameter_groups": "artlens.training.optim",
    "report": "artlens.training.progress",
    "restore_rng": "artlens.training.checkpoints",
    "save_checkpoint": "artlens.training.checkpoints",
})
