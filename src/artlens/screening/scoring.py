"""The overall 0-100 quality score: a documented combination of the per-metric sub-scores.

Until the learned model lands, ``quality`` combines the technical sub-scores (from
:func:`artlens.screening.technical.subscores`) with the classical no-reference scores BRISQUE and NIQE:

``quality = 0.6 * weighted_mean + 0.4 * weakest``

where ``weighted_mean`` uses :data:`WEIGHTS` and ``weakest`` is the lowest sub-score. The weakest-link term
makes one severe defect (a blurred or black frame) pull the score down even when everything else is fine,
which is how people judge a photo; the mean keeps the score graded. Sub-scores absent for an image are left
out of both terms.

BRISQUE (Mittal et al. 2012) and NIQE (Mittal et al. 2013) are mapped to 0-100 (higher is better) with the
piecewise-linear anchors in :data:`IQA_ANCHORS`, chosen from their values on scikit-image's pristine photos
and the same photos at graded blur, noise and JPEG levels (see ``benchmarks/assess_speed.py`` for the data).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["IQA_ANCHORS", "WEIGHTS", "iqa_subscores", "overall_quality"]

WEIGHTS: dict[str, float] = {
    "sharpness": 0.25,
    "noise": 0.15,
    "exposure": 0.15,
    "blockiness": 0.10,
    "contrast": 0.05,
    "colour_cast": 0.05,
    "brisque": 0.15,
    "niqe": 0.10,
}

#: raw value -> sub-score anchors (lower raw is better for both).
IQA_ANCHORS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "brisque": ((15.0, 30.0, 45.0, 60.0, 80.0), (100.0, 85.0, 55.0, 25.0, 0.0)),
    "niqe": ((3.5, 5.0, 7.0, 10.0, 14.0), (100.0, 85.0, 55.0, 25.0, 0.0)),
}


def iqa_subscores(raw: Mapping[str, float | None]) -> dict[str, float]:
    """Map raw BRISQUE and NIQE values (lower is better) to 0-100 sub-scores (higher is better)."""
    out = {}
    for key, (xs, ys) in IQA_ANCHORS.items():
        value = raw.get(key)
        if value is not None and np.isfinite(value):
            out[key] = float(np.interp(value, xs, ys))
    return out


def overall_quality(subscores: Mapping[str, float]) -> float:
    """Combine sub-scores (0-100, higher is better) into the overall quality score, rounded to 0.1."""
    used = {k: float(v) for k, v in subscores.items() if k in WEIGHTS and v is not None and np.isfinite(v)}
    if not used:
        raise ValueError("no sub-scores to combine")
    total = sum(WEIGHTS[k] for k in used)
    mean = sum(WEIGHTS[k] * v for k, v in used.items()) / total
    weakest = min(used.values())
    return round(float(np.clip(0.6 * mean + 0.4 * weakest, 0.0, 100.0)), 1)
