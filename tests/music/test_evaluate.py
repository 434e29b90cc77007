"""The n-gram baseline, the Yang & Lerch comparison and the voice-leading counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from artlens.music import KneserNey, Piece, compare_sets, encode, voice_leading
from artlens.music.evaluate import overlap_and_kl
from artlens.music.tokens import VOCAB_SIZE


def test_kneser_ney_is_a_distribution_and_learns_a_pattern(piece) -> None:
    sequences = [encode(piece), encode(piece.transposed(12))]
    model = KneserNey(4, VOCAB_SIZE).fit(sequences)
    for context in ([1, 3, 7], [99, 98, 97], []):
        assert sum(model.prob(context, t) for t in range(VOCAB_SIZE)) == pytest.approx(1.0, abs=1e-9)
    total, count = model.nll([encode(piece)])
    assert total / count < 0.5 * math.log(VOCAB_SIZE)
    unseen = KneserNey(4, VOCAB_SIZE).fit([[1, 2, 3]])
    assert unseen.nll([encode(piece)])[0] > total


def test_overlap_of_a_sample_with_itself_is_one() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    area, kl = overlap_and_kl(a, a)
    assert area == pytest.approx(1.0, abs=1e-6) and kl == pytest.approx(0.0, abs=1e-6)
    far, kl_far = overlap_and_kl(a, a + 10)
    assert far < 0.05 and kl_far > 1.0


def _random_piece(rng: np.random.Generator, low: int, high: int) -> Piece:
    pitch = rng.integers(low, high, size=(1, 64)).astype(np.int16)
    onset = rng.random((1, 64)) < 0.5
    return Piece(pitch, onset, np.zeros(64, dtype=bool))


def test_sets_from_one_distribution_overlap_more_than_different_ones() -> None:
    rng = np.random.default_rng(1)
    real = [_random_piece(rng, 60, 72) for _ in range(12)]
    alike = [_random_piece(rng, 60, 72) for _ in range(12)]
    unlike = [_random_piece(rng, 30, 100) for _ in range(12)]
    same, other = compare_sets(real, alike), compare_sets(real, unlike)
    assert same["mean_overlap"] > 0.6 > other["mean_overlap"]
    assert other["features"]["pitch_range"]["overlap"] < 0.1


def test_parallel_fifths_and_octaves_are_counted(make_chorale) -> None:
    piece = make_chorale(repeats=1)
    clean = voice_leading(piece)
    # soprano and bass a twelfth apart moving up a step together: parallel fifths
    pitch = np.array([[67, 69], [64, 65], [60, 60], [48, 50]], dtype=np.int16).repeat(4, axis=1)
    onset = np.zeros_like(pitch, dtype=bool)
    onset[:, ::4] = True
    fifths = voice_leading(Piece(pitch, onset, np.zeros(8, dtype=bool)))
    assert fifths["parallel_fifths"] == pytest.approx(100 / 2) and fifths["parallel_octaves"] == 0
    octave = pitch.copy()
    octave[3] = [55, 55, 55, 55, 57, 57, 57, 57]  # bass an octave below the soprano: 67/55 -> 69/57
    assert voice_leading(Piece(octave, onset, np.zeros(8, dtype=bool)))["parallel_octaves"] == 50
    assert clean["parallels"] >= 0 and clean["beats"] == 8


def test_crossing_and_range_violations(make_chorale) -> None:
    piece = make_chorale(repeats=1)
    piece.pitch[1, :4] = 73  # alto above the soprano (72) in the first beat, still in its range
    piece.pitch[3, 4:8] = 30  # bass far below its range
    counts = voice_leading(piece)
    assert counts["crossings"] == pytest.approx(100 / 8)
    assert counts["range_violations"] == pytest.approx(100 / 8)
