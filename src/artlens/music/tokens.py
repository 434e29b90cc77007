"""The token vocabulary and the encoding of a :class:`~artlens.music.piece.Piece` as one token sequence.

BachBot's encoding (Liang et al. 2017, ISMIR), with a bar position in place of its frame delimiter: a piece in
C major or A minor becomes ``<start> <major|minor>``, then per 16th-note frame ``@k`` (k frames since the bar
line), an optional ``F`` (fermata), and one token per voice from the highest down: ``n60`` (a note starting
on MIDI pitch 60), ``h60`` (pitch 60 held from the frame before) or ``r`` (rest); then ``<end>``. The
vocabulary is fixed (it does not depend on the data), so every model and n-gram shares it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artlens.music.piece import REST, Key, Piece

__all__ = [
    "END",
    "FERMATA",
    "MAJOR",
    "MAX_BAR",
    "MINOR",
    "PAD",
    "REST_TOKEN",
    "START",
    "VOCAB",
    "VOCAB_SIZE",
    "Vocabulary",
    "decode",
    "encode",
    "hold_token",
    "onset_token",
    "position_token",
    "token_name",
]

PAD, START, END, MAJOR, MINOR, FERMATA, REST_TOKEN = range(7)
#: Longest bar in frames (12/8 is 24; 6/4 is 24; 12/4 would be 48).
MAX_BAR = 48
_POS0 = 7
_ONSET0 = _POS0 + MAX_BAR
_HOLD0 = _ONSET0 + 128
VOCAB_SIZE = _HOLD0 + 128


def position_token(position: int) -> int:
    return _POS0 + position


def onset_token(pitch: int) -> int:
    return _ONSET0 + pitch


def hold_token(pitch: int) -> int:
    return _HOLD0 + pitch


@dataclass(frozen=True)
class Vocabulary:
    """Token classes as index ranges, for masks in constrained sampling."""

    size: int = VOCAB_SIZE

    def is_position(self, token: int) -> bool:
        return _POS0 <= token < _ONSET0

    def is_note(self, token: int) -> bool:
        return token == REST_TOKEN or _ONSET0 <= token < VOCAB_SIZE

    @staticmethod
    def note(token: int) -> tuple[int, bool]:
        """``(pitch, onset)`` of a voice token; ``(REST, False)`` for ``r``."""
        if token == REST_TOKEN:
            return REST, False
        if _ONSET0 <= token < _HOLD0:
            return token - _ONSET0, True
        if _HOLD0 <= token < VOCAB_SIZE:
            return token - _HOLD0, False
        raise ValueError(f"token {token} is not a voice token")

    @staticmethod
    def position(token: int) -> int:
        return token - _POS0


VOCAB = Vocabulary()


def token_name(token: int) -> str:
    """A readable name: ``<start>``, ``@4``, ``F``, ``n60``, ``h60``, ``r``."""
    fixed = {PAD: "<pad>", START: "<start>", END: "<end>", MAJOR: "<major>", MINOR: "<minor>", FERMATA: "F",
             REST_TOKEN: "r"}
    if token in fixed:
        return fixed[token]
    if VOCAB.is_position(token):
        return f"@{VOCAB.position(token)}"
    pitch, onset = VOCAB.note(token)
    return f"{'n' if onset else 'h'}{pitch}"


def encode(piece: Piece) -> list[int]:
    """The tokens of ``piece`` as it stands (normalise its key first: :meth:`Piece.normalised`).

    Raises ``ValueError`` when a bar is longer than :data:`MAX_BAR` frames or a pitch is outside 0-127.
    """
    if piece.bar > MAX_BAR:
        raise ValueError(f"bars of {piece.meter[0]}/{piece.meter[1]} are longer than {MAX_BAR} 16th notes")
    sounding = piece.pitch[piece.pitch != REST]
    if sounding.size and (sounding.min() < 0 or sounding.max() > 127):
        raise ValueError("a pitch is outside the MIDI range 0-127")
    tokens = [START, MINOR if piece.key.mode == "minor" else MAJOR]
    for frame in range(piece.frames):
        tokens.append(position_token(piece.position(frame)))
        if piece.fermata[frame]:
            tokens.append(FERMATA)
        for voice in range(piece.voices):
            pitch = int(piece.pitch[voice, frame])
            if pitch == REST:
                tokens.append(REST_TOKEN)
            elif piece.onset[voice, frame]:
                tokens.append(onset_token(pitch))
            else:
                tokens.append(hold_token(pitch))
    tokens.append(END)
    return tokens


def decode(tokens: list[int] | np.ndarray, voices: int, meter: tuple[int, int] = (4, 4),
           tempo: float = 80.0, title: str = "") -> Piece:
    """The piece a token sequence describes (the inverse of :func:`encode`).

    Tolerant of what a sampler may produce: a frame with too few voice tokens is padded with rests, extra
    voice tokens are dropped, a hold token that does not continue the same pitch starts a new note, and
    decoding stops at ``<end>``. The key is C major or A minor, as the mode token says.
    """
    mode = "major"
    frames: list[tuple[list[tuple[int, bool]], bool]] = []
    positions: list[int] = []
    for token in (int(t) for t in tokens):
        if token == END:
            break
        if token in (MAJOR, MINOR):
            mode = "minor" if token == MINOR else "major"
        elif VOCAB.is_position(token):
            frames.append(([], False))
            positions.append(VOCAB.position(token))
        elif not frames:
            continue
        elif token == FERMATA:
            frames[-1] = (frames[-1][0], True)
        elif VOCAB.is_note(token) and len(frames[-1][0]) < voices:
            frames[-1][0].append(VOCAB.note(token))
    pitch = np.full((voices, len(frames)), REST, dtype=np.int16)
    onset = np.zeros((voices, len(frames)), dtype=bool)
    fermata = np.zeros(len(frames), dtype=bool)
    for f, (notes, has_fermata) in enumerate(frames):
        fermata[f] = has_fermata
        for v, (p, starts) in enumerate(notes):
            pitch[v, f] = p
            onset[v, f] = starts
    piece = Piece(pitch, onset, fermata, meter, 0, Key(9 if mode == "minor" else 0, mode), tempo, title)
    if positions:
        piece.pickup = (-positions[0]) % piece.bar
    return piece
