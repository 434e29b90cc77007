"""Distribution statistics of generated music against real music, after Yang & Lerch.

L.-C. Yang and A. Lerch, "On the evaluation of generative models in music", Neural Computing and
Applications 32 (2020) 4773-4784 (online 2018). Each piece is described by features of its notes; for each
feature, the *intra-set* distances (between pairs of real pieces) and the *inter-set* distances (between each
generated and each real piece) are two samples of a distance distribution, smoothed by a Gaussian kernel
density estimate. A model whose pieces are like the real ones has inter-set distances distributed like the
intra-set ones: a Kullback-Leibler divergence near 0 and an overlapping area (the integral of the smaller of
the two densities) near 1.

Features (per piece, every voice pooled, pitches as the piece stands: put both sets in one key first):
pitch-class histogram (12), pitch-class transition matrix (144, consecutive notes of each voice), pitch range
(semitones), interval histogram (absolute melodic intervals 0-11 and an octave or more, 13 bins), note-length
and inter-onset-interval histograms (16th notes in the bins of :data:`LENGTH_BINS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import gaussian_kde

from artlens.music.piece import Piece

__all__ = ["FEATURES", "LENGTH_BINS", "compare_sets", "overlap_and_kl", "piece_features"]

#: Upper edges (in 16th notes, inclusive) of the note-length and inter-onset bins; the last is open.
LENGTH_BINS = (1, 2, 3, 4, 6, 8, 12, 16)
FEATURES = ("pitch_class_histogram", "pitch_class_transitions", "pitch_range", "interval_histogram",
            "note_length_histogram", "inter_onset_histogram")


def _normalised(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else counts.astype(float)


def _length_bin(frames: int) -> int:
    return next((i for i, edge in enumerate(LENGTH_BINS) if frames <= edge), len(LENGTH_BINS))


def piece_features(piece: Piece) -> dict[str, np.ndarray]:
    """The six features of one piece, each a flat float vector (the pitch range a vector of one)."""
    pch = np.zeros(12)
    pctm = np.zeros((12, 12))
    intervals = np.zeros(13)
    lengths = np.zeros(len(LENGTH_BINS) + 1)
    iois = np.zeros(len(LENGTH_BINS) + 1)
    pitches: list[int] = []
    for voice in range(piece.voices):
        notes = piece.notes(voice)
        for i, note in enumerate(notes):
            pitches.append(note.pitch)
            pch[note.pitch % 12] += 1
            lengths[_length_bin(note.length)] += 1
            if i:
                before = notes[i - 1]
                pctm[before.pitch % 12, note.pitch % 12] += 1
                intervals[min(abs(note.pitch - before.pitch), 12)] += 1
                iois[_length_bin(note.start - before.start)] += 1
    spread = float(max(pitches) - min(pitches)) if pitches else 0.0
    return {"pitch_class_histogram": _normalised(pch), "pitch_class_transitions": _normalised(pctm).ravel(),
            "pitch_range": np.array([spread]), "interval_histogram": _normalised(intervals),
            "note_length_histogram": _normalised(lengths), "inter_onset_histogram": _normalised(iois)}


def _distances(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` (each pair once) or between ``a`` and ``b``."""
    if b is None:
        i, j = np.triu_indices(len(a), k=1)
        return np.linalg.norm(a[i] - a[j], axis=1)
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2).ravel()


def overlap_and_kl(intra: np.ndarray, inter: np.ndarray, points: int = 1000) -> tuple[float, float]:
    """Overlapping area and KL(intra || inter) of the kernel density estimates of two distance samples."""
    low = min(intra.min(), inter.min())
    high = max(intra.max(), inter.max())
    if high - low < 1e-12:  # both degenerate at one value: the same distribution
        return 1.0, 0.0
    pad = 0.1 * (high - low)
    grid = np.linspace(low - pad, high + pad, points)
    p = _density(intra, grid)
    q = _density(inter, grid)
    area = float(np.trapezoid(np.minimum(p, q), grid))
    eps = 1e-10
    kl = float(np.trapezoid(p * np.log((p + eps) / (q + eps)), grid))
    return min(1.0, area), max(0.0, kl)


def _density(sample: np.ndarray, grid: np.ndarray) -> np.ndarray:
    if np.ptp(sample) < 1e-12:  # one repeated value: a narrow bump there
        width = (grid[-1] - grid[0]) / 100
        density = np.exp(-0.5 * ((grid - sample[0]) / width) ** 2)
    else:
        density = gaussian_kde(sample)(grid)
    return density / np.trapezoid(density, grid)


def compare_sets(real: Sequence[Piece], generated: Sequence[Piece]) -> dict[str, object]:
    """Per feature: mean intra-set and inter-set distance, overlapping area and KL divergence; and the mean
    overlapping area and KL over the features. Needs at least two real pieces and one generated piece."""
    if len(real) < 2 or not generated:
        raise ValueError("comparing sets needs at least two real pieces and one generated piece")
    real_features = [piece_features(p) for p in real]
    made_features = [piece_features(p) for p in generated]
    per_feature: dict[str, dict[str, float]] = {}
    for name in FEATURES:
        a = np.stack([f[name] for f in real_features])
        b = np.stack([f[name] for f in made_features])
        intra, inter = _distances(a), _distances(a, b)
        area, kl = overlap_and_kl(intra, inter)
        per_feature[name] = {"intra_mean": float(intra.mean()), "inter_mean": float(inter.mean()),
                             "overlap": area, "kl": kl}
    return {"features": per_feature,
            "mean_overlap": float(np.mean([v["overlap"] for v in per_feature.values()])),
            "mean_kl": float(np.mean([v["kl"] for v in per_feature.values()]))}
