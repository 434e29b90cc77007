"""Native-resolution views: the pixels a customer sees at 100 % zoom, beside the whole picture.

Screening measures that run on a shrunken working image (sharpness on 1024 px, BRISQUE/NIQE on 768 px, the
learned model on 448/224 px views) cannot see defects that only show at full size: a 4000 px photo blurred
with a Gaussian of sigma 3 px, or noisy at sigma 12, looks clean once shrunk ninefold. This module picks a few
full-resolution tiles where the image has the most detail and gives what they show:

* :func:`detail_tiles` -- up to ``count`` non-overlapping ``side`` x ``side`` tiles of the full-size image
  with the largest gradient energy (measured on the working image), leaving out tiles that lie partly on a
  studio backdrop;
* :func:`native_sharpness` -- the sharpness of the *sharpest* of those tiles: whether anything is in focus at
  100 %, so an intended shallow depth of field is not punished (the in-focus region is the one that counts,
  as in no-reference blur metrics that pool over the sharpest blocks, e.g. Narvekar and Karam's CPBD);
* :func:`native_weight` -- how much the tiles' learned score counts against the whole-frame score: nothing
  while the whole-frame view shrinks the image at most 2.5x, growing with the zoom factor, so that the
  headline quality of a large photo falls with defects that only show at full size.

The learned model scores a tile as it scores any image. Its training crops are 448 px squares cut from photos
first shrunk to 448-896 px (:mod:`artlens.iqa.train.recipe`), so a native tile of a 4000 px photo shows its
content more zoomed in than training did: clean tiles score lower and vary more with what they show (10-40
points between tiles of one photo) than whole frames. Blur, noise and compression still lower every tile
(``benchmarks/screening_truth.py``), which is what the fusion relies on.

References
----------
.. [1] N. D. Narvekar and L. J. Karam, "A no-reference image blur metric based on the cumulative probability
   of blur detection (CPBD)", IEEE Transactions on Image Processing 20(9), 2678-2683, 2011.
.. [2] F. Crété-Roffet, T. Dolmiere, P. Ladret and M. Nicolas, "The blur effect: perception and estimation
   with a new no-reference perceptual blur metric", Proc. SPIE 6492, 2007 (the sharpness of each tile).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from artlens.screening import metrics
from artlens.screening.backdrop import resize_mask

if TYPE_CHECKING:
    from artlens.iqa.model import QualityModel

__all__ = ["TILE_SIDE", "Tile", "best_tile", "detail_tiles", "fuse", "fused_quality", "native_sharpness",
           "native_weight", "tile_count"]

#: Side of a native tile, px: the learned model's largest view (so a tile is scored as a training crop is).
TILE_SIDE = 448
#: The whole-frame view's shrink factor from which native tiles are scored.
NATIVE_FROM_ZOOM = 2.5
#: Largest weight of the native tiles' score in the headline quality (the whole frame keeps the rest).
MAX_NATIVE_WEIGHT = 0.8


@dataclass(frozen=True)
class Tile:
    """A native-resolution tile ``[x0, x0 + side) x [y0, y0 + side)`` and its detail energy."""

    x0: int
    y0: int
    side: int
    energy: float

    def crop(self, rgb: np.ndarray) -> np.ndarray:
        """The tile's pixels of the full-size image (a view, not a copy)."""
        return rgb[self.y0:self.y0 + self.side, self.x0:self.x0 + self.side]

    def box(self) -> list[int]:
        """``[x0, y0, x1, y1]`` in full-size pixels."""
        return [self.x0, self.y0, self.x0 + self.side, self.y0 + self.side]


def zoom(width: int, height: int, view_side: int = TILE_SIDE) -> float:
    """How many times the whole-frame view of ``view_side`` px shrinks the image (1.0: not at all)."""
    return max(1.0, max(width, height) / view_side)


def tile_count(width: int, height: int, side: int = TILE_SIDE) -> int:
    """Native tiles worth scoring: none up to a :data:`NATIVE_FROM_ZOOM` shrink (the whole-frame view still
    shows a 3 px blur as 1.2 px, and a tile costs as much as the whole frame: 1080 x 800 catalogues keep their
    speed); then 1 tile up to 2 MP and 3 above (more tiles find the in-focus subject of a large photo)."""
    if zoom(width, height, side) <= NATIVE_FROM_ZOOM or min(width, height) < side:
        return 0
    return 1 if width * height <= 2e6 else 3


def native_weight(width: int, height: int, view_side: int = TILE_SIDE) -> float:
    """Weight of the native tiles' learned score: ``min(0.8, (z - 2.5) / 2.5)`` for zoom factor ``z`` (0 up to
    a 2.5x shrink, 1120 px; the cap from 4.5x, about 2000 px, on: a 2500 px photo is judged mostly at
    100 %)."""
    z = zoom(width, height, view_side)
    return float(np.clip((z - NATIVE_FROM_ZOOM) / 2.5, 0.0, MAX_NATIVE_WEIGHT))


