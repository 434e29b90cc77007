"""One piece of music as artlens holds it: voices on a grid of 16th-note frames.

Every reader turns a file into a :class:`Piece` and every writer (MIDI, MusicXML, WAV, piano roll) starts
from one. The grid is that of BachBot (Liang et al. 2017, "Automatic stylistic composition of Bach chorales
with deep LSTM", ISMIR): per 16th-note frame and per voice, the sounding MIDI pitch (or a rest) and whether
the note starts there or is held from the frame before; fermatas mark frames. Voices run from the highest
(soprano) to the lowest (bass).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["FRAMES_PER_QUARTER", "KEY_NAMES", "REST", "Key", "Note", "Piece", "frames_per_bar", "parse_key"]

#: Frames per quarter note: the grid is one 16th note.
FRAMES_PER_QUARTER = 4
#: The pitch value of a rest on the grid.
REST = -1
KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class (0 = C) and mode (``major`` or ``minor``)."""

    tonic: int = 0
    mode: str = "major"

    def __str__(self) -> str:
        return f"{KEY_NAMES[self.tonic % 12]} {self.mode}"

    @property
    def sharps(self) -> int:
        """Accidentals of the key signature: positive sharps, negative flats (-6 to 5)."""
        major = (self.tonic + (3 if self.mode == "minor" else 0)) % 12
        fifths = (major * 7) % 12
        return fifths - 12 if fifths > 5 else fifths

    def normalising_shift(self) -> int:
        """Semitones (-5 to 6) that move this key to C major or A minor, BachBot's common keys."""
        target = 9 if self.mode == "minor" else 0
        shift = (target - self.tonic) % 12
        return shift - 12 if shift > 6 else shift


def parse_key(text: str) -> Key:
    """``"D"``, ``"d"``, ``"Dm"``, ``"D minor"``, ``"F#"``, ``"Bb major"`` as a :class:`Key`.

    A lower-case tonic alone means minor (music21's convention). Raises ``ValueError`` naming the text.
    """
    raw = text.strip()
    words = raw.replace("-", " ").split()
    if not words or words[0][0].upper() not in _LETTER:
        raise ValueError(f"unknown key {text!r}: write it like D, Dm, F# minor or Bb major")
    name = words[0]
    mode = "minor" if name[0].islower() else "major"
    tonic = _LETTER[name[0].upper()]
    rest = name[1:]
    while rest[:1] in ("#", "b"):
        tonic += 1 if rest[0] == "#" else -1
        rest = rest[1:]
    if rest in ("m", "min"):
        mode, rest = "minor", ""
    if rest or len(words) > 2:
        raise ValueError(f"unknown key {text!r}: write it like D, Dm, F# minor or Bb major")
    if len(words) == 2:
        if words[1].lower() not in ("major", "minor", "maj", "min"):
            raise ValueError(f"unknown key {text!r}: the mode must be major or minor")
        mode = "minor" if words[1].lower().startswith("min") else "major"
    return Key(tonic % 12, mode)


def frames_per_bar(meter: tuple[int, int]) -> int:
    """Frames in one bar of ``meter`` (``(numerator, denominator)``); ``ValueError`` if not whole."""
    numerator, denominator = meter
    frames = numerator * 4 * FRAMES_PER_QUARTER / denominator
    if numerator < 1 or denominator not in (1, 2, 4, 8, 16) or frames != int(frames):
        raise ValueError(f"unsupported meter {numerator}/{denominator}")
    return int(frames)


@dataclass(frozen=True)
class Note:
    """A note: MIDI pitch, first frame and length in frames."""

    pitch: int
    start: int
    length: int


