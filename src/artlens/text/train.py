"""Training an LSTM text model: windows, teacher forcing, validation bits per character, resumable.

The recipe of Karpathy's char-rnn (and Graves 2013, arXiv:1308.0850): cross-entropy of each next token given
the true ones before it, on windows of ``window`` tokens (``steps`` batches make an epoch), with dropout; the
validation figure is bits per character of the held-out text. Tokens are characters or byte-level BPE
subwords learnt on the training split (``tokens="bpe"``, :mod:`artlens.text.tokens`). Windows are drawn at
random offsets, or (``carry``) each batch row reads on through the text from a random start and its LSTM
state is carried from one window to the next, truncated back-propagation through time as in Zaremba et al.
("Recurrent Neural Network Regularization", arXiv:1409.2329, 2014) and Merity et al. ("Regularizing and
Optimizing LSTM Language Models", ICLR 2018); the state starts afresh every epoch, so a resumed run is exact.
The model starts from scratch or from textgenrnn's pretrained layers (:mod:`artlens.text.textgenrnn`,
characters only). The loop itself, with AdamW, the warm-up and cosine schedule, early stopping and the
checkpoint from which ``--resume`` continues exactly, is the shared one of :mod:`artlens.training`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.text.corpus import BLOCK, POETRY, poetry_lines, read_corpus, split_lines
from artlens.text.errors import TextCorpusError, TextModelError
from artlens.text.model import TOKEN_KINDS, TextConfig, TextModel
from artlens.text.tokens import Tokens, char_vocabulary, line_chunks, train_bpe
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
    save_checkpoint,
)

__all__ = ["CHECKPOINT_FILE", "INITS", "POETRY_RECIPE", "RECIPES", "TextSplit", "TextTrainSettings",
           "TrainedText", "Windows", "load_split", "train_text"]

CHECKPOINT_FILE = "checkpoint.pt"
INITS = ("scratch", "textgenrnn")


@dataclass(frozen=True)
class TextTrainSettings:
    """Sizes and schedule of a run. The defaults are the character model of textgenrnn's sizes (100-d
    embedding, two 128-unit LSTMs), so the two starts compare on one network; ``tokens="bpe"`` reads
    ``vocab`` subwords learnt on the first ``tokenizer_chars`` training characters, ``tie`` shares the
    embedding with the read-out, ``carry`` carries the state across windows, ``float16`` stores the weights
    at half precision. :data:`POETRY_RECIPE` holds the settings of the shipped poetry model."""

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
    tokens: str = "char"
    vocab: int = 4096
    tokenizer_chars: int = 20_000_000
    tie: bool = False
    carry: bool = False
    float16: bool = False

    def check(self) -> TextTrainSettings:
        check_positive_integers(self, ("epochs", "steps", "batch_size", "window", "embed", "hidden", "layers",
                                       "max_chars", "val_chars", "max_vocab", "vocab", "tokenizer_chars"),
                                zero_allowed=("epochs",))
        check_dropout(self.dropout)
        check_learning_rate(self.lr)
        if self.init not in INITS:
            raise ConfigError(f"init must be one of {', '.join(INITS)}, not {self.init!r}")
        if self.tokens not in TOKEN_KINDS:
            raise ConfigError(f"tokens must be one of {', '.join(TOKEN_KINDS)}, not {self.tokens!r}")
        if self.tokens == "bpe" and not 257 <= self.vocab <= 32_000:
            raise ConfigError(f"a subword vocabulary must have 257 to 32000 tokens, not {self.vocab}")
        if self.tokens == "bpe" and self.init != "scratch":
            raise ConfigError("textgenrnn's weights are a character model: a subword model starts from "
                              "scratch")
        return self


#: The recipe of the shipped poetry model (``models/poetry``, issue #32's third round): byte-level BPE of
#: 2,048 tokens learnt on the first 20 M training characters, a 128-d embedding tied to the read-out, one
#: 256-unit LSTM whose state is carried across windows, no dropout (the run reads about as many characters
#: as the first 60 M training characters it draws from, at random starts), 100 x 100 batches of 32 x 64
#: tokens (20.5 M tokens, about 58 M characters), weights stored at float16. Early stopping (patience 20)
#: ended the shipped run at epoch 88; its best epoch was 68. The second round's model read 40 x 50 batches
#: drawn from the first 20 M characters.
POETRY_RECIPE = TextTrainSettings(
    tokens="bpe", vocab=2048, tokenizer_chars=20_000_000, max_chars=60_000_000, embed=128, hidden=256,
    layers=1, dropout=0.0, tie=True, carry=True, float16=True, epochs=100, steps=100, batch_size=32,
    window=64, lr=3e-3, val_chars=30_000, patience=20)
#: Named starting settings of ``artlens train text --recipe``.
RECIPES = {"char": TextTrainSettings(), "poetry": POETRY_RECIPE}


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


class Windows(NamedTuple):
    """One batch: ``tokens`` ``(rows, window + 1)``; ``fresh``: the rows start anew (no state carried in)."""

    tokens: torch.Tensor
    fresh: bool


def _encode(tokens: Tokens, text: str, chunk: int = 1_000_000) -> np.ndarray:
    """The text's token ids (by pieces cut at line ends, encoded in parallel for subwords)."""
    pieces = line_chunks(text, chunk)
    encode_batch = getattr(tokens, "encode_batch", None)
    dtype = np.uint8 if tokens.vocab_size <= 256 else np.int16 if tokens.vocab_size < 32_768 else np.int32
    arrays = []
    for group in range(0, len(pieces), 4):  # a few pieces at a time: a tokenizer's records are large
        batch = pieces[group:group + 4]
        encoded = encode_batch(batch) if encode_batch is not None else [tokens.encode(p) for p in batch]
        arrays.extend(np.asarray(e, dtype=dtype) for e in encoded)
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype)


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
    if len(train_text_) < settings.window + 2:
        raise TextCorpusError(source, f"has {len(train_text_)} training characters; needs more than "
                                      f"the window of {settings.window}")
    out = Path(out)
    checkpoint = out / CHECKPOINT_FILE
    fingerprint = _fingerprint(split, settings)
    state = load_checkpoint(checkpoint, fingerprint=fingerprint) if resume else None

    torch.manual_seed(settings.seed)
    tokens: Tokens | None = None
    if settings.tokens == "bpe":
        tokens = train_bpe(train_text_[:settings.tokenizer_chars], settings.vocab)
        chars = ""
    else:
        chars = char_vocabulary(train_text_, settings.max_vocab)
    config = TextConfig(chars=chars, embed=settings.embed, hidden=settings.hidden, layers=settings.layers,
                        dropout=settings.dropout, corpus=split.name, init=settings.init,
                        tokens=settings.tokens,
                        vocab=tokens.vocab_size if tokens is not None else 0, tie=settings.tie,
                        weights="float16" if settings.float16 else "float32")
    model = TextModel.create(config, tokens)
    _start(model, settings)
    ids = torch.from_numpy(_encode(model.tokens, train_text_))
    if len(ids) < settings.window + 2:
        raise TextCorpusError(source, f"has {len(ids)} training tokens; needs more than the window of "
                                      f"{settings.window}")
    groups = parameter_groups(model.net, settings.weight_decay)
    optimizer = make_optimizer(groups, lr=settings.lr, weight_decay=settings.weight_decay)
    total_steps = settings.steps * max(1, settings.epochs)
    scheduler = cosine_schedule(optimizer, total_steps, round(settings.warmup * total_steps))
    generator = torch.Generator().manual_seed(settings.seed)
    loss_fn = nn.CrossEntropyLoss()
    span = settings.window + 1
    offsets = torch.arange(span)

    carried: list[tuple[torch.Tensor, torch.Tensor] | None] = [None]

    def batches(epoch: int) -> list[Windows]:
        if settings.carry:  # each row reads on from a random start (wrapping at the end of the text)
            firsts = torch.randint(0, len(ids), (settings.batch_size, 1), generator=generator)
            return [Windows(ids[(firsts + k * settings.window + offsets) % len(ids)].long(), k == 0)
                    for k in range(settings.steps)]
        starts = torch.randint(0, len(ids) - span + 1, (settings.steps, settings.batch_size),
                               generator=generator)
        return [Windows(ids[row[:, None] + offsets].long(), True) for row in starts]

    def loss(batch: Windows) -> torch.Tensor:
        state = None if batch.fresh or not settings.carry else carried[0]
        logits, state = model.net(batch.tokens[:, :-1], state)
        carried[0] = (state[0].detach(), state[1].detach())
        return loss_fn(logits.transpose(1, 2), batch.tokens[:, 1:])

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