def detail_tiles(rgb: np.ndarray, count: int, side: int = TILE_SIDE, *,
                 backdrop: np.ndarray | None = None, working: np.ndarray | None = None) -> list[Tile]:
    """The ``count`` non-overlapping native tiles with the most detail, most detailed first.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 image at full size.
    count
        Tiles wanted (fewer when the image holds fewer).
    side
        Tile side in full-size pixels.
    backdrop
        Optional (h, w) bool mask of a studio backdrop at any size (resized to the grid): tiles with more than
        10 % backdrop are skipped, as their strongest detail is the product's outline, not its surface.
    working
        ``metrics.working_image(rgb)`` when the caller has it already (it is made otherwise).

    Notes
    -----
    The grid is centred on the image. Detail energy is the mean absolute Sobel gradient of the luma of a
    shrunken copy (longest side 1024 px) over the tile's footprint: cheap, and on a copy where pixel noise is
    averaged out, so a noisy flat sky does not outrank the subject.
    """
    h, w = rgb.shape[:2]
    rows, cols = h // side, w // side
    if count <= 0 or rows == 0 or cols == 0:
        return []
    small = metrics.working_image(rgb) if working is None else working
    grey = metrics.luma(small)
    grad = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3),
                         cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))
    y_off, x_off = (h - rows * side) // 2, (w - cols * side) // 2
    sy, sx = small.shape[0] / h, small.shape[1] / w
    energy = np.empty((rows, cols))
    skip = np.zeros((rows, cols), bool)
    mask = None
    if backdrop is not None and backdrop.any():
        mask = resize_mask(backdrop, *small.shape[:2])
    for r in range(rows):
        for c in range(cols):
            y0, x0 = y_off + r * side, x_off + c * side
            ys = slice(int(y0 * sy), max(int(y0 * sy) + 1, int((y0 + side) * sy)))
            xs = slice(int(x0 * sx), max(int(x0 * sx) + 1, int((x0 + side) * sx)))
            energy[r, c] = float(grad[ys, xs].mean())
            if mask is not None:
                skip[r, c] = mask[ys, xs].mean() > 0.1
    order = [int(i) for i in np.argsort(-energy, axis=None, kind="stable") if not skip.flat[int(i)]]
    return [Tile(x_off + (i % cols) * side, y_off + (i // cols) * side, side, float(energy.flat[i]))
            for i in order[:count]]


def native_sharpness(rgb: np.ndarray, tiles: list[Tile]) -> float | None:
    """Sharpness (:func:`artlens.screening.metrics.sharpness`, 0-1) of the sharpest native tile, or None
    without tiles."""
    if not tiles:
        return None
    return max(metrics.sharpness(metrics.luma(t.crop(rgb))) for t in tiles)


def fused_quality(model: QualityModel, whole: float, rgb: np.ndarray, tiles: list[Tile]
                  ) -> tuple[float, float | None]:
    """The headline quality: the whole-frame score ``whole`` and the best native tile's learned score,
    weighted by :func:`native_weight`; returns ``(quality, the best tile's score or None)``.

    The first :func:`tile_count` of ``tiles`` (most detailed first) are scored; without any, ``whole`` is the
    quality. The best tile counts, as the sharpest one does for sharpness: blur, noise and compression of the
    file lower every tile, whereas a smooth or out-of-focus part of the scene (bokeh, sky) lowers only its own
    (on the 12 screening photos, tiles of one clean photo ranged over up to 40 points). The tiles'
    descriptors (for a model with a descriptor head) are computed on the tiles.
    """
    height, width = rgb.shape[:2]
    chosen = tiles[:tile_count(width, height, model.config.sizes[0])]
    if not chosen:
        return whole, None
    scores = model.score([np.ascontiguousarray(t.crop(rgb)) for t in chosen])
    up_close = float(scores[best_tile(scores)])
    return float(fuse(whole, up_close, native_weight(width, height, model.config.sizes[0]))), up_close


def best_tile(scores: np.ndarray | list[float]) -> int:
    """Index of the tile with the highest 0-100 score: the one :func:`fuse` takes (the first among ties)."""
    return int(np.argmax(np.asarray(scores, np.float64)))


def fuse(whole: float | np.ndarray, up_close: float | np.ndarray, weight: float) -> float | np.ndarray:
    """``(1 - weight) * whole + weight * up_close``: the one rule that joins the whole-frame view and the best
    native tile, for 0-100 scores (:func:`fused_quality`) and, element-wise, for class probabilities or
    scores in label units (:mod:`artlens.iqa.train.labels`)."""
    return (1.0 - weight) * whole + weight * up_close
