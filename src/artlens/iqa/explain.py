"""Where a learned quality model sees defects: patch-wise quality maps and heat-map overlays.

The image is cut into overlapping square patches, each patch is scored on its own by a
:class:`artlens.iqa.model.QualityModel`, and the patch scores are spread back over the pixels they
cover with a smooth window. The map answers "how good does this neighbourhood look to the model", which is
what ``artlens assess --explain`` draws over each image (:func:`explain_image`).

References
----------
.. [1] L. Kang, P. Ye, Y. Li and D. Doermann, "Convolutional Neural Networks for No-Reference Image Quality
   Assessment", CVPR 2014.
.. [2] S. Bosse, D. Maniry, K.-R. Mueller, T. Wiegand and W. Samek, "Deep Neural Networks for No-Reference
   and Full-Reference Image Quality Assessment", IEEE TIP 27(1), 2018.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from artlens.errors import ArtlensError
from artlens.imageio import as_rgb_uint8

if TYPE_CHECKING:
    from artlens.iqa.model import QualityModel

__all__ = ["BAR_HEIGHT", "EXPLAIN_MAX_SIDE", "Explanation", "colour_bar", "explain_image", "heatmap_overlay",
           "quality_map"]

#: Longest side of an explanation overlay, in pixels (the colour bar comes below).
EXPLAIN_MAX_SIDE = 1024
#: Rows of the colour bar under an overlay.
BAR_HEIGHT = 44

_MIN_PATCH = 32  # below this a patch holds less than one backbone cell
_CHUNK = 64  # patches handed to model.score at once (bounds memory on large max_side / small stride)


def _starts(length: int, patch: int, stride: int) -> np.ndarray:
    """Patch offsets along one axis: every ``stride`` pixels, plus one flush with the far edge."""
    starts = list(range(0, length - patch + 1, stride))
    if starts[-1] + patch < length:
        starts.append(length - patch)
    return np.asarray(starts, np.int64)


def _window(side: int) -> np.ndarray:
    """A strictly positive separable Hann window (side, side), float64."""
    w = np.hanning(side + 2)[1:-1]
    return np.outer(w, w)


class _Patches:
    """Patch boxes and scores of one image (internal: shared by the map and the explanation record)."""

    def __init__(self, model: QualityModel, rgb: np.ndarray, *, patch: int, stride: int | None,
                 max_side: int, batch_size: int) -> None:
        if patch < _MIN_PATCH:
            raise ArtlensError(f"patch must be at least {_MIN_PATCH} px, got {patch}")
        if stride is not None and stride < 1:
            raise ArtlensError(f"stride must be positive, got {stride}")
        if max_side < _MIN_PATCH or batch_size < 1:
            raise ArtlensError(f"need max_side >= {_MIN_PATCH} and batch_size >= 1, "
                               f"got {max_side} and {batch_size}")
        rgb = as_rgb_uint8(rgb)
        self.shape = rgb.shape[:2]
        height, width = self.shape
        scale = min(1.0, max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        else:
            small = rgb
        h, w = small.shape[:2]
        side = min(patch, h, w)
        # one patch would cover the whole frame (or patches would be too small to judge): score it whole
        self.whole = side < _MIN_PATCH or (h <= patch and w <= patch)
        if self.whole:
            self.side = 0
            self.scale = 1.0
            self.small_shape = (h, w)
            self.boxes = np.asarray([[0, 0, width, height]], np.int64)
            self.scores = np.asarray(model.score([rgb], batch_size=batch_size), np.float64).reshape(1)
            return
        step = stride if stride is not None else max(1, side // 2)
        ys, xs = _starts(h, side, step), _starts(w, side, step)
        yy, xx = np.meshgrid(ys, xs, indexing="ij")
        self.side = side
        self.scale = scale
        self.small_shape = (h, w)
        self.boxes = np.stack([xx.ravel(), yy.ravel(), xx.ravel() + side, yy.ravel() + side], axis=1)
        crops = [small[y0:y1, x0:x1] for x0, y0, x1, y1 in self.boxes]
        scores = [np.asarray(model.score(crops[i:i + _CHUNK], batch_size=batch_size), np.float64)
                  for i in range(0, len(crops), _CHUNK)]
        self.scores = np.concatenate(scores).reshape(len(crops))

    def quality_map(self, shape: tuple[int, int] | None = None) -> np.ndarray:
        """The map at ``shape`` (height, width; default: the image's own size)."""
        height, width = shape or self.shape
        if self.whole:
            return np.full((height, width), self.scores[0], np.float32)
        h, w = self.small_shape
        num = np.zeros((h, w), np.float64)
        den = np.zeros((h, w), np.float64)
        win = _window(self.side)
        for (x0, y0, x1, y1), s in zip(self.boxes, self.scores, strict=True):
            num[y0:y1, x0:x1] += s * win
            den[y0:y1, x0:x1] += win
        small_map = (num / np.maximum(den, 1e-300)).astype(np.float32)
        if (h, w) != (height, width):
            small_map = cv2.resize(small_map, (width, height), interpolation=cv2.INTER_LINEAR)
        return np.clip(small_map, 0.0, 100.0)

    def worst_region(self) -> list[int]:
        """The lowest-scoring patch as ``[x0, y0, x1, y1]`` in pixels of the original image."""
        height, width = self.shape
        x0, y0, x1, y1 = (float(v) / self.scale for v in self.boxes[int(np.argmin(self.scores))])
        return [max(0, int(np.floor(x0))), max(0, int(np.floor(y0))),
                min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))]


