"""Constrained sampling from a music model: free voices sampled, given ones held fixed.

One routine serves composing, continuing a primer and harmonising. A :class:`Plan` fixes the frame grid (bars,
meter) and, per frame and voice, either a given note or nothing; the bar-position tokens are always given, so
the piece has exactly the bars asked for. Free voice tokens are drawn with temperature and nucleus (top-p)
sampling (Holtzman et al. 2020, "The curious case of neural text degeneration", ICLR) from the tokens a voice
may take there: a rest, a new note within the range the voice had in training, or the held continuation of
the note it sounds (a hold of any other pitch would be meaningless). Harmonising with the soprano given is
BachBot's constrained sampling (Liang et al. 2017); DeepBach (Hadjeres et al. 2017, ICML) constrains voices
the same way with a Gibbs sampler. ``candidates`` harmonisations are drawn side by side and the one the model
finds likeliest is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from artlens.models.backbones import one_thread
from artlens.music.model import MusicModel
from artlens.music.piece import REST
from artlens.music.rules import forbidden_pitches
from artlens.music.tokens import (
    END,
    FERMATA,
    MAJOR,
    MINOR,
    REST_TOKEN,
    START,
    VOCAB,
    VOCAB_SIZE,
    hold_token,
    onset_token,
    position_token,
)

__all__ = ["FREE", "Plan", "sample_tokens"]

#: A pitch left to the model in :attr:`Plan.pitch`.
FREE = -2


@dataclass
class Plan:
    """What is given before sampling.

    ``pitch`` is ``(voices, frames)``: a MIDI pitch, :data:`~artlens.music.piece.REST`, or :data:`FREE`;
    ``onset`` says whether a given pitch starts there. ``fermata`` is ``(frames,)``: 1 or 0 when given, -1
    when the model chooses (only where the first voice is free). ``positions`` are the frames' bar positions.
    """

    mode: str
    positions: np.ndarray
    pitch: np.ndarray
    onset: np.ndarray
    fermata: np.ndarray


def _masks(model: MusicModel) -> list[torch.Tensor]:
    """Per voice, the tokens it may take whatever came before: a rest or a new note within its range."""
    masks = []
    for low, high in model.config.ranges:
        mask = torch.zeros(VOCAB_SIZE, dtype=torch.bool)
        mask[REST_TOKEN] = True
        mask[onset_token(low):onset_token(high) + 1] = True
        masks.append(mask)
    return masks


def _given_token(pitch: int, onset: bool) -> int:
    if pitch == REST:
        return REST_TOKEN
    return onset_token(pitch) if onset else hold_token(pitch)


class _Run:
    """``rows`` sequences sampled in step: tokens given or drawn, fed to the LSTM in blocks."""

    def __init__(self, model: MusicModel, rows: int, seed: int, temperature: float, top_p: float) -> None:
        self.step, self.rows = model.stepper(), rows
        self.generator = torch.Generator().manual_seed(seed)
        self.temperature, self.top_p = temperature, top_p
        self.pending: list[torch.Tensor] = []
        self.steps: list[torch.Tensor] = []
        self.score = torch.zeros(rows, dtype=torch.float64)
        self.state = self.step.start(rows)

    def give(self, token: int | torch.Tensor) -> None:
        column = torch.full((self.rows,), token, dtype=torch.long) if isinstance(token, int) else token
        self.pending.append(column)
        self.steps.append(column)

    def logits(self) -> torch.Tensor:
        block = torch.stack(self.pending, dim=1)
        logits, self.state = self.step(block, self.state)
        self.pending = []
        return logits

    def draw(self, allowed: torch.Tensor, logits: torch.Tensor | None = None) -> torch.Tensor:
        """Draw one token per row among ``allowed`` ``(rows, vocab)``, add its log-probability, give it."""
        logits = self.logits() if logits is None else logits
        scores = logits.masked_fill(~allowed, float("-inf")) / max(self.temperature, 1e-4)
        probs = torch.softmax(scores, dim=-1)
        ordered, index = torch.sort(probs, dim=-1, descending=True)
        cumulative = torch.cumsum(ordered, dim=-1)
        if self.top_p < 1.0:  # the smallest set of likeliest tokens reaching top_p
            cumulative = torch.cumsum(ordered * (cumulative - ordered < self.top_p), dim=-1)
        # inverse-CDF draw (torch.multinomial costs a third of a millisecond a call on a CPU)
        u = torch.rand((len(probs), 1), generator=self.generator) * cumulative[:, -1:]
        choice = torch.clamp((cumulative <= u).sum(dim=1, keepdim=True), max=probs.shape[1] - 1)
        token = index.gather(1, choice).squeeze(1)
        self.score += torch.log_softmax(logits.double(), dim=-1).gather(1, token[:, None]).squeeze(1)
        self.give(token)
        return token

    def tokens(self, row: int) -> list[int]:
        return [int(t) for t in torch.stack(self.steps, dim=1)[row]]


def _notes(tokens: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The sounding pitch (or REST) and whether a note starts, for each voice token of ``tokens``."""
    notes = [VOCAB.note(int(t)) for t in tokens]
    return np.array([p for p, _ in notes]), np.array([o for _, o in notes])


