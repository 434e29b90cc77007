"""The known function of image content through which simulated value depends on a work's picture.

Colourfulness follows Hasler & Süsstrunk, "Measuring colourfulness in natural images", SPIE Human Vision and
Electronic Imaging, 2003 (the ``M^(3)`` metric on the opponent channels ``rg`` and ``yb``); pictorial depth is
the share of pixels that are not near-white, which separates a drawing on white paper from a full-frame scene.
"""

from __future__ import annotations

import numpy as np

from artlens.imageio import as_rgb_uint8

__all__ = ["colourfulness", "coverage", "image_value"]

#: Weights of the standardised content measures in the simulated log value (see :func:`image_value`).
COLOUR_WEIGHT = 0.35
COVERAGE_WEIGHT = 0.35


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Süsstrunk's colourfulness ``M^(3)`` of an RGB image (0 for grey; about 100 is vivid)."""
    img = as_rgb_uint8(rgb).astype(np.float64)
    rg = img[..., 0] - img[..., 1]
    yb = 0.5 * (img[..., 0] + img[..., 1]) - img[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def coverage(rgb: np.ndarray) -> float:
    """The share of pixels that are not near-white (all channels below 235): 1 for a full-frame scene."""
    img = as_rgb_uint8(rgb)
    return float((img.min(axis=2) < 235).mean())


def image_value(measures: np.ndarray) -> np.ndarray:
    """Log-value effects of images from their ``(colourfulness, coverage)`` rows: each measure standardised
    over the rows given, weighted by :data:`COLOUR_WEIGHT` and :data:`COVERAGE_WEIGHT`."""
    m = np.asarray(measures, dtype=np.float64)
    z = (m - m.mean(axis=0)) / np.maximum(m.std(axis=0), 1e-9)
    return COLOUR_WEIGHT * z[:, 0] + COVERAGE_WEIGHT * z[:, 1]
