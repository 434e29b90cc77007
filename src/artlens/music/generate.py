"""Composing, continuing and harmonising with a trained model: the library's music entry points.

Every piece is generated in C major or A minor, the common keys the model learnt in (BachBot, Liang et al.
2017, transposes its chorales the same way), and moved to the key asked for afterwards. ``compose`` samples
the requested number of bars after an optional primer; a primer with fewer voices than the model (a melody
for the chorale model) has its missing voices filled in as by ``harmonize``. ``harmonize`` keeps a melody as
the top voice, unchanged, and samples the voices below it (BachBot and DeepBach's constrained sampling).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from artlens.music.errors import MusicFileError, MusicModelError
from artlens.music.export import write_midi, write_musicxml
from artlens.music.model import MusicModel, load_music_model
from artlens.music.piece import REST, Key, Piece, frames_per_bar, parse_key
from artlens.music.read import read_piece, select_voices
from artlens.music.render import piano_roll, render_wav
from artlens.music.sample import FREE, Plan, sample_tokens
from artlens.music.tokens import decode

__all__ = ["MAX_BARS", "Outputs", "compose", "harmonize", "piece_summary", "write_outputs"]

#: Most bars one call may compose.
MAX_BARS = 256
SCHEMA = "artlens.music/1"


def _model(model: MusicModel | str | os.PathLike[str] | None) -> MusicModel:
    return model if isinstance(model, MusicModel) else load_music_model(model)


def _key(key: Key | str | None) -> Key | None:
    if key is None or isinstance(key, Key):
        return key
    try:
        return parse_key(key)
    except ValueError as exc:
        raise MusicModelError(str(exc)) from None


def _melody(source: Piece | str | os.PathLike[str]) -> Piece:
    if isinstance(source, Piece):
        return source
    pieces = read_piece(source)
    return pieces[0]


def _check_sampling(temperature: float, top_p: float) -> None:
    if not 0.05 <= temperature <= 5.0:
        raise MusicModelError(f"temperature must be between 0.05 and 5, not {temperature}")
    if not 0.0 < top_p <= 1.0:
        raise MusicModelError(f"top-p must be above 0 and at most 1, not {top_p}")


def _empty_plan(voices: int, frames: int, mode: str, positions: np.ndarray) -> Plan:
    return Plan(mode, positions, np.full((voices, frames), FREE, dtype=np.int16),
                np.zeros((voices, frames), dtype=bool), np.full(frames, -1, dtype=np.int8))


def _finish(model: MusicModel, tokens: list[int], meter: tuple[int, int], pickup: int, key: Key,
            shift: int, title: str, tempo: float | None) -> Piece:
    piece = decode(tokens, model.config.voices, meter, tempo or model.config.tempo, title)
    piece.pickup = pickup
    names = ("Soprano", "Alto", "Tenor", "Bass") if model.config.voices == 4 else \
        tuple(f"Voice {v + 1}" for v in range(model.config.voices))
    piece = replace(piece, parts=names)
    result = piece.transposed(-shift)
    result.key = key
    return result


def compose(model: MusicModel | str | os.PathLike[str] | None = None, *, bars: int = 16,
            key: Key | str | None = None, meter: tuple[int, int] | None = None, temperature: float = 0.9,
            top_p: float = 0.95, seed: int = 0, primer: Piece | str | os.PathLike[str] | None = None,
            tempo: float | None = None, rules: bool = True) -> Piece:
    """A new piece of ``bars`` bars (after the primer, when one is given).

    Parameters
    ----------
    model
        A :class:`MusicModel`, a model folder, or None for the shipped chorale model.
    key
        ``"D"``, ``"F# minor"``...; by default the primer's key, else C major or A minor (drawn with the seed
        in the proportion of the training pieces).
    meter
        ``(3, 4)``...; by default the primer's, else the model's commonest.
    primer
        A piece or a MIDI, MusicXML or ABC file to continue.
    rules
        Refuse parallel fifths and octaves and voice crossing while sampling (:mod:`artlens.music.rules`).
    """
    model = _model(model)
    _check_sampling(temperature, top_p)
    if not 1 <= bars <= MAX_BARS:
        raise MusicModelError(f"bars must be between 1 and {MAX_BARS}, not {bars}")
    wanted = _key(key)
    given = None
    if primer is not None:
        given = _melody(primer)
        if given.voices >= model.config.voices:
            try:
                given = select_voices(given, model.config.voices)
            except ValueError as exc:
                raise MusicFileError(getattr(primer, "title", primer), str(exc)) from None
        else:
            given = given.voices_subset(list(range(given.voices)))
    rng = np.random.default_rng(seed)
    if wanted is None:
        wanted = given.key if given is not None else \
            Key(9, "minor") if rng.random() < model.config.minor_share else Key(0, "major")
    if meter is None:
        meter = given.meter if given is not None else \
            (tuple(model.config.meters[0][:2]) if model.config.meters else (4, 4))  # type: ignore[assignment]
    shift = wanted.normalising_shift()
    bar = frames_per_bar(meter)
    pickup = given.pickup if given is not None else 0
    head = given.frames if given is not None else 0
    frames = head + bars * bar
    positions = np.array([(f - pickup) % bar for f in range(frames)])
    plan = _empty_plan(model.config.voices, frames, wanted.mode, positions)
    if given is not None:
        moved = given.transposed(given.key.normalising_shift())  # its own key to C major / A minor
        rows = moved.voices
        plan.pitch[:rows, :head] = moved.pitch
        plan.onset[:rows, :head] = moved.onset
        plan.fermata[:head] = moved.fermata
    tokens = sample_tokens(model, plan, temperature=temperature, top_p=top_p, seed=seed, rules=rules)
    title = f"artlens composition (seed {seed})"
    return _finish(model, tokens, meter, pickup, wanted, shift, title, tempo)


def harmonize(melody: Piece | str | os.PathLike[str],
              model: MusicModel | str | os.PathLike[str] | None = None, *, key: Key | str | None = None,
              temperature: float = 0.8, top_p: float = 0.95, seed: int = 0, candidates: int = 8,
              tempo: float | None = None, rules: bool = True) -> Piece:
    """The melody (the top part of the file) as the top voice, unchanged, with the model's other voices.

    ``key`` overrides the key music21 finds in the melody; ``candidates`` harmonisations are drawn and the
    likeliest under the model kept; ``rules`` refuses parallel fifths and octaves and voice crossing.
    """
    model = _model(model)
    _check_sampling(temperature, top_p)
    if model.config.voices < 2:
        raise MusicModelError("this model has one voice: harmonising needs a model of several "
                              "(the chorale model, or one trained on a multi-part corpus)")
    if not 1 <= candidates <= 64:
        raise MusicModelError(f"candidates must be between 1 and 64, not {candidates}")
    source = _melody(melody).voices_subset([0])
    wanted = _key(key) or source.key
    shift = wanted.normalising_shift()
    moved = source.transposed(shift)
    positions = np.array([moved.position(f) for f in range(moved.frames)])
    plan = _empty_plan(model.config.voices, moved.frames, wanted.mode, positions)
    plan.pitch[0] = moved.pitch[0]
    plan.onset[0] = moved.onset[0]
    plan.fermata[:] = moved.fermata
    tokens = sample_tokens(model, plan, temperature=temperature, top_p=top_p, seed=seed,
                           candidates=candidates, rules=rules)
    title = f"{source.title} (harmonised)" if source.title else "artlens harmonisation"
    result = _finish(model, tokens, source.meter, source.pickup, wanted, shift, title,
                     tempo or source.tempo)
    result.pitch[0] = np.where(source.pitch[0] == REST, REST, source.pitch[0])  # exactly the given melody
    result.onset[0] = source.onset[0]
    return result


@dataclass
class Outputs:
    """Where to write a piece: any of MIDI, MusicXML, WAV and piano-roll PNG."""

    midi: Path | None = None
    musicxml: Path | None = None
    wav: Path | None = None
    roll: Path | None = None


def write_outputs(piece: Piece, outputs: Outputs, *, program: int = 0,
                  soundfont: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Write the piece in every format ``outputs`` names; the paths written by format."""
    written: dict[str, str] = {}
    if outputs.midi is not None:
        written["midi"] = str(write_midi(piece, outputs.midi, program=program))
    if outputs.musicxml is not None:
        written["musicxml"] = str(write_musicxml(piece, outputs.musicxml))
    if outputs.wav is not None:
        written["wav"] = str(render_wav(piece, outputs.wav, program=program, soundfont=soundfont))
    if outputs.roll is not None:
        piano_roll(piece, outputs.roll)
        written["roll"] = str(outputs.roll)
    return written


def piece_summary(piece: Piece, files: dict[str, str] | None = None) -> dict[str, Any]:
    """A JSON-ready record of a piece (schema ``artlens.music/1``)."""
    return {"schema": SCHEMA, "title": piece.title, "key": str(piece.key),
            "meter": f"{piece.meter[0]}/{piece.meter[1]}", "bars": round(piece.bars, 3),
            "frames": piece.frames, "seconds": round(piece.seconds, 3), "tempo": piece.tempo,
            "voices": [{"name": piece.parts[v] if v < len(piece.parts) else f"voice {v + 1}",
                        "notes": len(piece.notes(v))} for v in range(piece.voices)],
            "fermatas": int(piece.fermata.sum()), "files": files or {}}
