"""Voice-leading checks of four-part writing: parallel fifths and octaves, voice crossing, ranges.

The rules of common-practice part writing as harmony textbooks state them (e.g. E. Aldwell and C.
Schachter, *Harmony and Voice Leading*): two voices must not move in parallel perfect fifths or octaves
(unisons included), an upper voice should not go below a lower one, and each voice stays in its range. They
are counted between consecutive sonorities (the frames where any voice starts a note), for every pair of
voices, and given per 100 beats (quarter notes) so pieces of any length compare; BachBot (Liang et al. 2017)
and DeepBach (Hadjeres et al. 2017) judge harmonisations against Bach's own rate in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from artlens.music.piece import FRAMES_PER_QUARTER, REST, Piece

__all__ = ["SATB_RANGES", "voice_leading"]

#: Textbook ranges (MIDI) of soprano C4-G5, alto G3-D5, tenor C3-G4 and bass E2-C4 (Aldwell & Schachter).
SATB_RANGES = ((60, 79), (55, 74), (48, 67), (40, 60))


def _sonorities(piece: Piece) -> list[int]:
    return [int(f) for f in np.flatnonzero(piece.onset.any(axis=0))]


def voice_leading(pieces: Sequence[Piece] | Piece,
                  ranges: Sequence[tuple[int, int]] = SATB_RANGES) -> dict[str, float]:
    """Counts per 100 beats over ``pieces``: ``parallel_fifths``, ``parallel_octaves``, their sum
    ``parallels``, ``crossings`` (sonorities with an upper voice below a lower one) and ``range_violations``
    (notes outside ``ranges``, one per voice from the top); and ``beats``."""
    pieces = [pieces] if isinstance(pieces, Piece) else list(pieces)
    fifths = octaves = crossings = outside = 0
    beats = 0.0
    for piece in pieces:
        beats += piece.frames / FRAMES_PER_QUARTER
        frames = _sonorities(piece)
        pitch = piece.pitch
        for a, b in pairwise(frames):
            for i in range(piece.voices):
                for j in range(i + 1, piece.voices):
                    p1, q1, p2, q2 = int(pitch[i, a]), int(pitch[j, a]), int(pitch[i, b]), int(pitch[j, b])
                    if REST in (p1, q1, p2, q2) or p1 == p2 or q1 == q2:
                        continue
                    if (p2 - p1 > 0) != (q2 - q1 > 0):  # contrary motion
                        continue
                    first, second = abs(p1 - q1) % 12, abs(p2 - q2) % 12
                    if first == second == 7:
                        fifths += 1
                    elif first == second == 0:
                        octaves += 1
        for f in frames:
            sounding = [int(p) for p in pitch[:, f]]
            if any(sounding[i] != REST and sounding[i + 1] != REST and sounding[i] < sounding[i + 1]
                   for i in range(piece.voices - 1)):
                crossings += 1
        for v in range(min(piece.voices, len(ranges))):
            low, high = ranges[v]
            outside += sum(1 for n in piece.notes(v) if not low <= n.pitch <= high)
    per = 100.0 / beats if beats else 0.0
    return {"parallel_fifths": fifths * per, "parallel_octaves": octaves * per,
            "parallels": (fifths + octaves) * per, "crossings": crossings * per,
            "range_violations": outside * per, "beats": beats}
