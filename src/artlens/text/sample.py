"""Sampling text from a character LSTM: temperature and nucleus (top-p) sampling, seeded, line by line.

Temperature scales the logits; nucleus sampling (Holtzman et al. 2020, "The curious case of neural text
degeneration", ICLR) draws only from the smallest set of characters whose probability reaches ``top_p``. The
model is primed with a newline and the prompt text, so it continues as if a new line began there.
"""

from __future__ import annotations

import torch

from artlens.errors import ConfigError
from artlens.text.model import TextModel

__all__ = ["MAX_CHARS", "sample_text"]

MAX_CHARS = 4000


def _draw(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator) -> torch.Tensor:
    logits = logits.clone()
    logits[:, 0] = float("-inf")  # never the unknown character
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        ordered, order = probs.sort(dim=-1, descending=True)
        drop = ordered.cumsum(dim=-1) - ordered > top_p
        ordered[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(1, order, ordered)
    return torch.multinomial(probs, 1, generator=generator)


def sample_text(model: TextModel, *, prime: str = "", lines: int = 8, temperature: float = 0.8,
                top_p: float = 0.95, seed: int = 0, rows: int = 1, max_chars: int = MAX_CHARS) -> list[str]:
    """``rows`` texts: ``prime`` and ``lines`` more non-empty lines after it; repeatable for a ``seed``."""
    if not temperature > 0:
        raise ConfigError(f"temperature must be positive, not {temperature}")
    if not 0 < top_p <= 1:
        raise ConfigError(f"top_p must be in (0, 1], not {top_p}")
    if lines < 1:
        raise ConfigError(f"lines must be at least 1, not {lines}")
    generator = torch.Generator().manual_seed(seed)
    step = model.stepper()
    newline = model.index.get("\n", 0)
    with torch.inference_mode():
        state = step.start(rows)
        primer = [newline, *model.encode(prime)] if newline else model.encode(prime) or [1]
        logits, state = step(torch.tensor([primer] * rows, dtype=torch.long), state)
        out: list[list[int]] = [[] for _ in range(rows)]
        done = [False] * rows
        counts = [0] * rows
        current = [bool(prime.split("\n")[-1].strip())] * rows  # whether the line being written has text
        for _ in range(max_chars):
            token = _draw(logits, temperature, top_p, generator)
            for r in range(rows):
                if done[r]:
                    continue
                t = int(token[r])
                if t == newline:
                    if current[r]:
                        counts[r] += 1
                        current[r] = False
                    if counts[r] >= lines:
                        done[r] = True
                        continue
                elif model.decode([t]).strip():
                    current[r] = True
                out[r].append(t)
            if all(done):
                break
            logits, state = step(token, state)
    texts = []
    for r in range(rows):
        text = prime + model.decode(out[r])
        kept = [line.rstrip() for line in text.split("\n")]
        texts.append("\n".join(kept).strip("\n"))
    return texts
