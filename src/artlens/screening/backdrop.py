"""The uniform light studio backdrop of a product shot (white, off-white, light grey), found so that the
measures judge the product rather than the paper it stands on, and so that the compliance rules know where
the product is."""

from __future__ import annotations

import cv2
import numpy as np

from artlens.screening.metrics import luma

__all__ = ["backdrop_mask", "resize_mask"]


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A bool mask at ``height`` x ``width``, nearest-neighbour resampled (the mask itself when it fits)."""
    mask = np.asarray(mask, bool)
    if mask.shape == (height, width):
        return mask
    small = np.ascontiguousarray(mask).view(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST).view(bool)


def _touching_border(labels: np.ndarray) -> np.ndarray:
    """The component labels present on the outermost rows and columns of a label image."""
    return np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))


def backdrop_mask(rgb: np.ndarray, tolerance: int = 16, min_luma: float = 0.75, max_chroma: int = 24,
                  min_ring: float = 0.6, min_area: float = 0.1) -> np.ndarray:
    """The uniform light studio backdrop (white, off-white or light grey) of a product shot, if it has one.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image.
    tolerance
        Largest difference per channel from the backdrop colour (JPEG noise, a soft gradient).
    min_luma, max_chroma
        The backdrop colour (median of the outer ring, 2 % of the short side) must be this light (Rec. 709
        luma, 0-1) and this close to neutral (largest minus smallest channel, 0-255): white, off-white, light
        grey.
    min_ring
        Share of the outer ring the backdrop must cover: a studio backdrop surrounds the product, whereas a
        bright sky or wall touches one side of a photo.
    min_area
        A region of the backdrop colour not touching the border counts as backdrop from this share of the
        frame on (between the legs of a chair, inside a handle).

    Returns
    -------
    numpy.ndarray
        (H, W) bool mask, True on the backdrop; all False when the image has none. When the outer ring is
        not light (an added frame), a near-white region of at least ``2.5 * min_area`` of the frame that does
        not touch the border is the backdrop inside the frame.

    Notes
    -----
    A product photographed on white is mostly clipped highlights by design: its exposure, contrast and
    clipping are measured on the product alone (:func:`compute_all`). Regions of the backdrop colour enclosed
    by the product (a white label) are not backdrop unless they are large.
    """
    h, w = rgb.shape[:2]
    band = max(1, round(0.02 * min(h, w)))
    ring = np.zeros((h, w), bool)
    ring[:band], ring[-band:], ring[:, :band], ring[:, -band:] = True, True, True, True
    colour = np.median(rgb[ring], axis=0)
    none = np.zeros((h, w), bool)
    light = float(luma(colour.reshape(1, 1, 3))[0, 0]) >= min_luma
    if not light or float(colour.max() - colour.min()) > max_chroma:
        return _framed_backdrop(rgb, 2.5 * min_area)
    lo = np.clip(colour - tolerance, 0, 255).astype(np.uint8)
    hi = np.clip(colour + tolerance, 0, 255).astype(np.uint8)
    near = cv2.inRange(rgb, lo, hi)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=4)
    if count <= 1:
        return none
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area * h * w
    keep[_touching_border(labels)] = True
    keep[0] = False
    mask = keep[labels]
    return mask if mask[ring].mean() >= min_ring else none


def _framed_backdrop(rgb: np.ndarray, min_area: float, level: int = 240) -> np.ndarray:
    """A near-white backdrop inside an added frame: near-white regions of at least ``min_area`` of the frame
    that do not touch the image border (a blown sky or wall along an edge does)."""
    white = (rgb.min(axis=2) >= level).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(white, connectivity=4)
    if count <= 1:
        return np.zeros(rgb.shape[:2], bool)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area * white.size
    keep[_touching_border(labels)] = False
    keep[0] = False
    return keep[labels]
