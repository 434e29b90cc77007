"""Voice-leading rules as sampling masks: no parallel fifths or octaves, no voice crossing.

The textbook rules of four-part writing (E. Aldwell and C. Schachter, *Harmony and Voice Leading*) that
:mod:`artlens.music.voiceleading` counts, applied while sampling instead: when a voice is drawn, a new note is
refused if, against any voice above it already drawn in the same frame, it would move in parallel perfect
fifths or octaves (both voices moving the same way from the previous sonority, the same interval class 7 or
0 before and after), or if it would rise above the voice directly above. A rest or a held note is never
refused, so a voice always has a choice. This is the "hard constraint" use of a sequence model's sampler
that DeepBach (Hadjeres et al. 2017, ICML) offers to users; the benchmark reports harmonisations with and
without it.
"""

from __future__ import annotations

import numpy as np

from artlens.music.piece import REST

__all__ = ["forbidden_pitches"]

_PITCHES = np.arange(128)


def forbidden_pitches(previous: np.ndarray, current: np.ndarray, voice: int) -> np.ndarray:
    """Per row, the MIDI pitches voice ``voice`` may not start now: ``(rows, 128)`` bool.

    ``previous`` ``(rows, voices)``: each voice's pitch in the frame before (equal to the last sonority's:
    nothing started in between); ``current`` ``(rows, voices)``: the pitches drawn in this frame so far (the
    voices above ``voice``). :data:`~artlens.music.piece.REST` marks silence.
    """
    rows = previous.shape[0]
    refused = np.zeros((rows, 128), dtype=bool)
    for row in range(rows):
        below = int(previous[row, voice])
        for upper in range(voice):
            before, now = int(previous[row, upper]), int(current[row, upper])
            if upper == voice - 1 and now != REST:
                refused[row] |= now < _PITCHES  # crossing above the voice directly above
            if REST in (before, now, below) or before == now:
                continue
            interval = abs(before - below) % 12
            if interval not in (0, 7):
                continue
            same_way = np.sign(_PITCHES - below) == np.sign(now - before)
            refused[row] |= same_way & (below != _PITCHES) & (np.abs(now - _PITCHES) % 12 == interval)
    return refused
