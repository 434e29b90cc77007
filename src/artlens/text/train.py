"""Training a character LSTM: random windows, teacher forcing, validation bits per character, resumable.

The recipe of Karpathy's char-rnn (and Graves 2013, arXiv:1308.0850): cross-entropy of each next character
given the true ones before it, on windows of ``window`` characters drawn at random offsets of the training
text (``steps`` batches make an epoch), with dropout; the validation figure is bits per character of the
held-out text. The model starts from scratch or from textgenrnn's pretrained layers
(:mod:`artlens.text.textgenrnn`). The loop itself, with AdamW, the warm-up and cosine schedule, early stopping
and the checkpoint from which ``--resume`` continues exactly, is the shared one of :mod:`artlens.training`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.text.corpus import BLOCK, POETRY, poetry_lines, read_corpus, split_lines
from artlens.text.errors import TextCorpusError, TextModelError
from artlens.text.model import TextConfig, TextModel
from artlens.training import (
    EarlyStopping,
    Progress,
    cosine_schedule,
    fit,
    load_checkpoint,
    make_optimizer,
    parameter_groups,
    save_checkpoint,
)

__all__ = ["CHECKPOINT_FILE", "INITS", "TextSplit", "TextTrainSettings", "TrainedText", "load_split",
           "train_text"]

CHECKPOINT_FILE = "checkpoint.pt"
INITS = ("scratch", "textgenrnn")


@dataclass(frozen=True)
class TextTrainSettings:
    """Sizes and schedule of a run. The sizes are textgenrnn's (100-d embedding, two 128-unit LSTMs), so the
    two starts compare on one network; the defaults made the shipped poetry model."""

    epochs: int = 30
    steps: int = 200
    batch_size: int = 64
    window: int = 128
    lr: float = 4e-3
    weight_decay: float = 0.01
    warmup: float = 0.02
    embed: int = 100
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1
    patience: int = 4
    seed: int = 0
    init: str = "scratch"
    max_chars: int = 40_000_000
    val_chars: int = 200_000
    max_vocab: int = 160

    def check(self) -> TextTrainSettings:
        for name in ("epochs", "steps", "batch_size", "window", "embed", "hidden", "layers", "max_chars",
                     "val_chars", "max_vocab"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "epochs" else 1):
                raise ConfigError(f"{name} must be a positive integer, not {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), not {self.dropout}")
        if not self.lr > 0:
            raise ConfigError(f"the learning rate must be positive, not {self.lr}")
        if self.init not in INITS:
            raise ConfigError(f"init must be one of {', '.join(INITS)}, not {self.init!r}")
        return self


@dataclass
class TextSplit:
    """A corpus's text by split (lines joined by newlines) and its name."""

    name: str
    train: str
    validation: str
    test: str


@dataclass
class TrainedText:
    """What a run made: the model folder and its figures."""

    model: TextModel
    folder: Path
    history: list[dict[str, Any]]
    best_epoch: int
    val_bpc: float
    chars: dict[str, int]


