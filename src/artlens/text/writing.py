"""Writing a poem, story, caption or gallery label: with the prompted model, or in a trained LSTM's style.

:func:`write` builds the request's subject from ``about`` and, with an image, what
:func:`~artlens.text.grounding.ground_image` sees; the prompted model (SmolLM2-135M-Instruct) gets an
instruction in its chat template, a style model (a character LSTM from ``artlens train text``) is primed with
a title line made of the subject. The record follows ``artlens.write/1`` and keeps the prompt and grounding.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from artlens.errors import ConfigError
from artlens.text.grounding import Grounding, ground_image

__all__ = ["KINDS", "SCHEMA", "WriteRequest", "build_prompt", "write", "write_stream"]

SCHEMA = "artlens.write/1"
KINDS = ("poem", "story", "caption", "label")
_SYSTEM = "You are a careful writer for art galleries and online shops. Answer with the text only."
_ASK = {
    "poem": "Write a short poem of {lines} lines about {subject}.",
    "story": "Write a very short story, about {lines} sentences, about {subject}.",
    "caption": "Write a one- or two-sentence product caption for an online shop, for {subject}.",
    "label": "Write a short museum gallery label for an artwork: a title on the first line, then two or "
             "three sentences about {subject}.",
}
#: lines the style model writes per kind when ``lines`` is not given
_LSTM_LINES = {"poem": 12, "story": 10, "caption": 2, "label": 4}


@dataclass(frozen=True)
class WriteRequest:
    """What to write: the kind, the subject, and how (``style``: a text model folder or ``"poetry"``)."""

    kind: str = "poem"
    about: str | None = None
    style: str | os.PathLike[str] | None = None
    lines: int | None = None
    seed: int = 0
    temperature: float = 0.7
    max_new_tokens: int = 220

    def check(self) -> WriteRequest:
        if self.kind not in KINDS:
            raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.lines is not None and not 1 <= self.lines <= 60:
            raise ConfigError(f"lines must be between 1 and 60, not {self.lines}")
        if not 0 < self.temperature <= 3:
            raise ConfigError(f"temperature must be in (0, 3], not {self.temperature}")
        if self.about is not None and len(self.about) > 500:
            raise ConfigError("about must be at most 500 characters")
        return self


def _subject(about: str | None, grounding: Grounding | None) -> str:
    parts = [about.strip()] if about and about.strip() else []
    if grounding is not None:
        parts.append(grounding.describe())
    return "; ".join(parts) or "the quiet of an empty gallery"


def build_prompt(request: WriteRequest, grounding: Grounding | None = None) -> str:
    """The instruction the prompted model is given (before its chat template)."""
    lines = request.lines or {"poem": 8, "story": 6}.get(request.kind, 3)
    return _ASK[request.kind].format(lines=lines, subject=_subject(request.about, grounding))


def _title(request: WriteRequest, grounding: Grounding | None) -> str:
    if request.about and request.about.strip():
        return request.about.strip()[:80].capitalize()
    if grounding is not None and grounding.labels:
        return str(grounding.labels[0]["label"]).split(",")[0].strip().capitalize()
    return ""


def _record(request: WriteRequest, engine: str, model: str, prompt: str, grounding: Grounding | None,
            text: str) -> dict[str, Any]:
    return {"schema": SCHEMA, "kind": request.kind, "engine": engine, "model": model,
            "about": request.about, "prompt": prompt,
            "grounding": grounding.as_dict() if grounding is not None else None,
            "seed": request.seed, "temperature": request.temperature, "lines": request.lines, "text": text}


def _prepare(request: WriteRequest, image: np.ndarray | None) -> tuple[WriteRequest, Grounding | None]:
    request = request.check()
    return request, ground_image(image) if image is not None else None


def _style_sampling(request: WriteRequest, grounding: Grounding | None) -> tuple[Any, str, dict[str, Any]]:
    """The style model, its prime (a title line) and the sampler's arguments for ``request``."""
    from artlens.text.model import load_text_model

    model = load_text_model(request.style)
    prime = _title(request, grounding)
    prime = f"{prime}\n" if prime else ""
    lines = request.lines or _LSTM_LINES[request.kind]
    # the subject goes into the sampling seed: a weak LSTM forgets a title line within a few characters,
    # and with the same random draws two subjects would get the same poem
    seed = zlib.crc32(prime.encode("utf-8"), request.seed & 0xFFFFFFFF)
    return model, prime, {"prime": prime, "lines": lines, "temperature": request.temperature, "seed": seed}


def _style_name(model: Any) -> str:
    return model.path.name if model.path is not None else "poetry"


def write(request: WriteRequest, image: np.ndarray | None = None, *, prompted_path: str | None = None
          ) -> dict[str, Any]:
    """Write the text ``request`` asks for (about ``image`` when given); an ``artlens.write/1`` record."""
    request, grounding = _prepare(request, image)
    if request.style is not None:
        from artlens.text.sample import sample_text

        model, prime, options = _style_sampling(request, grounding)
        text = sample_text(model, **options)[0]
        return _record(request, "lstm", _style_name(model), prime, grounding, text)
    from artlens.text.prompted import load_prompted

    lm = load_prompted(prompted_path)
    prompt = build_prompt(request, grounding)
    text = lm.generate([lm.chat_prompt(prompt, _SYSTEM)], max_new_tokens=request.max_new_tokens,
                       temperature=request.temperature, seed=request.seed)[0]
    return _record(request, "prompted", lm.name, prompt, grounding, text)


def write_stream(request: WriteRequest, image: np.ndarray | None = None, *, prompted_path: str | None = None
                 ) -> Iterator[str | dict[str, Any]]:
    """Like :func:`write`, yielding the text piece by piece as the model (prompted or LSTM) makes it, then
    the record (whose text is the same as :func:`write`'s for the same request)."""
    request, grounding = _prepare(request, image)
    if request.style is not None:
        from artlens.text.sample import sample_stream, tidy_text

        model, prime, options = _style_sampling(request, grounding)
        pieces = []
        for piece in sample_stream(model, **options):
            pieces.append(piece)
            yield piece
        yield _record(request, "lstm", _style_name(model), prime, grounding, tidy_text("".join(pieces)))
        return
    from artlens.text.prompted import load_prompted

    lm = load_prompted(prompted_path)
    prompt = build_prompt(request, grounding)
    pieces = []
    for piece in lm.stream(lm.chat_prompt(prompt, _SYSTEM), max_new_tokens=request.max_new_tokens,
                           temperature=request.temperature, seed=request.seed):
        pieces.append(piece)
        yield piece
    yield _record(request, "prompted", lm.name, prompt, grounding, "".join(pieces).strip())
