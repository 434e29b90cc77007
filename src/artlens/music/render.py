"""Rendering a piece offline: audio through a SoundFont, and a piano-roll picture.

Audio is synthesised with TinySoundFont (the ``tinysoundfont`` package, MIT) from the General MIDI SoundFont
TimGM6mb, a 6 MB file that the ``pretty_midi`` wheel carries; :mod:`artlens.weights` resolves it by SHA-256
(``artlens weights fetch timgm6mb``), never from anywhere else at run time. The piano roll is drawn with
Pillow: one row per semitone, one colour per voice, bar lines, and fermatas as marks above the notes.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from artlens.music.errors import MusicFileError
from artlens.music.piece import FRAMES_PER_QUARTER, Piece

__all__ = ["SOUNDFONT", "TAIL_SECONDS", "piano_roll", "render_wav", "synthesize"]

#: The registered weight name of the SoundFont.
SOUNDFONT = "timgm6mb"
#: Seconds of release after the last note.
TAIL_SECONDS = 1.0
_COLOURS = [(214, 39, 40), (31, 119, 180), (44, 160, 44), (148, 103, 189), (255, 127, 14), (140, 86, 75)]


def _soundfont(path: str | os.PathLike[str] | None) -> Path:
    from artlens.weights import resolve

    return resolve(SOUNDFONT, path)


def synthesize(piece: Piece, *, program: int = 0, sample_rate: int = 22050,
               soundfont: str | os.PathLike[str] | None = None) -> np.ndarray:
    """The piece as int16 stereo samples ``(n, 2)``: its length plus :data:`TAIL_SECONDS`, the loudest
    sample at -1 dBFS."""
    try:
        import tinysoundfont
    except ImportError:
        raise MusicFileError("tinysoundfont", "not installed, so no audio can be rendered: "
                             "pip install --no-deps tinysoundfont") from None
    font = _soundfont(soundfont)
    synth = tinysoundfont.Synth(samplerate=sample_rate, gain=-3)
    try:
        sfid = synth.sfload(str(font))
    except Exception as exc:  # tinysoundfont raises its own exception kinds
        raise MusicFileError(font, f"cannot be loaded as a SoundFont ({exc})") from None
    channels = [v if v < 9 else v + 1 for v in range(piece.voices)]
    for channel in channels:
        synth.program_select(channel, sfid, 0, program)
    seconds_per_frame = 60.0 / piece.tempo / FRAMES_PER_QUARTER
    events: list[tuple[int, int, int, int]] = []  # (sample, on, channel, pitch): offs first at a tie
    for voice, channel in enumerate(channels):
        for note in piece.notes(voice):
            events.append((round(note.start * seconds_per_frame * sample_rate), 1, channel, note.pitch))
            events.append((round((note.start + note.length) * seconds_per_frame * sample_rate), 0, channel,
                           note.pitch))
    events.sort()
    total = round(piece.frames * seconds_per_frame * sample_rate) + round(TAIL_SECONDS * sample_rate)
    out = np.zeros((total, 2), dtype=np.float32)
    done = 0
    for at, on, channel, pitch in events:
        if at > done:
            out[done:at] = np.frombuffer(synth.generate(at - done), dtype=np.float32).reshape(-1, 2)
            done = at
        if on:
            synth.noteon(channel, pitch, 90)
        else:
            synth.noteoff(channel, pitch)
    if total > done:
        out[done:] = np.frombuffer(synth.generate(total - done), dtype=np.float32).reshape(-1, 2)
    peak = float(np.abs(out).max()) if out.size else 0.0
    if peak > 0.0:  # peak-normalised to -1 dBFS: loud chords do not clip, quiet pieces are audible
        out *= 0.89 / peak
    return (out * 32767).astype(np.int16)


def render_wav(piece: Piece, path: str | os.PathLike[str], *, program: int = 0, sample_rate: int = 22050,
               soundfont: str | os.PathLike[str] | None = None) -> Path:
    """Write the piece as a 16-bit stereo WAV file."""
    samples = synthesize(piece, program=program, sample_rate=sample_rate, soundfont=soundfont)
    path = Path(path)
    try:
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.tobytes())
    except OSError as exc:
        raise MusicFileError(path, f"cannot be written ({exc.strerror or exc})") from None
    return path


def piano_roll(piece: Piece, path: str | os.PathLike[str] | None = None, *, frame_width: int = 6,
               row_height: int = 5) -> Image.Image:
    """A piano-roll picture of the piece (saved as PNG when ``path`` is given)."""
    sounding = piece.pitch[piece.pitch >= 0]
    low, high = (int(sounding.min()) - 2, int(sounding.max()) + 2) if sounding.size else (58, 72)
    width = max(1, piece.frames) * frame_width + 20
    height = (high - low + 1) * row_height + 30
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    top = 20
    for pitch in range(low, high + 1):  # the black keys' rows shaded, as on a keyboard
        if pitch % 12 in (1, 3, 6, 8, 10):
            y = top + (high - pitch) * row_height
            draw.rectangle([10, y, width - 10, y + row_height - 1], fill=(238, 238, 233))
    for frame in range(piece.frames + 1):
        if piece.position(frame) == 0 or frame in (0, piece.frames):
            x = 10 + frame * frame_width
            draw.line([x, top, x, height - 10], fill=(170, 170, 165), width=1)
    for voice in range(piece.voices):
        colour = _COLOURS[voice % len(_COLOURS)]
        for note in piece.notes(voice):
            x0 = 10 + note.start * frame_width
            y0 = top + (high - note.pitch) * row_height
            draw.rectangle([x0 + 1, y0, x0 + note.length * frame_width - 1, y0 + row_height - 1], fill=colour)
    for frame in np.flatnonzero(piece.fermata):
        x = 10 + int(frame) * frame_width
        draw.arc([x, 4, x + 10, 14], 180, 360, fill=(60, 60, 60))
        draw.point([x + 5, 11], fill=(60, 60, 60))
    if path is not None:
        try:
            image.save(str(path), format="PNG")
        except OSError as exc:
            raise MusicFileError(path, f"cannot be written ({exc.strerror or exc})") from None
    return image