def quality_map(model: QualityModel, rgb: np.ndarray, *, patch: int = 224, stride: int | None = None,
                max_side: int = 896, batch_size: int = 8) -> np.ndarray:
    """Per-pixel quality (0-100, higher is better) from a learned model scoring overlapping patches.

    Parameters
    ----------
    model
        A trained :class:`artlens.iqa.model.QualityModel` (anything with its ``score(list of RGB
        arrays, batch_size=...) -> (N,)`` method will do).
    rgb
        (H, W, 3) uint8 RGB image (greyscale (H, W) is repeated to three channels).
    patch
        Side of the square patches, in pixels of the downscaled image; at least 32.
    stride
        Distance between neighbouring patches; ``patch // 2`` (half-overlapping patches) when None.
    max_side
        The image is first downscaled (never upscaled) so that its longest side is at most this.
    batch_size
        Patches per forward pass of the model.

    Returns
    -------
    numpy.ndarray
        (H, W) float32 map at the size of ``rgb``, values in [0, 100].

    Raises
    ------
    ArtlensError
        Invalid image or parameters.

    Notes
    -----
    Following the patch-wise scheme of CNN-IQA [1]_ and WaDIQaM [2]_, the model judges each patch as if it
    were a whole image. Patch offsets run every ``stride`` pixels along each axis, plus one patch flush with
    the right and bottom edges, so every pixel is covered. Each pixel's value is the average of the scores of
    the patches covering it, weighted by a separable Hann window centred on each patch,

    .. math:: q(p) = \\frac{\\sum_k w_k(p)\\, s_k}{\\sum_k w_k(p)},

    so a patch counts most at its centre, where it sees the pixel's whole neighbourhood, and the map is free
    of block seams. The map is built at the working resolution and resized bilinearly to the input size.

    When the downscaled image is no larger than one patch in both directions (or its short side is under 32
    px), the map is constant: the model's score of the whole image. A frame shorter than ``patch`` in one
    direction only uses square patches of its short side.

    The map shows where the model's evidence lies, not a calibrated local score: a patch lacks the context
    of the whole frame (a plain sky patch may look "flat" to the model), so compare regions of one image
    rather than values across images.

    References
    ----------
    .. [1] L. Kang, P. Ye, Y. Li and D. Doermann, "Convolutional Neural Networks for No-Reference Image
       Quality Assessment", CVPR 2014.
    .. [2] S. Bosse, D. Maniry, K.-R. Mueller, T. Wiegand and W. Samek, "Deep Neural Networks for
       No-Reference and Full-Reference Image Quality Assessment", IEEE TIP 27(1), 2018.
    """
    return _Patches(model, rgb, patch=patch, stride=stride, max_side=max_side,
                    batch_size=batch_size).quality_map()


