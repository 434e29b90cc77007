"""Training machinery shared by every artlens trainer: one loop, one progress protocol, one split driver.

=====================  ==================================================================================
:mod:`.progress`       :class:`ProgressEvent` and the :data:`Progress` callback every trainer reports through
:mod:`.checkpoints`    atomic checkpoints, safe loading, random-generator state for exact resumption
:mod:`.optim`          parameter groups without decay on norms and biases, AdamW, warm-up + cosine schedule
:mod:`.stopping`       early stopping on a validation score
:mod:`.splits`         stratified hold-out / k-fold driver, by group when asked
:mod:`.losses`         the one class-weight rule, the ordered-pairs ranking term
:mod:`.loop`           :func:`fit` (epochs, validation, checkpoints) and :func:`finetune` (LP-FT)
=====================  ==================================================================================
"""

from artlens.training.checkpoints import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    capture_rng,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from artlens.training.loop import FinetuneSettings, FitResult, Validation, finetune, fit
from artlens.training.losses import class_weights, ordered_pairs_loss
from artlens.training.optim import cosine_schedule, make_optimizer, parameter_groups
from artlens.training.progress import Progress, ProgressEvent, report
from artlens.training.splits import Fold, check_split, group_strata, make_splits
from artlens.training.stopping import EarlyStopping

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "EarlyStopping",
    "FinetuneSettings",
    "FitResult",
    "Fold",
    "Progress",
    "ProgressEvent",
    "Validation",
    "capture_rng",
    "check_split",
    "class_weights",
    "cosine_schedule",
    "finetune",
    "fit",
    "group_strata",
    "load_checkpoint",
    "make_optimizer",
    "make_splits",
    "ordered_pairs_loss",
    "parameter_groups",
    "report",
    "restore_rng",
    "save_checkpoint",
]
