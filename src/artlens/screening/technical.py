"""The technical measures of :mod:`artlens.screening.metrics` together: all of them on one image (the
studio backdrop left out, :mod:`artlens.screening.backdrop`) and their mapping to 0-100 sub-scores.

:func:`compute_all` returns every raw value; :func:`subscores` maps them to 0-100 sub-scores (higher is
better) with the piecewise-linear anchors in :data:`ANCHORS`. The anchors were set from the raw values of
scikit-image's photos (astronaut, coffee, chelsea, rocket, camera) and 32 real 1080x800 photos, clean and
with the graded distortions of :mod:`artlens.iqa.train.distortions`: clean photos score about 80-100,
distortion levels 3-5 clearly lower.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from artlens.imageio import as_rgb_uint8
from artlens.screening.backdrop import backdrop_mask, resize_mask
from artlens.screening.metrics import (
    WORKING_SIZE,
    blockiness,
    centre_crop,
    clipped_fractions,
    colour_cast,
    colourfulness,
    luma,
    mean_luminance,
    noise_sigma,
    rms_contrast,
    sharpness,
    working_image,
)

__all__ = ["ANCHORS", "compute_all", "subscores"]

#: Raw value -> 0-100 sub-score anchors for :func:`numpy.interp` (x must increase).
ANCHORS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # sharpness (0-1, higher is sharper): clean photos 0.23-0.82 (median 0.6); Gaussian blur sigma 2 px
    # (distortion level 3) 0.23-0.33, sigma 3.2 px 0.13-0.20
    "sharpness": ((0.10, 0.18, 0.26, 0.34, 0.42), (0.0, 30.0, 60.0, 85.0, 100.0)),
    # sharpness of the sharpest full-resolution tile (artlens.assess.native), for images larger than the
    # working image: the 12 screening photos of 2.5-6k px read 0.51-0.83 at 100 %, the same Gaussian-blurred
    # at their own size with sigma 3 px 0.13-0.35 and sigma 6 px 0.08-0.24 (benchmarks/screening_truth.py)
    "sharpness_native": ((0.15, 0.24, 0.31, 0.38, 0.45), (0.0, 20.0, 40.0, 70.0, 100.0)),
    # noise sigma (0-255, lower is better): clean photos 0.2-3.7; added per-channel sigma 4/8/13/20/32
    # reads about 3/6/10/15/24 in luma
    "noise": ((2.5, 4.0, 6.0, 9.0, 14.0), (100.0, 85.0, 60.0, 30.0, 0.0)),
    # mean luma (0-1): too dark on the left, too bright on the right; clean photos 0.17-0.94 (median 0.46)
    "mean_luminance": ((0.05, 0.12, 0.22, 0.32, 0.65, 0.75, 0.85, 0.95),
                       (0.0, 30.0, 70.0, 100.0, 100.0, 70.0, 30.0, 0.0)),
    # fraction of clipped pixels (highlights + shadows), lower is better
    "clipped": ((0.05, 0.15, 0.30, 0.50, 0.70), (100.0, 85.0, 55.0, 20.0, 0.0)),
    # RMS contrast of luma (0-1, higher is better): clean photos 0.05-0.36 (median 0.17)
    "contrast": ((0.02, 0.04, 0.07, 0.10), (0.0, 30.0, 75.0, 100.0)),
    # colour cast angle in degrees (lower is better): clean photos 0-40 (median 10)
    # (lenient: strongly coloured scenes read like casts); white-balance gain spread 0.45 adds about 10-15
    "colour_cast": ((10.0, 20.0, 35.0, 50.0), (100.0, 80.0, 40.0, 0.0)),
    # blockiness ratio (1.0 = none, higher is worse): clean JPEG photos 0.99-1.5; re-encoded at JPEG
    # quality 55/30/16/9/4 about 1.3-1.7 / 1.5-2.1 / 1.8-3.0 / 2.3-4.4 / 3.3-7
    "blockiness": ((1.25, 1.5, 1.9, 2.5, 3.5), (100.0, 85.0, 55.0, 25.0, 0.0)),
}


def compute_all(rgb: np.ndarray, *, exclude_backdrop: bool = True, backdrop: np.ndarray | None = None,
                working: np.ndarray | None = None) -> dict[str, float]:
    """Every technical metric of one image.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image at full size.

    Returns
    -------
    dict
        ``sharpness``, ``noise_sigma``, ``mean_luminance``, ``highlights_clipped``, ``shadows_clipped``,
        ``contrast``, ``colour_cast``, ``colourfulness``, ``blockiness``, ``megapixels``, ``longest_side``,
        ``aspect_ratio`` (width / height), all Python floats. The resolution keys come from the full-size
        image, ``blockiness`` and ``noise_sigma`` from its full-resolution centre crop of at most 1024 x 1024,
        the others from :func:`working_image` (longest side 1024). With ``exclude_backdrop`` (the default)
        ``mean_luminance``, the clipped fractions and ``contrast`` of a product shot on a uniform light
        backdrop are measured on the pixels outside :func:`backdrop_mask`, when at least 2% of the frame is
        left; an image without such a backdrop is measured whole. ``backdrop``: that mask when the caller
        has it already, of a working image of any size (resized); ``working``: ``working_image(rgb)`` when
        the caller has it already.

    Raises
    ------
    ImageArrayError
        If ``rgb`` is not an image array :func:`artlens.imageio.as_rgb_uint8` reads (a ``ValueError``).
    """
    rgb = as_rgb_uint8(rgb)
    h, w = rgb.shape[:2]
    small = working_image(rgb, WORKING_SIZE) if working is None else working
    grey = luma(small)
    subject = grey
    if exclude_backdrop:
        if backdrop is None:
            backdrop = backdrop_mask(small)
        if backdrop.any():  # else no studio backdrop: the whole frame is the subject
            keep = ~resize_mask(backdrop, *small.shape[:2])
            if keep.mean() >= 0.02:
                subject = grey[keep]
    highlights, shadows = clipped_fractions(subject)
    return {
        "sharpness": sharpness(grey),
        "noise_sigma": noise_sigma(luma(centre_crop(rgb, WORKING_SIZE))),
        "mean_luminance": mean_luminance(subject),
        "highlights_clipped": highlights,
        "shadows_clipped": shadows,
        "contrast": rms_contrast(subject),
        "colour_cast": colour_cast(small),
        "colourfulness": colourfulness(small),
        "blockiness": blockiness(rgb),
        "megapixels": float(w * h / 1e6),
        "longest_side": float(max(w, h)),
        "aspect_ratio": float(w / h),
    }


def _interp(value: float, key: str) -> float:
    xs, ys = ANCHORS[key]
    if not np.isfinite(value):
        return 0.0
    return float(np.interp(value, xs, ys))


def subscores(values: Mapping[str, float]) -> dict[str, float]:
    """Map raw metrics (from :func:`compute_all`) to 0-100 sub-scores, higher is better.

    Parameters
    ----------
    values
        Raw metrics; keys absent from it leave the matching sub-score out.

    Returns
    -------
    dict
        ``sharpness``, ``noise``, ``exposure``, ``contrast``, ``colour_cast``, ``blockiness`` (those whose
        inputs are present), each a float in 0-100.

    Notes
    -----
    Each sub-score is :func:`numpy.interp` over the anchors in :data:`ANCHORS` (flat beyond the end anchors).
    ``exposure`` is the smaller of the mean-luma score (penalising both too dark and too bright) and the
    clipping score of ``highlights_clipped + shadows_clipped``. ``sharpness`` is the smaller of the working
    image's and, when ``sharpness_native`` is given, the sharpest full-resolution tile's score: a picture
    must look sharp on screen and at 100 % zoom. Non-finite raw values score 0.
    """
    out: dict[str, float] = {}
    simple = (("sharpness", "sharpness"), ("noise", "noise_sigma"), ("contrast", "contrast"),
              ("colour_cast", "colour_cast"), ("blockiness", "blockiness"))
    for name, key in simple:
        if key in values and values[key] is not None:
            out[name] = _interp(float(values[key]), name)
    if values.get("sharpness_native") is not None:
        native = _interp(float(values["sharpness_native"]), "sharpness_native")
        out["sharpness"] = min(out.get("sharpness", native), native)
    if "mean_luminance" in values and values["mean_luminance"] is not None:
        score = _interp(float(values["mean_luminance"]), "mean_luminance")
        clipped = float(values.get("highlights_clipped") or 0.0) + float(values.get("shadows_clipped") or 0.0)
        out["exposure"] = min(score, _interp(clipped, "clipped"))
    return out
