"""``train_classifier``: one entry point that trains a classifier in either mode.

``linear`` fits calibrated heads on frozen backbone features (:mod:`artlens.classify.train.linear`);
``finetune`` also trains the backbone's last blocks with them (LP-FT, :mod:`artlens.classify.train.finetune`).
"""

from __future__ import annotations

from pathlib import Path

from artlens.classify.data import Dataset
from artlens.classify.model import MODES
from artlens.classify.train.finetune import train_finetune
from artlens.classify.train.linear import train_linear
from artlens.errors import ConfigError

__all__ = ["train_classifier"]


def train_classifier(data: Dataset, out_dir: str | Path, *, mode: str = "linear", **settings: object) -> dict:
    """Train a classifier model folder in ``mode`` ``linear`` or ``finetune`` (see those modules)."""
    if mode == "linear":
        return train_linear(data, out_dir, **settings)
    if mode == "finetune":
        return train_finetune(data, out_dir, **settings)
    raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
