"""How an image is framed before the backbone's centre crop: cut-outs are shown whole.

The backbones' eval transform (:meth:`artlens.models.backbones.Backbone.preprocess`) shrinks the shorter side
and keeps the centre square. That suits photographs, whose subject fills the frame, but cuts a wide or tall
cut-out (a product on white, a drawing on a transparent background) down to its middle: a bus loses its
front and back, a bottle its neck. Padding such an image to a square with its own background colour
first keeps all of it in view, at the backbone's usual scale for the whole object (the "letterbox" framing of
object detectors, e.g. YOLO). Measured on `benchmarks/classify_transfer.py`'s sets (docs/benchmarks.md).

Framings:

* ``crop``: the image as it is (the centre crop of the first versions, and of every model saved before
  framing was stored);
* ``pad``: every image padded to a square with the median colour of its border;
* ``auto`` (default for new models): padded when its border is plain (at least 95 % of the border pixels
  within 12 levels of the border's median colour in every channel: a cut-out or a product shot on a plain
  background), else as it is (photographs and scenes).
"""

from __future__ import annotations

import numpy as np

from artlens.errors import ConfigError

__all__ = ["FRAMINGS", "check_framing", "frame_image", "has_plain_border", "pad_to_square"]

FRAMINGS = ("crop", "pad", "auto")

PLAIN_TOLERANCE = 12  # levels (0-255) from the border's median colour that still count as that colour
PLAIN_SHARE = 0.95  # share of border pixels that must be that colour


def _border(rgb: np.ndarray) -> np.ndarray:
    """(M, 3) the pixels of the outermost rows and columns."""
    return np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int16)


def has_plain_border(rgb: np.ndarray) -> bool:
    """Whether the image's outermost pixels are one colour (see the module notes for the tolerance)."""
    border = _border(rgb)
    median = np.median(border, axis=0)
    close = (np.abs(border - median) <= PLAIN_TOLERANCE).all(axis=1)
    return bool(close.mean() >= PLAIN_SHARE)


def pad_to_square(rgb: np.ndarray) -> np.ndarray:
    """The image centred on a square of its border's median colour (a square image is returned as it is)."""
    h, w = rgb.shape[:2]
    if h == w:
        return rgb
    side = max(h, w)
    out = np.empty((side, side, 3), np.uint8)
    out[:] = np.median(_border(rgb), axis=0).round().astype(np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    out[top:top + h, left:left + w] = rgb
    return out


def check_framing(framing: str) -> str:
    """``framing`` when it is one of :data:`FRAMINGS`; else a :class:`~artlens.errors.ConfigError`."""
    if framing not in FRAMINGS:
        raise ConfigError(f"framing must be one of {', '.join(FRAMINGS)}, got {framing!r}")
    return framing


def frame_image(rgb: np.ndarray, framing: str) -> np.ndarray:
    """An (H, W, 3) uint8 RGB image framed for the backbone's transform (see the module notes)."""
    check_framing(framing)
    if framing == "crop" or rgb.ndim != 3 or rgb.shape[0] == rgb.shape[1]:
        return rgb
    if framing == "pad" or has_plain_border(rgb):
        return pad_to_square(rgb)
    return rgb
