"""Training a music model: token windows, teacher forcing, validation NLL, early stopping, resumable.

The recipe is BachBot's (Liang et al. 2017): an LSTM language model over the tokens of every training piece
in C major or A minor, trained with teacher forcing (cross-entropy of each next token given the true ones
before it) on windows cut from the pieces at offsets drawn anew every epoch, with dropout; the validation
figure is the negative log-likelihood per token (nats) of the whole held-out pieces. The loop itself, with
AdamW, the warm-up and cosine schedule, early stopping and the checkpoint from which ``--resume`` continues
exactly, is the shared one of :mod:`artlens.training`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from artlens.music.corpus import CORPORA, load_corpus, split_of
from artlens.music.errors import MusicFileError, MusicModelError
from artlens.music.model import ModelConfig, MusicModel
from artlens.music.piece import REST, Piece
from artlens.music.read import read_folder
from artlens.music.tokens import PAD, encode
from artlens.training import (
    EarlyStopping,
    Progress,
    check_dropout,
    check_learning_rate,
    check_positive_integers,
    cosine_schedule,
    fit,
    load_checkpoint,
    make_optimizer,
    parameter_groups,
    report,
)

__all__ = ["CHECKPOINT_FILE", "MusicTrainSettings", "TrainedMusic", "prepare_data", "train_music"]

CHECKPOINT_FILE = "checkpoint.pt"


@dataclass(frozen=True)
class MusicTrainSettings:
    """Sizes and schedule of a training run (the defaults made the shipped chorale model)."""

    epochs: int = 12
    batch_size: int = 32
    window: int = 256
    lr: float = 3e-3
    weight_decay: float = 0.01
    warmup: float = 0.03
    embed: int = 48
    hidden: int = 192
    layers: int = 2
    dropout: float = 0.3
    patience: int = 5
    seed: int = 0
    tempo: float = 80.0
    program: int = 19  # General MIDI church organ

    def check(self) -> MusicTrainSettings:
        check_positive_integers(self, ("epochs", "batch_size", "window", "embed", "hidden", "layers"),
                                zero_allowed=("epochs",))
        check_dropout(self.dropout)
        check_learning_rate(self.lr)
        return self


@dataclass
class TrainedMusic:
    """What a run made: the model folder and its figures."""

    model: MusicModel
    folder: Path
    history: list[dict[str, Any]]
    best_epoch: int
    val_nll: float
    pieces: dict[str, int]


def prepare_data(source: str | os.PathLike[str], *, corpus: bool, voices: int | None = None,
                 on_error: Any = None, progress: Progress | None = None) -> dict[str, list[Piece]]:
    """The pieces of a bundled corpus (``corpus=True``: ``bach`` or ``folk``) or of a folder, by split, each
    moved to C major or A minor.

    A folder's pieces get the split of the corpus's rule (a hash of the file name); when that leaves no
    validation piece, the last training piece validates.
    """
    def tick(done: int, total: int) -> None:
        report(progress, "read", done, total)

    if corpus:
        split = load_corpus(str(source), on_error=on_error, progress=tick)
    else:
        found, _errors = read_folder(source, voices or 4, on_error=on_error, progress=tick)
        split = {"train": [], "validation": [], "test": []}
        for piece in found:
            split[split_of(piece.title)].append(piece)
        if not split["validation"]:
            if len(split["train"]) < 2:
                raise MusicFileError(source, f"has {len(found)} usable piece(s); training needs at least 2")
            split["validation"].append(split["train"].pop())
    return {name: [p.normalised()[0] for p in pieces] for name, pieces in split.items()}


def _config(train: list[Piece], settings: MusicTrainSettings, corpus: str) -> ModelConfig:
    voices = train[0].voices
    ranges = []
    for v in range(voices):
        sounding = np.concatenate([p.pitch[v][p.pitch[v] != REST] for p in train])
        ranges.append([int(sounding.min()), int(sounding.max())])
    meters = Counter(p.meter for p in train).most_common()
    minor = sum(p.key.mode == "minor" for p in train) / len(train)
    return ModelConfig(voices=voices, embed=settings.embed, hidden=settings.hidden, layers=settings.layers,
                       dropout=settings.dropout, ranges=ranges, meters=[[m[0], m[1], n] for m, n in meters],
                       minor_share=round(minor, 4), tempo=settings.tempo, program=settings.program,
                       corpus=corpus)


def _windows(sequences: list[list[int]], window: int, generator: torch.Generator) -> torch.Tensor:
    """Windows of ``window + 1`` tokens covering every sequence, from an offset drawn per sequence."""
    rows = []
    for seq in sequences:
        offset = int(torch.randint(0, window, (1,), generator=generator)) if len(seq) > window + 1 else 0
        starts = [0, *range(offset or window, max(1, len(seq) - 1), window)]
        for start in sorted(set(starts)):
            piece = seq[start:start + window + 1]
            if len(piece) < 2:
                continue
            rows.append(piece + [PAD] * (window + 1 - len(piece)))
    return torch.tensor(rows, dtype=torch.long)


def _fingerprint(data: dict[str, list[list[int]]], settings: MusicTrainSettings) -> str:
    digest = hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode())
    for name in sorted(data):
        for seq in data[name]:
            digest.update(np.asarray(seq, dtype=np.int16).tobytes())
    return digest.hexdigest()


def train_music(source: str | os.PathLike[str], out: str | os.PathLike[str], *, corpus: bool = False,
                voices: int | None = None, settings: MusicTrainSettings | None = None, resume: bool = False,
                progress: Progress | None = None, on_error: Any = None) -> TrainedMusic:
    """Train a model on a bundled corpus or a folder of MIDI, MusicXML and ABC files; save it in ``out``.

    ``out`` receives ``config.json`` and ``model.safetensors`` (the best epoch by validation NLL) and
    ``checkpoint.pt`` after every epoch; ``resume`` continues from that checkpoint, exactly as if the run had
    not stopped (same data and settings: the checkpoint carries their fingerprint).
    """
    settings = (settings or MusicTrainSettings()).check()
    if corpus and str(source) not in CORPORA:
        raise MusicFileError(source, f"unknown corpus; known: {', '.join(sorted(CORPORA))}")
    split = prepare_data(source, corpus=corpus, voices=voices, on_error=on_error, progress=progress)
    if not split["train"]:
        raise MusicFileError(source, "has no usable training piece")
    data = {name: [encode(p) for p in pieces] for name, pieces in split.items()}
    name = str(source) if corpus else Path(source).name
    out = Path(out)
    checkpoint = out / CHECKPOINT_FILE
    fingerprint = _fingerprint(data, settings)
    state = load_checkpoint(checkpoint, fingerprint=fingerprint) if resume else None

    torch.manual_seed(settings.seed)
    config = _config(split["train"], settings, name)
    model = MusicModel.create(config)
    groups = parameter_groups(model.net, settings.weight_decay)
    optimizer = make_optimizer(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(settings.seed)
    per_epoch = math.ceil(len(_windows(data["train"], settings.window, torch.Generator().manual_seed(0)))
                          / settings.batch_size)
    scheduler = cosine_schedule(optimizer, per_epoch * max(1, settings.epochs),
                                round(settings.warmup * per_epoch * settings.epochs))
    loss_fn = nn.CrossEntropyLoss(ignore_index=PAD)

    def batches(epoch: int) -> list[torch.Tensor]:
        rows = _windows(data["train"], settings.window, generator)
        order = torch.randperm(len(rows), generator=generator)
        return [rows[order[i:i + settings.batch_size]] for i in range(0, len(rows), settings.batch_size)]

    def loss(batch: torch.Tensor) -> torch.Tensor:
        logits, _ = model.net(batch[:, :-1])
        return loss_fn(logits.transpose(1, 2), batch[:, 1:])

    def validate() -> dict[str, float]:
        total, count = model.nll(data["validation"])
        return {"val_nll": total / max(1, count)}

    def save_state(saved: dict[str, Any]) -> None:
        from artlens.training import save_checkpoint

        save_checkpoint(checkpoint, saved, fingerprint=fingerprint)

    result = fit(model.net, optimizer, batches, loss, epochs=settings.epochs, scheduler=scheduler,
                 validate=validate, monitor="val_nll", stopping=EarlyStopping(settings.patience, mode="min"),
                 validate_start=True, generators={"windows": generator}, checkpoint=save_state, resume=state,
                 progress=progress)
    model.net.eval()
    val_nll = float(result.best_metrics["val_nll"]) if result.best_metrics else float("nan")
    config.training = {"source": name, "settings": asdict(settings), "best_epoch": result.best_epoch,
                       "epochs": result.epochs, "val_nll": round(val_nll, 5),
                       "pieces": {k: len(v) for k, v in split.items()}, "stopped_early": result.stopped_early}
    try:
        model.save(out)
    except OSError as exc:
        raise MusicModelError(f"{out}: the model cannot be written ({exc.strerror or exc})") from None
    return TrainedMusic(model, out, result.history, result.best_epoch, val_nll,
                        {k: len(v) for k, v in split.items()})
