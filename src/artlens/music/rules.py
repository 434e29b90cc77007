"""Voice-leading rules as sampling masks: no parallel fifths or octaves, no voice crossing.

The textbook rules of four-part writing (E. Aldwell and C. Schachter, *Harmony and Voice Leading*) that
:mod:`artlens.music.voiceleading` counts, applied while sampling instead: when a voice is drawn, a new note is
refused if, against any voice above it already drawn in the same frame, it would move in parallel perfect
fifths or octaves (both voices moving the same way since the last sonority, the same interval class 7 or 0
at both), or if it would rise above the voice directly above. A rest or a held note is never
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

    ``previous`` ``(rows, voices)``: each voice's pitch at the last sonority (the last frame where a note
    started, as :func:`~artlens.music.voiceleading.voice_leading` compares them); ``current``
    ``(rows, voices)``: the pitches drawn in this frame so far (the voices above ``voice``).
    :data:`~artlens.music.piece.REST` marks silence.
    """
    refused = np.zeros((previous.shape[0], 128), dtype=bool)
    below = previous[:, voice, None]
    pitches = _PITCHES[None, :]
    for upper in range(voice):
        before, now = previous[:, upper, None], current[:, upper, None]
        if upper == voice - 1:
            refused |= (now != REST) & (pitches > now)  # crossing above the voice directly above
        interval = np.abs(before - below) % 12
        moving = (before != REST) & (now != REST) & (below != REST) & (before != now) \
            & ((interval == 0) | (interval == 7))
        same_way = np.sign(pitches - below) == np.sign(now - before)
        refused |= moving & same_way & (pitches != below) & (np.abs(now - pitches) % 12 == interval)
    return refused
