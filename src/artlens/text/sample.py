"""Sampling text from an LSTM text model: temperature and nucleus (top-p) sampling, seeded, line by line.

Temperature scales the logits; nucleus sampling (Holtzman et al. 2020, "The curious case of neural text
degeneration", ICLR) draws only from the smallest set of tokens whose probability reaches ``top_p``. The
model is primed with a newline and the prompt text, so it continues as if a new line began there. Tokens are
characters or subwords; their bytes are written out, so lines are counted the same way for both.
:func:`sample_text` returns whole texts; :func:`sample_stream` yields one text's pieces as they are drawn.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import torch

from artlens.errors import ConfigError
from artlens.text.model import TextModel

__all__ = ["MAX_CHARS", "sample_stream", "sample_text", "tidy_text"]

#: the most tokens drawn for one text
MAX_CHARS = 4000
_SPACE = frozenset(b" \t\r\n\x0b\x0c")


def _draw(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator,
          never: int | None) -> torch.Tensor:
    logits = logits.clone()
    if never is not None:
        logits[:, never] = float("-inf")  # never the unknown character
    probs = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        ordered, order = probs.sort(dim=-1, descending=True)
        drop = ordered.cumsum(dim=-1) - ordered > top_p
        ordered[drop] = 0.0
        probs = torch.zeros_like(probs).scatter(1, order, ordered)
    return torch.multinomial(probs, 1, generator=generator)


def _check(temperature: float, top_p: float, lines: int) -> None:
    if not temperature > 0:
        raise ConfigError(f"temperature must be positive, not {temperature}")
    if not 0 < top_p <= 1:
        raise ConfigError(f"top_p must be in (0, 1], not {top_p}")
    if lines < 1:
        raise ConfigError(f"lines must be at least 1, not {lines}")


class _Lines:
    """One row's line count: takes each token's bytes and keeps those before the last line's end."""

    def __init__(self, lines: int, writing: bool) -> None:
        self.lines, self.count, self.writing, self.done = lines, 0, writing, False

    def take(self, piece: bytes) -> bytes:
        for i, byte in enumerate(piece):
            if byte == 10:
                if self.writing:
                    self.count += 1
                    self.writing = False
                if self.count >= self.lines:
                    self.done = True
                    return piece[:i]
            elif byte not in _SPACE:
                self.writing = True
        return piece


def _generate(model: TextModel, prime: str, lines: int, temperature: float, top_p: float, seed: int,
              rows: int, max_chars: int) -> Iterator[list[bytes]]:
    """Each step, the new bytes of every row (empty once a row has its lines)."""
    _check(temperature, top_p, lines)
    generator = torch.Generator().manual_seed(seed)
    step = model.stepper()
    tokens = model.tokens
    never = 0 if model.config.tokens == "char" else None
    newline = tokens.newline
    with torch.inference_mode():
        state = step.start(rows)
        primer = [newline, *model.encode(prime)] if newline else model.encode(prime) or [1]
        logits, state = step(torch.tensor([primer] * rows, dtype=torch.long), state)
        counters = [_Lines(lines, bool(prime.split("\n")[-1].strip())) for _ in range(rows)]
        for _ in range(max_chars):
            token = _draw(logits, temperature, top_p, generator, never)
            out = []
            for r, counter in enumerate(counters):
                out.append(b"" if counter.done else counter.take(tokens.piece(int(token[r]))))
            yield out
            if all(c.done for c in counters):
                break
            logits, state = step(token, state)


def tidy_text(text: str) -> str:
    """A sampled text as :func:`sample_text` returns it: trailing spaces and the outer line breaks gone."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def sample_text(model: TextModel, *, prime: str = "", lines: int = 8, temperature: float = 0.8,
                top_p: float = 0.95, seed: int = 0, rows: int = 1, max_chars: int = MAX_CHARS) -> list[str]:
    """``rows`` texts: ``prime`` and ``lines`` more non-empty lines after it; repeatable for a ``seed``."""
    out = [bytearray() for _ in range(rows)]
    for pieces in _generate(model, prime, lines, temperature, top_p, seed, rows, max_chars):
        for buffer, piece in zip(out, pieces, strict=True):
            buffer += piece
    return [tidy_text(prime + bytes(b).decode("utf-8", errors="replace")) for b in out]


def sample_stream(model: TextModel, *, prime: str = "", lines: int = 8, temperature: float = 0.8,
                  top_p: float = 0.95, seed: int = 0, max_chars: int = MAX_CHARS) -> Iterator[str]:
    """One text's pieces as they are drawn (the prime first); joined and given to :func:`tidy_text`, they
    are the text :func:`sample_text` returns for the same arguments."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    if prime:
        yield prime
    for pieces in _generate(model, prime, lines, temperature, top_p, seed, 1, max_chars):
        text = decoder.decode(pieces[0])
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail
