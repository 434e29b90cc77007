"""Natural-scene-statistics descriptors: the hand-made half of the shipped quality model's input.

The learned quality model (:mod:`artlens.iqa.model`) has a second, small head that reads these
descriptors beside the CNN features. The CNN sees content and global appearance; the descriptors see the
local statistics that noise, blur and compression disturb in every photo alike, which a head fitted on a
hundred photos does not learn from CNN features alone. Per image (48 numbers):

* the 36 BRISQUE features (GGD fit of the MSCN coefficients and AGGD fits of their neighbour products at two
  scales) [1]_;
* the NIQE distance to the pristine model [2]_;
* six cheap photometric statistics of :mod:`artlens.screening.metrics`: mean luminance, the clipped highlight
  and shadow fractions, RMS contrast, colourfulness [3]_ and JPEG blockiness;
* the detail energy in four octave bands: the standard deviation of the differences of Gaussian-blurred
  copies (sigma 0-1, 1-2, 2-4, 4-8 px), the levels of a Laplacian pyramid [4]_. BRISQUE and NIQE divide
  out the local contrast, so they are blind to detail lost everywhere at once (fog, zoom blur, a dimmed
  exposure); these bands see it, and their ratios say which scales it went from, as focus measures do [5]_;
* the share of repeated pixels where the picture has detail: neighbours within one grey level of each other
  although an edge is near. An image enlarged by pixel repetition (nearest neighbour, "pixelated") repeats
  most of its pixels even in busy areas; a camera photo rarely does. It is the simplest trace of the
  resampling that Popescu and Farid detect by its periodic correlations [6]_.

Heavy-tailed values are compressed with ``sign(x) * log1p(|x|)``; the head standardises them.

References
----------
.. [1] A. Mittal, A. K. Moorthy and A. C. Bovik, "No-reference image quality assessment in the spatial
   domain", IEEE TIP 21(12), 2012.
.. [2] A. Mittal, R. Soundararajan and A. C. Bovik, "Making a 'completely blind' image quality analyzer",
   IEEE Signal Processing Letters 20(3), 2013.
.. [3] D. Hasler and S. Suesstrunk, "Measuring colourfulness in natural images", Proc. SPIE 5007, 2003.
.. [4] P. J. Burt and E. H. Adelson, "The Laplacian pyramid as a compact image code", IEEE Trans.
   Communications 31(4), 1983.
.. [5] S. Pertuz, D. Puig and M. A. Garcia, "Analysis of focus measure operators for shape-from-focus",
   Pattern Recognition 46(5), 2013.
.. [6] A. C. Popescu and H. Farid, "Exposing digital forgeries by detecting traces of resampling", IEEE
   Trans. Signal Processing 53(2), 2005.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from artlens.errors import ConfigError
from artlens.screening import metrics
from artlens.screening.brisque import brisque_features
from artlens.screening.niqe import niqe

__all__ = ["DESCRIPTOR_NAMES", "DETAIL_BANDS", "MIN_SIDE", "describe", "descriptor_columns",
           "detail_energies", "pixel_repeats", "quality_descriptors"]

_PHOTOMETRIC = ("mean_luminance", "highlights_clipped", "shadows_clipped", "contrast", "colourfulness",
                "blockiness")

#: Octaves of the detail bands: (inner, outer) Gaussian sigma in pixels; 0 is the image itself.
DETAIL_BANDS = ((0, 1), (1, 2), (2, 4), (4, 8))
_DETAIL = tuple(f"detail_{inner}_{outer}" for inner, outer in DETAIL_BANDS)

#: Names of the descriptor vector's entries, in order.
DESCRIPTOR_NAMES: tuple[str, ...] = (*(f"brisque_{i:02d}" for i in range(36)), "niqe", *_PHOTOMETRIC,
                                     *_DETAIL, "pixel_repeats")

#: Smaller images are enlarged (bicubic) to this shortest side first: NIQE needs 96 x 96 pixels.
MIN_SIDE = 96


def descriptor_columns(names: Sequence[str]) -> list[int]:
    """Positions of ``names`` in :data:`DESCRIPTOR_NAMES`: a model reads the descriptors it was trained on,
    by name, so models trained before descriptors were added keep working."""
    unknown = [n for n in names if n not in DESCRIPTOR_NAMES]
    if unknown or len(set(names)) != len(names):
        raise ConfigError(f"descriptor names must be distinct names of artlens.iqa.descriptors."
                          f"DESCRIPTOR_NAMES; unknown: {unknown or 'none'}, repeated: "
                          f"{sorted({n for n in names if list(names).count(n) > 1}) or 'none'}")
    return [DESCRIPTOR_NAMES.index(n) for n in names]


def detail_energies(grey: np.ndarray) -> np.ndarray:
    """Standard deviation of each :data:`DETAIL_BANDS` band of a grey image in 0-1, in 8-bit grey levels."""
    image = grey.astype(np.float32) * np.float32(255.0)
    sigmas = sorted({s for band in DETAIL_BANDS for s in band})
    blurred = {s: image if s == 0 else cv2.GaussianBlur(image, (0, 0), s, borderType=cv2.BORDER_REFLECT)
               for s in sigmas}
    return np.array([float((blurred[inner] - blurred[outer]).std()) for inner, outer in DETAIL_BANDS])


#: Grey levels (of 255): neighbours this close count as repeated; a step above ``_EDGE`` marks detail, and
#: pairs within ``_NEAR`` pixels of one are looked at.
_REPEAT, _EDGE, _NEAR = 1.0, 6.0, 2


def pixel_repeats(grey: np.ndarray) -> float:
    """Share of horizontal and vertical neighbour pairs near an edge that repeat a grey level (0-1).

    ``grey`` is in 0-1. A pair is near an edge when a neighbour step above 6 levels lies within 2 pixels;
    NaN when no pair is (a flat image).
    """
    image = grey.astype(np.float32) * np.float32(255.0)
    kernel = np.ones((2 * _NEAR + 1, 2 * _NEAR + 1), np.uint8)
    repeated = busy = 0
    for step in (np.abs(np.diff(image, axis=1)), np.abs(np.diff(image, axis=0))):
        near_edge = cv2.dilate((step > _EDGE).astype(np.uint8), kernel).astype(bool)
        busy += int(near_edge.sum())
        repeated += int((step[near_edge] <= _REPEAT).sum())
    return repeated / busy if busy else float("nan")


def quality_descriptors(rgb: np.ndarray, *, names: Sequence[str] = DESCRIPTOR_NAMES,
                        brisque: np.ndarray | None = None, niqe_value: float | None = None) -> np.ndarray:
    """The descriptor vector of one RGB image, float32 of length ``len(names)``.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 image: the one the model scores, at its own size (``artlens assess`` passes its
        768-px working image; the CNN shrinks it further to the model's ``sizes``).
    names
        The descriptors wanted, in this order (a model's ``config.descriptors``); all of them by default.
    brisque, niqe_value
        Already computed :func:`~artlens.screening.brisque.brisque_features` and
        :func:`~artlens.screening.niqe.niqe` of ``rgb``, to avoid computing them twice.
    """
    columns = descriptor_columns(names)
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
        detail_energies(grey),
        [pixel_repeats(grey)],
    ]).astype(np.float64)
    return (np.sign(values) * np.log1p(np.abs(values))).astype(np.float32)[columns]


def describe(rgbs: Sequence[np.ndarray], names: Sequence[str] = DESCRIPTOR_NAMES) -> np.ndarray:
    """:func:`quality_descriptors` of each image: (N, len(names)) float32."""
    from artlens.imageio import as_rgb_uint8

    descriptor_columns(names)
    out = np.zeros((len(rgbs), len(names)), np.float32)
    for i, rgb in enumerate(rgbs):
        out[i] = quality_descriptors(as_rgb_uint8(rgb), names=names)
    return out