@dataclass
class Piece:
    """Voices on the 16th-note grid.

    Attributes
    ----------
    pitch
        ``(voices, frames)`` int16: the sounding MIDI pitch, or :data:`REST`.
    onset
        ``(voices, frames)`` bool: the note starts in this frame (false: held from the frame before).
    fermata
        ``(frames,)`` bool: a fermata over the notes of this frame.
    meter
        Time signature as ``(numerator, denominator)``; ``bar`` is its length in frames.
    pickup
        Frames before the first bar line (an anacrusis), 0 when the piece starts on one.
    key
        The key the piece is written in.
    tempo
        Quarter notes per minute.
    """

    pitch: np.ndarray
    onset: np.ndarray
    fermata: np.ndarray
    meter: tuple[int, int] = (4, 4)
    pickup: int = 0
    key: Key = field(default_factory=Key)
    tempo: float = 80.0
    title: str = ""
    parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.pitch = np.asarray(self.pitch, dtype=np.int16)
        self.onset = np.asarray(self.onset, dtype=bool) & (self.pitch != REST)
        self.fermata = np.asarray(self.fermata, dtype=bool)
        if self.pitch.ndim != 2 or self.onset.shape != self.pitch.shape \
                or self.fermata.shape != (self.pitch.shape[1],):
            raise ValueError("pitch and onset must be (voices, frames) and fermata (frames,)")
        # a held frame must continue the same pitch; anything else starts a new note
        held = np.zeros_like(self.onset)
        held[:, 1:] = (self.pitch[:, 1:] == self.pitch[:, :-1]) & (self.pitch[:, 1:] != REST)
        self.onset |= ~held & (self.pitch != REST)

    @property
    def voices(self) -> int:
        return int(self.pitch.shape[0])

    @property
    def frames(self) -> int:
        return int(self.pitch.shape[1])

    @property
    def bar(self) -> int:
        """Frames per bar."""
        return frames_per_bar(self.meter)

    def position(self, frame: int) -> int:
        """Frames since the last bar line at ``frame``."""
        return (frame - self.pickup) % self.bar

    @property
    def bars(self) -> float:
        """Length in bars (a pickup counts as the fraction of a bar it is)."""
        return self.frames / self.bar

    @property
    def seconds(self) -> float:
        return self.frames / FRAMES_PER_QUARTER * 60.0 / self.tempo

    def notes(self, voice: int) -> list[Note]:
        """The notes of one voice, in order."""
        pitch, onset = self.pitch[voice], self.onset[voice]
        starts = np.flatnonzero(onset)
        notes = []
        for start in starts:
            end = start + 1
            while end < self.frames and pitch[end] == pitch[start] and not onset[end]:
                end += 1
            notes.append(Note(int(pitch[start]), int(start), int(end - start)))
        return notes

    def transposed(self, semitones: int) -> Piece:
        """The piece ``semitones`` higher (lower when negative), key included."""
        pitch = np.where(self.pitch == REST, REST, self.pitch + semitones)
        return replace(self, pitch=pitch, onset=self.onset.copy(), fermata=self.fermata.copy(),
                       key=Key((self.key.tonic + semitones) % 12, self.key.mode))

    def normalised(self) -> tuple[Piece, int]:
        """The piece moved to C major or A minor, and the shift used (BachBot's common keys)."""
        shift = self.key.normalising_shift()
        return self.transposed(shift), shift

    def voices_subset(self, indices: list[int]) -> Piece:
        """The piece with only the voices ``indices`` (in that order)."""
        parts = tuple(self.parts[i] for i in indices) if self.parts else ()
        return replace(self, pitch=self.pitch[indices], onset=self.onset[indices],
                       fermata=self.fermata.copy(), parts=parts)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form (the grid as lists); :meth:`from_dict` reads it back."""
        return {"pitch": self.pitch.tolist(), "onset": self.onset.astype(int).tolist(),
                "fermata": np.flatnonzero(self.fermata).tolist(), "meter": list(self.meter),
                "pickup": self.pickup, "key": [self.key.tonic, self.key.mode], "tempo": self.tempo,
                "title": self.title, "parts": list(self.parts)}

    @classmethod
    def from_dict(cls, data: dict) -> Piece:
        pitch = np.asarray(data["pitch"], dtype=np.int16).reshape(len(data["pitch"]), -1)
        fermata = np.zeros(pitch.shape[1], dtype=bool)
        fermata[np.asarray(data["fermata"], dtype=int)] = True
        tonic, mode = data["key"]
        return cls(pitch, np.asarray(data["onset"], dtype=bool).reshape(pitch.shape), fermata,
                   tuple(data["meter"]), int(data["pickup"]), Key(int(tonic), str(mode)),
                   float(data["tempo"]), str(data["title"]), tuple(data["parts"]))