def heatmap_overlay(rgb: np.ndarray, quality_map: np.ndarray, *, alpha: float = 0.45) -> np.ndarray:
    """Blend a defect heat map over the image: hot colours where quality is low.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image.
    quality_map
        (H, W) quality in [0, 100] (:func:`quality_map`), higher is better.
    alpha
        Opacity of the colours over the worst regions, in [0, 1].

    Returns
    -------
    numpy.ndarray
        (H, W, 3) uint8 RGB.

    Notes
    -----
    ``100 - quality`` is coloured with OpenCV's JET colour map from blue (quality 100) through cyan and
    yellow to pure red (quality 0). The blend weight
    rises from ``0.15 * alpha`` at quality 70 and above to ``alpha`` at quality 30 and below, so good areas
    get only a faint cool tint and stay readable while defects stand out.
    """
    img = as_rgb_uint8(rgb)
    q = np.asarray(quality_map, np.float32)
    if q.shape != img.shape[:2]:
        raise ArtlensError(f"quality map of shape {q.shape} does not fit an image of {img.shape[:2]}")
    if not 0.0 <= alpha <= 1.0:
        raise ArtlensError(f"alpha must lie in [0, 1], got {alpha}")
    q = np.clip(np.nan_to_num(q, nan=100.0), 0.0, 100.0)
    defect = np.rint((100.0 - q) * 2.24).astype(np.uint8)  # quality 0 -> JET's pure red, not its dark end
    colours = cv2.cvtColor(cv2.applyColorMap(defect, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    low = np.clip((70.0 - q) / 40.0, 0.0, 1.0)
    weight = (alpha * (0.15 + 0.85 * low))[..., None]
    out = img.astype(np.float32) * (1.0 - weight) + colours.astype(np.float32) * weight
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Explanation:
    """A rendered explanation: the compact overlay (JPEG bytes) and the summary of its quality map.

    ``worst_region`` is ``[x0, y0, x1, y1]`` in pixels of the explained image (end exclusive; the whole
    frame when the map is constant); ``min`` and ``mean`` are the map's, 0 to 100.
    """

    jpeg: bytes
    min: float
    mean: float
    worst_region: list[int]

    media_type: ClassVar[str] = "image/jpeg"
    #: File-name ending of written explanations.
    suffix: ClassVar[str] = ".quality-map.jpg"

    def record(self, path: str | Path) -> dict[str, Any]:
        """The report's ``explanation`` entry for this overlay written at ``path``."""
        return {"path": str(path), "min": round(self.min, 2), "mean": round(self.mean, 2),
                "worst_region": list(self.worst_region)}

    def save(self, path: str | Path) -> Path:
        """Write the overlay to ``path`` (atomically; missing folders are made); :class:`ArtlensError` when it
        cannot be written."""
        from artlens.files import atomic_write

        try:
            return atomic_write(path, lambda tmp: tmp.write_bytes(self.jpeg))
        except OSError as exc:
            raise ArtlensError(f"{path}: cannot write the explanation image: {exc.strerror or exc}") from None


def colour_bar(width: int) -> np.ndarray:
    """The legend drawn under every overlay: the heat map's colours from quality 0 to 100, labelled.

    Returns
    -------
    numpy.ndarray
        (:data:`BAR_HEIGHT`, width, 3) uint8 RGB: a dark band holding a gradient from red (quality 0, left)
        to blue (quality 100, right) with "low quality" and "high quality" written under its ends ("low"
        and "high" on narrow images, no words below 60 px).
    """
    bar = np.full((BAR_HEIGHT, width, 3), 32, np.uint8)
    margin = min(8, width // 10)
    inner = max(1, width - 2 * margin)
    quality = np.linspace(0.0, 100.0, inner, dtype=np.float32)
    defect = np.rint((100.0 - quality) * 2.24).astype(np.uint8)[None, :]
    gradient = cv2.cvtColor(cv2.applyColorMap(defect, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)[0]
    bar[4:16, margin:margin + inner] = gradient[None, :, :]
    if width >= 60:
        left, right = ("low quality", "high quality") if width >= 200 else ("low", "high")
        # words readable when the overlay is shown scaled down: larger on wider images
        font, scale = cv2.FONT_HERSHEY_SIMPLEX, float(np.clip(width / 1500, 0.4, 0.7))
        (rw, _), _ = cv2.getTextSize(right, font, scale, 1)
        cv2.putText(bar, left, (margin, BAR_HEIGHT - 8), font, scale, (235, 235, 235), 1, cv2.LINE_AA)
        cv2.putText(bar, right, (width - margin - rw, BAR_HEIGHT - 8), font, scale, (235, 235, 235), 1,
                    cv2.LINE_AA)
    return bar


def explain_image(model: QualityModel, rgb: np.ndarray, *, max_side: int = EXPLAIN_MAX_SIDE,
                  patch: int = 224, stride: int | None = None, map_side: int = 896, batch_size: int = 8,
                  alpha: float = 0.45, jpeg_quality: int = 85) -> Explanation:
    """The explanation of one image: its heat-map overlay with a colour bar, compact, and the map's summary.

    This is the one renderer of explanations: ``artlens assess --explain`` (in the assess workers),
    ``POST /v1/explain`` and assess jobs all call it, so one image gives one overlay everywhere.

    Parameters
    ----------
    model
        A trained quality model (see :func:`quality_map`).
    rgb
        (H, W, 3) uint8 RGB image at its own size.
    max_side
        Longest side of the overlay (the image is downscaled, never upscaled); the colour bar
        (:func:`colour_bar`) adds :data:`BAR_HEIGHT` rows below it.
    patch, stride, batch_size
        As for :func:`quality_map`.
    map_side
        ``max_side`` of :func:`quality_map`: the size the patches are cut at.
    alpha
        As for :func:`heatmap_overlay`.
    jpeg_quality
        JPEG quality of the overlay, 1 to 100.

    Returns
    -------
    Explanation
        The JPEG and the map's minimum, mean and worst region (in pixels of ``rgb``).

    Raises
    ------
    ArtlensError
        Invalid image or parameters.
    """
    from artlens.screening.metrics import working_image

    if not 0.0 <= alpha <= 1.0:
        raise ArtlensError(f"alpha must lie in [0, 1], got {alpha}")
    if max_side < 1 or not 1 <= jpeg_quality <= 100:
        raise ArtlensError(f"need max_side >= 1 and jpeg_quality in 1..100, got {max_side} and "
                           f"{jpeg_quality}")
    img = as_rgb_uint8(rgb)
    patches = _Patches(model, img, patch=patch, stride=stride, max_side=map_side, batch_size=batch_size)
    small = working_image(img, max_side)
    qmap = patches.quality_map(small.shape[:2])
    overlay = np.vstack([heatmap_overlay(small, qmap, alpha=alpha), colour_bar(small.shape[1])])
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR),
                              [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    if not ok:
        raise ArtlensError("the explanation could not be encoded as JPEG")
    return Explanation(buffer.tobytes(), float(qmap.min()), float(qmap.mean()), patches.worst_region())
