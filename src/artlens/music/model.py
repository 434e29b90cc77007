"""The LSTM that models token sequences, its folder format, and the shipped chorale model.

A stacked LSTM language model (Hochreiter & Schmidhuber 1997) over the tokens of
:mod:`artlens.music.tokens`, as BachBot (Liang et al. 2017) uses: embedding, LSTM layers with dropout between
them, dropout, a linear layer to the vocabulary. A model folder holds ``config.json`` (sizes, the voices'
ranges, the meters and modes it saw, how it was trained) and ``model.safetensors`` (weights, no pickle: a
folder from elsewhere cannot run code).

The shipped model (``models/chorales``) is pinned by SHA-256 here and checked on every load, like the quality
model; ``docs/models.md`` gives the command that made it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from artlens.models.lstm import CONFIG_FILE, WEIGHTS_FILE, Stepper, TokenLSTM, load_folder, save_folder
from artlens.music.errors import MusicModelError
from artlens.music.tokens import VOCAB_SIZE
from artlens.weights import verify_pinned

__all__ = [
    "CONFIG_FILE",
    "SHIPPED_MODEL_DIR",
    "SHIPPED_MODEL_SHA256",
    "WEIGHTS_FILE",
    "ModelConfig",
    "MusicModel",
    "ScoreLSTM",
    "load_music_model",
    "verify_shipped_model",
]

SCHEMA = "artlens.music-model/1"
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "models" / "chorales"
#: SHA-256 of the shipped chorale model's files (checked on load). It was made by ``artlens train music
#: --corpus bach --out DIR`` (the defaults of :class:`~artlens.music.train.MusicTrainSettings`) and the two
#: files copied here; ``docs/models.md`` has the figures.
SHIPPED_MODEL_SHA256: dict[str, str] = {
    CONFIG_FILE: "3eef8e1d37bced9b9cd049ad1d7631dfaee6e3c435b1fe4dbb5a04e30dec1b90",
    WEIGHTS_FILE: "005c84cbdabd269bb0b25b26b068b140594bf5ba46a56825a9bc483d534827ec",
}


@dataclass
class ModelConfig:
    """Sizes and facts of a music model (``config.json``)."""

    voices: int = 4
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.3
    vocab_size: int = VOCAB_SIZE
    #: per voice, the lowest and highest MIDI pitch seen in training (in C major / A minor)
    ranges: list[list[int]] = field(default_factory=list)
    #: meters seen in training, most common first, as ``[numerator, denominator, pieces]``
    meters: list[list[int]] = field(default_factory=list)
    #: share of training pieces in minor
    minor_share: float = 0.5
    tempo: float = 80.0
    program: int = 0
    corpus: str = ""
    training: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class ScoreLSTM(TokenLSTM):
    """The chorale model's network: a :class:`~artlens.models.lstm.TokenLSTM` over the score tokens."""


@dataclass
class MusicModel:
    """A trained model: its config and network (in eval mode once loaded)."""

    config: ModelConfig
    net: ScoreLSTM
    path: Path | None = None

    @classmethod
    def create(cls, config: ModelConfig) -> MusicModel:
        return cls(config, ScoreLSTM(config))

    @torch.no_grad()
    def nll(self, sequences: list[list[int]], batch_size: int = 16) -> tuple[float, int]:
        """Summed negative log-likelihood (nats) of every token but each sequence's first, and the count
        (the network is used in whatever mode it is in; call ``net.eval()`` first to measure)."""
        total, count = 0.0, 0
        ordered = sorted(sequences, key=len)
        for i in range(0, len(ordered), batch_size):
            chunk = ordered[i:i + batch_size]
            width = max(len(s) for s in chunk)
            block = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, seq in enumerate(chunk):
                block[row, :len(seq)] = torch.tensor(seq)
            logits, _ = self.net(block[:, :-1])
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), block[:, 1:], reduction="none")
            mask = torch.arange(width - 1)[None, :] < torch.tensor([len(s) - 1 for s in chunk])[:, None]
            total += float(losses[mask].sum())
            count += int(mask.sum())
        return total, count

    def stepper(self) -> Stepper:
        """A :class:`Stepper` over the current weights (made again after training)."""
        return Stepper(self.net)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created)."""
        return save_folder(folder, self.net, asdict(self.config), SCHEMA, indent=2)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> MusicModel:
        """Read a model folder; :class:`MusicModelError` naming the folder and what is wrong."""
        def build(data: dict[str, Any]) -> tuple[ModelConfig, ScoreLSTM]:
            config = ModelConfig.from_dict(data)
            return config, ScoreLSTM(config)

        config, net, where = load_folder(folder, SCHEMA, build, MusicModelError, kind="music",
                                         command="artlens train music")
        return cls(config, net, where)  # type: ignore[arg-type]


def verify_shipped_model() -> None:
    """Check the shipped model's files against :data:`SHIPPED_MODEL_SHA256` (a WeightsError if not)."""
    verify_pinned(SHIPPED_MODEL_DIR, SHIPPED_MODEL_SHA256, "the shipped chorale model")


@functools.lru_cache(maxsize=4)
def _load(folder: str, shipped: bool) -> MusicModel:
    if shipped:
        verify_shipped_model()
    return MusicModel.load(folder)


def load_music_model(folder: str | os.PathLike[str] | None = None) -> MusicModel:
    """The model in ``folder``, or the shipped chorale model; cached per process."""
    if folder is None or str(folder) in ("chorales", "bach"):
        return _load(str(SHIPPED_MODEL_DIR), True)
    return _load(str(Path(folder).resolve()), False)
