"""The LSTM language model over characters or subwords, its folder format, and the shipped poetry model.

A stacked LSTM over tokens (Hochreiter & Schmidhuber 1997, used for text by Graves 2013, "Generating
Sequences With Recurrent Neural Networks", arXiv:1308.0850): embedding, LSTM layers with dropout between them,
dropout, a linear read-out, tied to the embedding when ``tie`` is set (Press & Wolf, EACL 2017). The tokens
are characters (index 0 the unknown one) or byte-level BPE subwords (:mod:`artlens.text.tokens`). A model
folder holds ``config.json`` (tokens, sizes, how it was trained), ``model.safetensors`` (no pickle, so a
folder from elsewhere cannot run code) and, for subwords, ``tokenizer.json``; the shipped model
(``models/poetry``) is pinned by SHA-256 and checked on load. Folders of the first format
(``artlens.text-model/1``, characters) still load. Token-by-token sampling uses
:class:`~artlens.models.lstm.Stepper` (the same layers).
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
from artlens.text.tokens import TOKENIZER_FILE, BpeTokens, CharTokens, Tokens
from artlens.weights import verify_pinned

__all__ = [
    "CONFIG_FILE",
    "SCHEMA",
    "SHIPPED_MODEL_DIR",
    "SHIPPED_MODEL_SHA256",
    "TOKENIZER_FILE",
    "WEIGHTS_FILE",
    "CharLSTM",
    "TextConfig",
    "TextModel",
    "load_text_model",
    "verify_shipped_model",
]

SCHEMA = "artlens.text-model/2"
#: the first format (characters only, no ``tokens``/``tie``/``vocab``), still read
SCHEMA_V1 = "artlens.text-model/1"
TOKEN_KINDS = ("char", "bpe")
SHIPPED_MODEL_DIR = Path(__file__).resolve().parent / "models" / "poetry"
#: SHA-256 of the shipped poetry model's files (checked on load). It was made by
#: ``scripts/train_text_models.py --recipe subword`` (``artlens.text.train.POETRY_RECIPE``; ``docs/models.md``
#: has the run) and the three files copied here.
SHIPPED_MODEL_SHA256: dict[str, str] = {
    CONFIG_FILE: "650dd7a33e23f265ff792a4c86a041331693a86403120e8775fc8c3d012ec6d1",
    WEIGHTS_FILE: "8db82f204fffdd8bcbe52b8c34db988e0409f4a3fa033c79f09c20d4f9243d4f",
    TOKENIZER_FILE: "8d10d7ea5f376d0c4d6afa3a8a984d092fc4f14560a283f968a137b6cae7c4dc",
}


@dataclass
class TextConfig:
    """Tokens, sizes and facts of a text model (``config.json``): ``tokens`` is ``"char"`` (the alphabet in
    ``chars``) or ``"bpe"`` (``vocab`` subwords in ``tokenizer.json``); ``tie`` shares the embedding with the
    read-out; ``weights`` is the stored precision of ``model.safetensors``."""

    chars: str = ""
    embed: int = 100
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1
    corpus: str = ""
    init: str = "scratch"
    tokens: str = "char"
    vocab: int = 0
    tie: bool = False
    weights: str = "float32"
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return len(self.chars) + 1 if self.tokens == "char" else self.vocab

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TextConfig:
        known = set(cls.__dataclass_fields__)
        config = cls(**{k: v for k, v in data.items() if k in known})
        if config.tokens not in TOKEN_KINDS:
            raise ValueError(f"tokens must be one of {', '.join(TOKEN_KINDS)}, not {config.tokens!r}")
        if config.weights not in ("float32", "float16"):
            raise ValueError(f"weights must be float32 or float16, not {config.weights!r}")
        return config


class CharLSTM(TokenLSTM):
    """The text model's network: a :class:`~artlens.models.lstm.TokenLSTM` over characters or subwords."""


@dataclass
class TextModel:
    """A trained model: its config, network (in eval mode once loaded) and tokens."""

    config: TextConfig
    net: CharLSTM
    path: Path | None = None
    tokens: Tokens = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.tokens is None:
            if self.config.tokens != "char":
                raise TextModelError("a subword text model needs its tokenizer")
            self.tokens = CharTokens(self.config.chars)

    @classmethod
    def create(cls, config: TextConfig, tokens: Tokens | None = None) -> TextModel:
        return cls(config, CharLSTM(config), None, tokens)  # type: ignore[arg-type]

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """Character indices of a character model (empty for a subword model)."""
        return dict(self.tokens.index) if isinstance(self.tokens, CharTokens) else {}

    def encode(self, text: str) -> list[int]:
        """Token indices (for characters, 0 for one the model does not know)."""
        return self.tokens.encode(text)

    def decode(self, ids: list[int]) -> str:
        return self.tokens.decode(ids)

    @torch.no_grad()
    def bits_per_char(self, text: str, *, chunk: int = 512, rows: int = 32) -> float:
        """Bits per character of ``text``: the bits of all its tokens, the first one predicted after a line
        break, divided by its number of characters; the state is carried across chunks.

        For subwords this is the bits of the text's one tokenisation (an upper bound of the text's bits under
        the model, which sums over every tokenisation), over exactly ``len(text)`` characters: a text the
        tokens do not reproduce exactly is an error, never a silently shorter count.
        """
        if not text:
            return float("nan")
        encoded = self.encode(text)
        if self.config.tokens != "char" and self.decode(encoded) != text:
            raise TextModelError("the tokenizer does not reproduce the text exactly; bits per character "
                                 "would not be comparable")
        ids = torch.tensor([self.tokens.newline, *encoded], dtype=torch.long)
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
        return total / len(text) / math.log(2)

    def stepper(self) -> Stepper:
        """Token-by-token inference over the current weights (eval mode: no dropout)."""
        return Stepper(self.net)  # type: ignore[arg-type]

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``config.json``, ``model.safetensors`` (at the config's ``weights`` precision) and, for
        subwords, ``tokenizer.json`` into ``folder`` (created)."""
        dtype = torch.float16 if self.config.weights == "float16" else None
        where = save_folder(folder, self.net, asdict(self.config), SCHEMA, indent=1, ensure_ascii=False,
                            dtype=dtype)
        if isinstance(self.tokens, BpeTokens):
            (where / TOKENIZER_FILE).write_text(self.tokens.to_json(), encoding="utf-8")
        return where

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> TextModel:
        """Read a model folder (either format); :class:`TextModelError` naming the folder and what is
        wrong."""
        def build(data: dict[str, Any]) -> tuple[TextConfig, CharLSTM]:
            config = TextConfig.from_dict(data)
            return config, CharLSTM(config)

        config, net, where = load_folder(folder, (SCHEMA, SCHEMA_V1), build, TextModelError, kind="text",
                                         command="artlens train text")
        tokens: Tokens | None = None
        if config.tokens == "bpe":
            path = where / TOKENIZER_FILE
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TextModelError(f"{path}: cannot be read ({type(exc).__name__})") from None
            tokens = BpeTokens.from_json(text, path)
            if tokens.vocab_size != config.vocab:
                raise TextModelError(f"{path}: has {tokens.vocab_size} tokens, the model {config.vocab}")
        return cls(config, net, where, tokens)  # type: ignore[arg-type]


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