class _Frames:
    """Per row, the pitches of the frame before, of the last sonority (frame where a note started) and of
    the frame being written."""

    def __init__(self, rows: int, voices: int) -> None:
        self.previous = np.full((rows, voices), REST)
        self.sonority = self.previous.copy()
        self.current = self.previous.copy()
        self.struck = np.zeros(rows, dtype=bool)

    def set(self, voice: int, pitches: np.ndarray | int, onsets: np.ndarray | bool) -> None:
        self.current[:, voice] = pitches
        self.struck |= onsets

    def advance(self) -> None:
        self.sonority[self.struck] = self.current[self.struck]
        self.previous = self.current.copy()
        self.struck[:] = False


@torch.inference_mode()
def sample_tokens(model: MusicModel, plan: Plan, *, temperature: float = 0.9, top_p: float = 0.95,
                  seed: int = 0, candidates: int = 1, rules: bool = False) -> list[int]:
    """The tokens of a piece following ``plan``, ending with ``<end>``.

    With ``candidates`` > 1 (every fermata given), that many are drawn side by side and the one with the
    highest log-probability of the model's own choices is returned. ``rules`` refuses parallel fifths and
    octaves and voice crossing (:func:`~artlens.music.rules.forbidden_pitches`).
    """
    voices = plan.pitch.shape[0]
    if voices != model.config.voices:
        raise ValueError(f"the plan has {voices} voices, the model {model.config.voices}")
    if candidates > 1 and (plan.fermata < 0).any():
        raise ValueError("several candidates need every fermata given")
    if ((plan.fermata < 0) & (plan.pitch[0] != FREE)).any():
        raise ValueError("a fermata can be left to the model only where the first voice is")
    with one_thread():
        return _sample(model, plan, temperature, top_p, seed, candidates, rules)


def _sample(model: MusicModel, plan: Plan, temperature: float, top_p: float, seed: int,
            candidates: int, rules: bool) -> list[int]:
    voices, frames = plan.pitch.shape
    masks = _masks(model)
    run = _Run(model, candidates, seed, temperature, top_p)
    run.give(START)
    run.give(MINOR if plan.mode == "minor" else MAJOR)
    grid = _Frames(candidates, voices)
    for frame in range(frames):
        run.give(position_token(int(plan.positions[frame])))
        start = 0
        if plan.fermata[frame] == 1:
            run.give(FERMATA)
        elif plan.fermata[frame] < 0:  # the model decides: a fermata, or straight on to the first voice
            allowed = _allowed(masks[0], grid.previous[:, 0])
            allowed[:, FERMATA] = True
            token = run.draw(allowed)
            if int(token[0]) != FERMATA:
                grid.set(0, *_notes(token))
                start = 1
        _voices(run, plan, masks, frame, grid, start, rules)
        grid.advance()
    run.give(END)
    best = int(torch.argmax(run.score)) if candidates > 1 else 0
    return run.tokens(best)


def _allowed(mask: torch.Tensor, previous: np.ndarray, refused: np.ndarray | None = None) -> torch.Tensor:
    """``mask`` for every row less the ``refused`` ``(rows, 128)`` onsets, plus each row's hold of the pitch
    its voice sounds."""
    allowed = mask.expand(len(previous), -1).clone()
    if refused is not None:
        allowed[:, onset_token(0):onset_token(127) + 1] &= ~torch.from_numpy(refused)
    for row, pitch in enumerate(previous):
        if pitch != REST:
            allowed[row, hold_token(int(pitch))] = True
    return allowed


def _voices(run: _Run, plan: Plan, masks: list[torch.Tensor], frame: int, grid: _Frames, start: int,
            rules: bool) -> None:
    """Give or draw the voices ``start``... of ``frame`` into ``grid.current``."""
    for voice in range(start, plan.pitch.shape[0]):
        given = int(plan.pitch[voice, frame])
        if given != FREE:
            onset = bool(plan.onset[voice, frame])
            run.give(_given_token(given, onset))
            grid.set(voice, given, onset)
        else:
            refused = forbidden_pitches(grid.sonority, grid.current, voice) if rules and voice else None
            grid.set(voice, *_notes(run.draw(_allowed(masks[voice], grid.previous[:, voice], refused))))
