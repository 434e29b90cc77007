"""The token LSTM behind artlens's sequence models (the chorale model of :mod:`artlens.music`, the character
model of :mod:`artlens.text`), and a fast step-by-step runner of it for sampling.

:class:`TokenLSTM` is an embedding, a stacked LSTM (Hochreiter & Schmidhuber, Neural Computation 1997, with
the forget gate of Gers et al. 2000, as PyTorch defines it) with dropout between layers, and a linear
read-out to the vocabulary. Its state-dict keys (``embed``, ``lstm``, ``head``) are those of every model
folder artlens has written.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

__all__ = ["LSTMShape", "Stepper", "TokenLSTM"]


class LSTMShape(Protocol):
    """What a model config must say to build a :class:`TokenLSTM`."""

    @property
    def vocab_size(self) -> int: ...

    embed: int
    hidden: int
    layers: int
    dropout: float


class TokenLSTM(nn.Module):
    """Embedding, stacked LSTM with dropout, linear read-out to the vocabulary."""

    def __init__(self, config: LSTMShape) -> None:
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.embed)
        self.lstm = nn.LSTM(config.embed, config.hidden, num_layers=config.layers, batch_first=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def forward(self, tokens: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Logits ``(batch, time, vocab)`` for the token after each of ``tokens`` ``(batch, time)``."""
        hidden, state = self.lstm(self.embed(tokens), state)
        return self.head(self.drop(hidden)), state


class Stepper:
    """Token-by-token inference for sampling, with each layer's four gates in one matrix product.

    ``torch.lstm`` costs about 1.5 ms a call for one token on a CPU, five times the arithmetic; sampling makes
    one call per token, so this plain loop (the LSTM equations of Hochreiter & Schmidhuber 1997 with forget
    gate, as PyTorch defines them) makes composing five times faster. Dropout is off, as in eval mode.
    """

    def __init__(self, net: TokenLSTM) -> None:
        lstm = net.lstm
        self.embed = net.embed.weight.detach()
        self.head_w, self.head_b = net.head.weight.detach().t().contiguous(), net.head.bias.detach()
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
        return torch.addmm(self.head_b, x, self.head_w), state
