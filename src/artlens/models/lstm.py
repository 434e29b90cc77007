"""The token LSTM behind artlens's sequence models (the chorale model of :mod:`artlens.music`, the character
model of :mod:`artlens.text`), and a fast step-by-step runner of it for sampling.

:class:`TokenLSTM` is an embedding, a stacked LSTM (Hochreiter & Schmidhuber, Neural Computation 1997, with
the forget gate of Gers et al. 2000, as PyTorch defines it) with dropout between layers, and a linear
read-out to the vocabulary. Its state-dict keys (``embed``, ``lstm``, ``head``) are those of every model
folder artlens has written. With ``tie`` the read-out shares the embedding's matrix (Press & Wolf, "Using the
Output Embedding to Improve Language Models", EACL 2017; Inan et al., ICLR 2017): the LSTM's output goes
through a linear ``proj`` down to the embedding's width (when the two differ) and the read-out keeps only its
bias, so a large vocabulary costs its embedding once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import torch
from torch import nn

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "LSTMShape", "Stepper", "TiedReadout", "TokenLSTM", "load_folder",
           "save_folder"]

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
C = TypeVar("C")


class LSTMShape(Protocol):
    """What a model config must say to build a :class:`TokenLSTM`."""

    @property
    def vocab_size(self) -> int: ...

    embed: int
    hidden: int
    layers: int
    dropout: float


class TiedReadout(nn.Module):
    """The read-out of a tied model: the embedding's matrix (given at each call) and a bias of its own."""

    def __init__(self, vocab_size: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, features: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(features, weight, self.bias)


class TokenLSTM(nn.Module):
    """Embedding, stacked LSTM with dropout, linear read-out to the vocabulary (tied to the embedding when
    the config says ``tie``)."""

    def __init__(self, config: LSTMShape) -> None:
        super().__init__()
        self.tied = bool(getattr(config, "tie", False))
        self.embed = nn.Embedding(config.vocab_size, config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, num_layers=config.layers, batch_first=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.proj: nn.Linear | None = None
        self.head: nn.Module
        if self.tied:
            if config.hidden != config.embed:
                self.proj = nn.Linear(config.hidden, config.embed, bias=False)
            self.head = TiedReadout(config.vocab_size)
            # the shared matrix also scales the logits: N(0, 1/embed) keeps them near 1 at the start
            nn.init.normal_(self.embed.weight, std=config.embed ** -0.5)
        else:
            self.head = nn.Linear(config.hidden, config.vocab_size)

    def read_out(self, hidden: torch.Tensor) -> torch.Tensor:
        """Logits from the last LSTM layer's output."""
        if not self.tied:
            return self.head(hidden)
        if self.proj is not None:
            hidden = self.proj(hidden)
        return self.head(hidden, self.embed.weight)

    def forward(self, tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits ``(batch, time, vocab)`` for the token after each of ``tokens`` ``(batch, time)``."""
        hidden, state = self.lstm(self.embed(tokens), state)
        return self.read_out(self.drop(hidden)), state


class Stepper:
    """Token-by-token inference for sampling, with each layer's four gates in one matrix product.

    ``torch.lstm`` costs about 1.5 ms a call for one token on a CPU, five times the arithmetic; sampling makes
    one call per token, so this plain loop (the LSTM equations of Hochreiter & Schmidhuber 1997 with forget
    gate, as PyTorch defines them) makes composing five times faster. Dropout is off, as in eval mode.
    """

    def __init__(self, net: TokenLSTM) -> None:
        lstm = net.lstm
        self.embed = net.embed.weight.detach()
        head_w = net.embed.weight if net.tied else net.head.weight
        self.head_w, self.head_b = head_w.detach().t().contiguous(), net.head.bias.detach()
        self.proj = net.proj.weight.detach().t().contiguous() if net.proj is not None else None
        self.layers = []
        for k in range(lstm.num_layers):
            w_ih, w_hh = getattr(lstm, f"weight_ih_l{k}").detach(), getattr(lstm, f"weight_hh_l{k}").detach()
            bias = (getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")).detach()
            self.layers.append((torch.cat([w_ih, w_hh], dim=1).t().contiguous(), bias))
        self.hidden = lstm.hidden_size

    def start(self, rows: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        zero = torch.zeros(rows, self.hidden)
        return [(zero, zero) for _ in self.layers]

    def __call__(self, tokens: torch.Tensor, state: list[tuple[torch.Tensor, torch.Tensor]]
                 ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Feed ``tokens`` ``(rows, time)``; the logits after the last one ``(rows, vocab)`` and the state.

        The weights are detached, so no graph is built; call it under ``torch.inference_mode()`` as the
        sampler does, to skip autograd's bookkeeping as well.
        """
        for t in range(tokens.shape[1]):
            x = self.embed[tokens[:, t]]
            new_state = []
            for (weight, bias), (h, c) in zip(self.layers, state, strict=True):
                gates = torch.addmm(bias, torch.cat([x, h], dim=1), weight)
                i, f, g, o = gates.chunk(4, dim=1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
                new_state.append((h, c))
                x = h
            state = new_state
        if self.proj is not None:
            x = x @ self.proj
        return torch.addmm(self.head_b, x, self.head_w), state


def save_folder(folder: str | os.PathLike[str], net: nn.Module, config: Mapping[str, Any], schema: str, *,
                indent: int = 2, ensure_ascii: bool = True, dtype: torch.dtype | None = None) -> Path:
    """Write ``config.json`` (``{"schema": schema, **config}``) and ``model.safetensors`` into ``folder``
    (created); ``dtype`` (e.g. ``torch.float16``) stores the floating-point weights at that precision
    (:func:`load_folder` loads them back into the network's own precision)."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {}
    for k, v in net.state_dict().items():
        stored = v.to(dtype) if dtype is not None and v.is_floating_point() else v
        state[k] = stored.detach().contiguous().cpu()
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"schema": schema})
    data = {"schema": schema, **config}
    (folder / CONFIG_FILE).write_text(json.dumps(data, indent=indent, ensure_ascii=ensure_ascii) + "\n",
                                      encoding="utf-8")
    return folder


def load_folder(folder: str | os.PathLike[str], schema: str | tuple[str, ...],
                build: Callable[[dict[str, Any]], tuple[C, nn.Module]], error: Callable[[str], Exception], *,
                kind: str, command: str) -> tuple[C, nn.Module, Path]:
    """Read a folder written by :func:`save_folder` (with ``schema``, or one of several): ``build(config
    dict)`` makes the config and the network, the weights are loaded into it and it is put in eval mode.
    Every problem (files missing, a
    config that cannot be read, of another schema or with impossible sizes, weights that do not fit) is
    ``error(message)``, a message naming the file and what is wrong."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not config_path.is_file() or not weights_path.is_file():
        raise error(f"{folder}: not a {kind} model folder (needs {CONFIG_FILE} and {WEIGHTS_FILE}; make one "
                    f"with '{command}')")
    try:
        data = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise error(f"{config_path}: cannot be read ({exc})") from None
    schemas = (schema,) if isinstance(schema, str) else schema
    if not isinstance(data, dict) or data.get("schema") not in schemas:
        found = data.get("schema") if isinstance(data, dict) else None
        known = " or ".join(schemas)
        raise error(f"{config_path}: not an {known} config" + (f" (it says {found!r}: made by another "
                    "version of artlens?)" if isinstance(found, str) else ""))
    try:
        config, net = build(data)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise error(f"{config_path}: bad sizes ({str(exc)[:120]})") from None
    try:
        net.load_state_dict(load_file(str(weights_path)))
    except (SafetensorError, RuntimeError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise error(f"{weights_path}: weights do not fit the config ({reason})") from None
    net.eval()
    return config, net, folder