def load_split(source: str | os.PathLike[str], *, on_error: Any = None) -> TextSplit:
    """The poetry corpus (``source == "poetry"``) or a user's file/folder, split into train/validation/test.

    A corpus too small for block splitting (fewer than 20 blocks) keeps its last 5 % of lines for validation.
    """
    if str(source) == POETRY:
        lines, name = poetry_lines(), POETRY
    else:
        lines, name = read_corpus(source, on_error=on_error), Path(source).name
    if len(lines) >= 20 * BLOCK:
        split = split_lines(lines)
    else:
        cut = max(1, len(lines) // 20)
        if len(lines) < 2:
            raise TextCorpusError(source, "has one line; training needs at least two")
        split = {"train": lines[:-cut], "validation": lines[-cut:], "test": []}
    return TextSplit(name, *("\n".join(split[k]) + "\n" for k in ("train", "validation", "test")))


def _vocabulary(text: str, max_vocab: int) -> str:
    counts = Counter(text)
    floor = max(1, len(text) // 2_000_000)
    kept = [ch for ch, n in counts.most_common(max_vocab) if n >= floor]
    return "".join(sorted(kept))


def _fingerprint(split: TextSplit, settings: TextTrainSettings) -> str:
    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    for text in (split.train, split.validation):
        digest.update(hashlib.sha256(text.encode("utf-8")).digest())
    return digest.hexdigest()


def _start(model: TextModel, settings: TextTrainSettings) -> None:
    if settings.init == "textgenrnn":
        from artlens.text.textgenrnn import port_textgenrnn

        port_textgenrnn(model)


def train_text(source: str | os.PathLike[str], out: str | os.PathLike[str], *,
               settings: TextTrainSettings | None = None, resume: bool = False,
               progress: Progress | None = None, on_error: Any = None) -> TrainedText:
    """Train a character LSTM on the poetry corpus (``"poetry"``) or a text file/folder; save it in ``out``.

    ``out`` receives ``config.json`` and ``model.safetensors`` (the best epoch by validation bits per
    character) and ``checkpoint.pt`` after every epoch; ``resume`` continues from that checkpoint exactly.
    """
    settings = (settings or TextTrainSettings()).check()
    split = load_split(source, on_error=on_error)
    train_text_ = split.train[:settings.max_chars]
    validation = split.validation[:settings.val_chars]
    chars = _vocabulary(train_text_, settings.max_vocab)
    if len(train_text_) < settings.window + 2:
        raise TextCorpusError(source, f"has {len(train_text_)} training characters; needs more than "
                                      f"the window of {settings.window}")
    out = Path(out)
    checkpoint = out / CHECKPOINT_FILE
    fingerprint = _fingerprint(split, settings)
    state = load_checkpoint(checkpoint, fingerprint=fingerprint) if resume else None

    torch.manual_seed(settings.seed)
    config = TextConfig(chars=chars, embed=settings.embed, hidden=settings.hidden, layers=settings.layers,
                        dropout=settings.dropout, corpus=split.name, init=settings.init)
    model = TextModel.create(config)
    _start(model, settings)
    ids = torch.from_numpy(np.asarray(model.encode(train_text_), dtype=np.uint8))
    groups = parameter_groups(model.net, settings.weight_decay)
    optimizer = make_optimizer(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    total_steps = settings.steps * max(1, settings.epochs)
    scheduler = cosine_schedule(optimizer, total_steps, round(settings.warmup * total_steps))
    generator = torch.Generator().manual_seed(settings.seed)
    loss_fn = nn.CrossEntropyLoss()
    span = settings.window + 1
    offsets = torch.arange(span)

    def batches(epoch: int) -> list[torch.Tensor]:
        starts = torch.randint(0, len(ids) - span + 1, (settings.steps, settings.batch_size),
                               generator=generator)
        return [ids[row[:, None] + offsets].long() for row in starts]

    def loss(batch: torch.Tensor) -> torch.Tensor:
        logits, _ = model.net(batch[:, :-1])
        return loss_fn(logits.transpose(1, 2), batch[:, 1:])

    def validate() -> dict[str, float]:
        return {"val_bpc": model.bits_per_char(validation)}

    def save_state(saved: dict[str, Any]) -> None:
        save_checkpoint(checkpoint, saved, fingerprint=fingerprint)

    result = fit(model.net, optimizer, batches, loss, epochs=settings.epochs, scheduler=scheduler,
                 validate=validate, monitor="val_bpc", stopping=EarlyStopping(settings.patience, mode="min"),
                 validate_start=True, generators={"windows": generator}, checkpoint=save_state, resume=state,
                 progress=progress)
    model.net.eval()
    val_bpc = float(result.best_metrics["val_bpc"]) if result.best_metrics else float("nan")
    sizes = {"train": len(train_text_), "validation": len(validation), "test": len(split.test)}
    config.training = {"source": split.name, "settings": asdict(settings), "best_epoch": result.best_epoch,
                       "epochs": result.epochs, "val_bpc": round(val_bpc, 5), "chars": sizes,
                       "stopped_early": result.stopped_early}
    try:
        model.save(out)
    except OSError as exc:
        raise TextModelError(f"{out}: the model cannot be written ({exc.strerror or exc})") from None
    return TrainedText(model, out, result.history, result.best_epoch, val_bpc, sizes)
