"""Reading MIDI, MusicXML and ABC files into :class:`~artlens.music.piece.Piece` with music21.

music21 (Cuthbert & Ariza 2010, "music21: a toolkit for computer-aided musicology and symbolic music data",
ISMIR) parses every format; its notes are put on the 16th-note grid here (onsets and ends rounded to the
nearest 16th). A file is refused, with one line naming it and the reason, when it cannot be parsed, has no
notes, changes time signature, or has a bar longer than the vocabulary allows; folders are walked and the
other files go on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from artlens.music.errors import MusicFileError
from artlens.music.piece import FRAMES_PER_QUARTER, REST, Key, Piece
from artlens.music.tokens import MAX_BAR

__all__ = ["MUSIC_SUFFIXES", "find_music_files", "music21", "read_folder", "read_piece", "score_to_piece",
           "select_voices"]

log = logging.getLogger("artlens.music")

MUSIC_SUFFIXES = (".mid", ".midi", ".mxl", ".musicxml", ".xml", ".abc", ".krn")
_SATB = ("soprano", "alto", "tenor", "bass")
_MAX_FRAMES = 20_000  # about 20 minutes at 80 quarter notes a minute


def music21() -> Any:
    """The music21 module, or a one-line error saying how to install it."""
    try:
        import music21 as m21
    except ImportError:
        raise MusicFileError("music21", "not installed: pip install 'artlens[music]'") from None
    return m21


def find_music_files(root: Path) -> Iterator[Path]:
    """Music files under ``root`` (recursively, sorted), or ``root`` itself when it is a file."""
    if root.is_file():
        yield root
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(MUSIC_SUFFIXES):
                yield Path(folder) / name


def read_piece(path: str | os.PathLike[str]) -> list[Piece]:
    """The pieces in one file (an ABC book holds several), every part a voice, highest part first.

    Raises
    ------
    MusicFileError
        Naming the file and why it cannot be used.
    """
    path = Path(path)
    m21 = music21()
    if not path.is_file():
        raise MusicFileError(path, "not a file")
    try:
        parsed = m21.converter.parse(str(path))
    except Exception as exc:  # music21 raises many kinds on bad input; all mean "cannot read"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MusicFileError(path, f"cannot be parsed as music ({reason[:160]})") from None
    scores = list(parsed.scores) if isinstance(parsed, m21.stream.Opus) else [parsed]
    pieces, reasons = [], []
    for index, score in enumerate(scores):
        try:
            pieces.append(score_to_piece(score, fallback_title=path.stem if len(scores) == 1
                                         else f"{path.stem} #{index + 1}"))
        except ValueError as exc:
            reasons.append(str(exc))
    if not pieces:
        raise MusicFileError(path, reasons[0] if reasons else "holds no score")
    return pieces


def _time_signature(part: Any) -> tuple[int, int]:
    m21 = music21()
    signatures = {(ts.numerator, ts.denominator)
                  for ts in part.recurse().getElementsByClass(m21.meter.TimeSignature)}
    if len(signatures) > 1:
        raise ValueError("the time signature changes within the piece")
    return signatures.pop() if signatures else (4, 4)


def _pickup(part: Any, bar_quarters: float) -> int:
    m21 = music21()
    measures = part.getElementsByClass(m21.stream.Measure)
    if len(measures) < 2:
        return 0
    first = measures[0]
    length = float(measures[1].offset - first.offset)
    if 0 < length < bar_quarters - 1e-6:
        return round(length * FRAMES_PER_QUARTER)
    return 0


def _frame(quarters: float) -> int:
    return round(float(quarters) * FRAMES_PER_QUARTER)


def score_to_piece(score: Any, fallback_title: str = "") -> Piece:
    """Put a music21 score on the grid: one voice per part, ties merged, chords read as their top note
    (their bottom note in the lowest part)."""
    m21 = music21()
    parts = [p for p in getattr(score, "parts", [score]) if p.flatten().notes]
    if not parts:
        raise ValueError("has no notes")
    meter = _time_signature(parts[0])
    bar = meter[0] * 4 * FRAMES_PER_QUARTER // meter[1]
    if bar > MAX_BAR or bar <= 0:
        raise ValueError(f"bars of {meter[0]}/{meter[1]} are longer than {MAX_BAR} 16th notes")
    pickup = _pickup(parts[0], bar / FRAMES_PER_QUARTER)
    flat = [part.stripTies().flatten() for part in parts]
    end = max(_frame(n.offset + n.quarterLength) for f in flat for n in f.notes)
    if end > _MAX_FRAMES:
        raise ValueError(f"is longer than {_MAX_FRAMES // 16} bars of 4/4")
    pitch = np.full((len(parts), end), REST, dtype=np.int16)
    onset = np.zeros((len(parts), end), dtype=bool)
    fermata = np.zeros(end, dtype=bool)
    for v, notes in enumerate(flat):
        lowest = v == len(parts) - 1 and len(parts) > 1
        for n in notes.notes:
            start, stop = _frame(n.offset), _frame(n.offset + n.quarterLength)
            if stop <= start:  # grace notes and ornaments shorter than half a 16th
                continue
            midis = sorted(p.midi for p in n.pitches)
            pitch[v, start:stop] = midis[0] if lowest else midis[-1]
            onset[v, start] = True
            if any(isinstance(e, m21.expressions.Fermata) for e in n.expressions):
                fermata[start] = True
    try:
        analysed = score.analyze("key")
        key = Key(int(analysed.tonic.pitchClass), "minor" if analysed.mode == "minor" else "major")
    except Exception:  # no pitches to analyse: C major
        key = Key(0, "major")
    marks = list(score.recurse().getElementsByClass(m21.tempo.MetronomeMark))
    tempo = float(marks[0].getQuarterBPM()) if marks and marks[0].getQuarterBPM() else 80.0
    title = (score.metadata.title if score.metadata is not None and score.metadata.title else "") \
        or fallback_title
    names = tuple((p.partName or f"part {i + 1}").strip() for i, p in enumerate(parts))
    return Piece(pitch, onset, fermata, meter, pickup, key, tempo, title, names)


def select_voices(piece: Piece, voices: int) -> Piece:
    """The ``voices`` parts a model of that many voices reads: the top part for one voice; for four,
    the parts named soprano, alto, tenor and bass when all are there (Bach chorales often add instruments),
    else the piece's parts when it has exactly four. ``ValueError`` otherwise."""
    if voices == 1:
        return piece.voices_subset([0])
    lowered = [name.lower() for name in piece.parts]
    if voices == 4 and all(any(n.startswith(v) for n in lowered) for v in _SATB):
        order = [next(i for i, n in enumerate(lowered) if n.startswith(v)) for v in _SATB]
        return piece.voices_subset(order)
    if piece.voices == voices:
        return piece
    raise ValueError(f"has {piece.voices} parts; a {voices}-voice model needs {voices} "
                     "(or parts named soprano, alto, tenor and bass)")


def read_folder(root: str | os.PathLike[str], voices: int,
                on_error: Callable[[MusicFileError], None] | None = None,
                progress: Callable[[int, int], None] | None = None
                ) -> tuple[list[Piece], list[MusicFileError]]:
    """Every usable piece under ``root`` with ``voices`` voices; the files that could not be used.

    Each bad file is one :class:`MusicFileError` (passed to ``on_error`` as it happens) and the rest go on.
    """
    root = Path(root)
    if not root.exists():
        raise MusicFileError(root, "no such file or folder")
    files = list(find_music_files(root))
    if not files:
        raise MusicFileError(root, f"holds no music files ({', '.join(MUSIC_SUFFIXES)})")
    pieces: list[Piece] = []
    errors: list[MusicFileError] = []
    for index, path in enumerate(files):
        try:
            found = read_piece(path)
            for piece in found:
                try:
                    pieces.append(select_voices(piece, voices))
                except ValueError as exc:
                    raise MusicFileError(path, str(exc)) from None
        except MusicFileError as exc:
            errors.append(exc)
            if on_error is not None:
                on_error(exc)
        if progress is not None:
            progress(index + 1, len(files))
    return pieces, errors
