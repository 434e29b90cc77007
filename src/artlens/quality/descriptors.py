"""Natural-scene-statistics descriptors: the hand-made half of the shipped quality model's input.

The learned quality model (:mod:`artlens.quality.learned`) has a second, small head that reads these
descriptors beside the CNN features. The CNN sees content and global appearance; the descriptors see the
local statistics that noise, blur and compression disturb in every photo alike, which a head fitted on a
hundred photos does not learn from CNN features alone. Per image (43 numbers):

* the 36 BRISQUE features (GGD fit of the MSCN coefficients and AGGD fits of their neighbour products at two
  scales) [1]_;
* the NIQE distance to the pristine model [2]_;
* six cheap photometric statistics of :mod:`artlens.quality.metrics`: mean luminance, the clipped highlight
  and shadow fractions, RMS contrast, colourfulness [3]_ and JPEG blockiness.

Heavy-tailed values are compressed with ``sign(x) * log1p(|x|)``; the head standardises them.

References
----------
.. [1] A. Mittal, A. K. Moorthy and A. C. Bovik, "No-reference image quality assessment in the spatial
   domain", IEEE TIP 21(12), 2012.
.. [2] A. Mittal, R. Soundararajan and A. C. Bovik, "Making a 'completely blind' image quality analyzer",
   IEEE Signal Processing Letters 20(3), 2013.
.. [3] D. Hasler and S. Suesstrunk, "Measuring colourfulness in natural images", Proc. SPIE 5007, 2003.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from artlens.quality import metrics
from artlens.quality.brisque import brisque_features
from artlens.quality.niqe import niqe

__all__ = ["DESCRIPTOR_NAMES", "MIN_SIDE", "describe", "quality_descriptors"]

_PHOTOMETRIC = ("mean_luminance", "highlights_clipped", "shadows_clipped", "contrast", "colourfulness",
                "blockiness")

#: Names of the descriptor vector's entries, in order.
DESCRIPTOR_NAMES: tuple[str, ...] = (*(f"brisque_{i:02d}" for i in range(36)), "niqe", *_PHOTOMETRIC)

#: Smaller images are enlarged (bicubic) to this shortest side first: NIQE needs 96 x 96 pixels.
MIN_SIDE = 96


def quality_descriptors(rgb: np.ndarray, *, brisque: np.ndarray | None = None,
                        niqe_value: float | None = None) -> np.ndarray:
    """The descriptor vector of one RGB image, float32 of length ``len(DESCRIPTOR_NAMES)``.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 image, as the CNN sees it (the same working size).
    brisque, niqe_value
        Already computed :func:`~artlens.quality.brisque.brisque_features` and
        :func:`~artlens.quality.niqe.niqe` of ``rgb``, to avoid computing them twice.
    """
    h, w = rgb.shape[:2]
    if min(h, w) < MIN_SIDE:
        scale = MIN_SIDE / min(h, w)
        rgb = cv2.resize(rgb, (max(MIN_SIDE, round(w * scale)), max(MIN_SIDE, round(h * scale))),
                         interpolation=cv2.INTER_CUBIC)
        brisque = niqe_value = None  # they describe the small image
    grey = metrics.luma(rgb)
    highlights, shadows = metrics.clipped_fractions(grey)
    photometric = (metrics.mean_luminance(grey), highlights, shadows, metrics.rms_contrast(grey),
                   metrics.colourfulness(rgb), metrics.blockiness(rgb))
    values = np.concatenate([
        brisque if brisque is not None else brisque_features(rgb),
        [niqe_value if niqe_value is not None else niqe(rgb)],
        photometric,
    ]).astype(np.float64)
    return (np.sign(values) * np.log1p(np.abs(values))).astype(np.float32)


def describe(rgbs: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`quality_descriptors` of each image: (N, len(DESCRIPTOR_NAMES)) float32."""
    from artlens.backbones import _as_rgb_uint8

    out = np.zeros((len(rgbs), len(DESCRIPTOR_NAMES)), np.float32)
    for i, rgb in enumerate(rgbs):
        out[i] = quality_descriptors(_as_rgb_uint8(rgb))
    return out
