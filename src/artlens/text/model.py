"""The character-level LSTM language model, its folder format, and the shipped poetry model.

A stacked LSTM over characters (Hochreiter & Schmidhuber 1997, used for text by Graves 2013, "Generating
Sequences With Recurrent Neural Networks", arXiv:1308.0850): embedding, LSTM layers with dropout between them,
dropout, a linear read-out to the characters. Index 0 is the unknown character. A model folder holds
``config.json`` (characters, sizes, how it was trained) and ``model.safetensors`` (no pickle, so a folder from
elsewhere cannot run code); the shipped model (``models/poetry``) is pinned by SHA-256 and checked on load.
Token-by-token sampling uses the music package's :class:`~artlens.music.model.Stepper` (the same layers).
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from artlens.models.lstm import CONFIG_FILE, WEIGHTS_FILE, Stepper, TokenLSTM, load_folder, save_folder
from artlens.text.errors import TextModelError
from artlens.weights import verify_pinned

__all__ = [
    "CONFIG_FILE",
    "SHIPPED_MODEL_DIR",
    "SHIPPED_MODEL_SHA256",
    "WEIGHTS_FILE",
    "CharLSTM",
    "TextConfig",
    "TextModel",
    "load_text_model",
    "verify_shipped_model",
]

SCHEMA = "artlens.text-model/1"
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "models" / "poetry"
#: SHA-256 of the shipped poetry model's files (checked on load). It was made by
#: ``scripts/train_text_models.py --init scratch`` (the better of the two starts; ``docs/models.md`` has the
#: figures) and the two files copied here.
SHIPPED_MODEL_SHA256: dict[str, str] = {
    CONFIG_FILE: "bafafcbb026294c4bc7552e1d0e82ef401bd500499523e186e6dd7c219f40129",
    WEIGHTS_FILE: "9e694be7be982c157cb7f876b00c180f5bb5486c048ee790edb0ff86e2101f28",
}


@dataclass
class TextConfig:
    """Characters, sizes and facts of a text model (``config.json``)."""

    chars: str = ""
    embed: int = 100
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1
    corpus: str = ""
    init: str = "scratch"
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextConfig:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class CharLSTM(TokenLSTM):
    """The text model's network: a :class:`~artlens.models.lstm.TokenLSTM` over characters."""


@dataclass
class TextModel:
    """A trained model: its config and network (in eval mode once loaded)."""

    config: TextConfig
    net: CharLSTM
    path: Path | None = None

    @classmethod
    def create(cls, config: TextConfig) -> TextModel:
        return cls(config, CharLSTM(config))

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {ch: i + 1 for i, ch in enumerate(self.config.chars)}

    def encode(self, text: str) -> list[int]:
        """Character indices (0 for a character the model does not know)."""
        index = self.index
        return [index.get(ch, 0) for ch in text]

    def decode(self, ids: list[int]) -> str:
        chars = self.config.chars
        return "".join(chars[i - 1] for i in ids if 0 < i <= len(chars))

    @torch.no_grad()
    def bits_per_char(self, text: str, *, chunk: int = 512, rows: int = 32) -> float:
        """Bits per character of ``text`` (every character but the first), the state carried across chunks."""
        ids = torch.tensor(self.encode(text), dtype=torch.long)
        if len(ids) < 2:
            return float("nan")
        was_training = self.net.training
        self.net.eval()
        # ``rows`` parallel streams over consecutive stretches of the text, each carrying its own state
        span = math.ceil((len(ids) - 1) / rows)
        total, count = 0.0, 0
        state = None
        for offset in range(0, span, chunk):
            inputs, targets, mask = [], [], []
            for r in range(rows):
                lo = r * span + offset
                hi = min(lo + chunk, (r + 1) * span, len(ids) - 1)
                piece_in = ids[lo:max(lo, hi)]
                piece_out = ids[lo + 1:max(lo, hi) + 1]
                pad = chunk - len(piece_in)
                inputs.append(torch.cat([piece_in, torch.zeros(pad, dtype=torch.long)]))
                targets.append(torch.cat([piece_out, torch.zeros(pad, dtype=torch.long)]))
                mask.append(torch.arange(chunk) < len(piece_in))
            logits, state = self.net(torch.stack(inputs), state)
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), torch.stack(targets),
                                                 reduction="none")
            keep = torch.stack(mask)
            total += float(losses[keep].sum())
            count += int(keep.sum())
        self.net.train(was_training)
        return total / max(1, count) / math.log(2)

    def stepper(self) -> Stepper:
        """Token-by-token inference over the current weights (eval mode: no dropout)."""
        return Stepper(self.net)  # type: ignore[arg-type]

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created)."""
        return save_folder(folder, self.net, asdict(self.config), SCHEMA, indent=1, ensure_ascii=False)

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TextModel:
        """Read a model folder; :class:`TextModelError` naming the folder and what is wrong."""
        def build(data: dict[str, Any]) -> tuple[TextConfig, CharLSTM]:
            config = TextConfig.from_dict(data)
            return config, CharLSTM(config)

        config, net, where = load_folder(folder, SCHEMA, build, TextModelError, kind="text",
                                         command="artlens train text")
        return cls(config, net, where)  # type: ignore[arg-type]


def verify_shipped_model() -> None:
    """Check the shipped model's files against :data:`SHIPPED_MODEL_SHA256` (a WeightsError if not)."""
    verify_pinned(SHIPPED_MODEL_DIR, SHIPPED_MODEL_SHA256, "the shipped poetry model")


@functools.lru_cache(maxsize=4)
def _load(folder: str, shipped: bool) -> TextModel:
    if shipped:
        verify_shipped_model()
    return TextModel.load(folder)


def load_text_model(folder: str | os.PathLike[str] | None = None) -> TextModel:
    """The model in ``folder``, or the shipped poetry model (``None`` or ``"poetry"``); cached per process."""
    if folder is None or str(folder) == "poetry":
        return _load(str(SHIPPED_MODEL_DIR), True)
    return _load(str(Path(folder).resolve()), False)
