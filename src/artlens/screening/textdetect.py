"""Text and watermark overlays: the PP-OCRv4 text detector (a DB network) run with ONNX Runtime.

Detection says where text may be; each region is then confirmed by reading it with PP-OCRv4's recogniser
(:mod:`artlens.screening.textrecog`): marketplaces forbid text, logos and watermarks on main images whatever
they say, but a region where no characters can be read is texture, not text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from artlens.errors import ArtlensError
from artlens.imageio import as_rgb_uint8

__all__ = ["DetectorSettings", "TextBox", "detect_text", "text_coverage", "text_probability"]

#: Model name in the weights registry.
MODEL = "ppocr_det_v4"
#: PP-OCR's detection normalisation, applied to 0-1 values in the channel order of :data:`CHANNEL_ORDER`.
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
#: PaddleOCR's own pipeline feeds OpenCV's BGR arrays to the ImageNet mean/std listed in RGB order. Checked
#: empirically on 60 rendered banners/watermarks over 6 scikit-image photos at 1080x800 plus 12 text-free
#: photos: both orders found text in 50/60 images, RGB with the higher mean box score (0.971 vs 0.963) and
#: no false regions (BGR: 0.24% of coffee, 0.43% of rocket's lamps), so RGB is the default.
CHANNEL_ORDER = "RGB"


@dataclass(frozen=True)
class TextBox:
    """An axis-aligned text box in input pixels, ``[x0, x1) x [y0, y1)``.

    ``score`` is the detector's mean text probability inside the region; ``text`` and ``text_score`` are what
    the recogniser read there and its mean character probability (empty and None when not recognised).
    """

    x0: int
    y0: int
    x1: int
    y1: int
    score: float
    text: str = ""
    text_score: float | None = None

    @property
    def area(self) -> int:
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)


@dataclass(frozen=True)
class DetectorSettings:
    """Post-processing constants of the DB detector (defaults follow PP-OCR's inference settings).

    ``threshold`` binarises the probability map; ``box_threshold`` is the least mean probability inside a
    region for it to count; ``unclip_ratio`` grows each region by ``area x ratio / perimeter`` on every side
    (DB shrinks text regions in training, so detections are grown back); ``min_side`` drops regions whose
    short side is below this many map pixels. ``blob_*`` set the blob filter (see :func:`detect_text`).
    A region is confirmed as text when the recogniser reads at least ``min_characters`` letters, digits or
    ideographs in it with a mean character probability of at least ``min_text_score``.
    """

    threshold: float = 0.3
    box_threshold: float = 0.6
    unclip_ratio: float = 1.5
    min_side: int = 3
    blob_side: float = 0.08
    blob_aspect: float = 2.0
    blob_edges: float = 0.12
    min_characters: int = 2
    min_text_score: float = 0.8


def _get_session(threads: int):  # -> onnxruntime.InferenceSession
    from artlens.models.onnxrt import weight_session

    return weight_session(MODEL, threads, "the text detector")


def _input_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """Resized (height, width): the longest side at most ``max_side``, both sides multiples of 32 (>= 32)."""
    scale = min(1.0, max_side / max(height, width))
    rh = max(32, round(height * scale / 32.0) * 32)
    rw = max(32, round(width * scale / 32.0) * 32)
    return min(rh, max(32, max_side // 32 * 32)), min(rw, max(32, max_side // 32 * 32))


def _preprocess(rgb: np.ndarray, size: tuple[int, int], order: str) -> np.ndarray:
    rh, rw = size
    img = cv2.resize(rgb, (rw, rh), interpolation=cv2.INTER_LINEAR)
    if order == "BGR":
        img = img[..., ::-1]
    x = img.astype(np.float32) * (1.0 / 255.0)
    x = (x - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def text_probability(rgb: np.ndarray, max_side: int = 640, threads: int = 1,
                     channel_order: str = CHANNEL_ORDER) -> np.ndarray:
    """The DB network's per-pixel text probability at the model's input size.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    max_side : int
        Longest side fed to the network (rounded to a multiple of 32).
    threads : int
        ONNX Runtime intra-op threads (one session is cached per thread count and process).
    channel_order : {"BGR", "RGB"}
        Channel order the normalisation is applied in (PaddleOCR's pipeline uses BGR; RGB tested better here,
        see :data:`CHANNEL_ORDER`).

    Returns
    -------
    (h, w) float32 array
        Probabilities in [0, 1]; h and w are multiples of 32.
    """
    arr = as_rgb_uint8(rgb, min_side=4)
    if max_side < 32:
        raise ArtlensError(f"max_side must be at least 32, got {max_side}")
    if channel_order not in ("BGR", "RGB"):
        raise ArtlensError(f"channel_order must be 'BGR' or 'RGB', got {channel_order!r}")
    session = _get_session(threads)
    x = _preprocess(arr, _input_size(*arr.shape[:2], max_side), channel_order)
    (prob,) = session.run(None, {session.get_inputs()[0].name: x})
    return prob[0, 0]


def _region_contour(labels: np.ndarray, index: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """Outer contour points of region ``index`` in map pixels, (N, 2) float32."""
    x, y, w, h = box
    roi = (labels[y:y + h, x:x + w] == index).astype(np.uint8)
    contours, _ = cv2.findContours(roi, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return (np.concatenate(contours).reshape(-1, 2) + np.array([x, y])).astype(np.float32)


def _ordered_corners(rect: tuple) -> np.ndarray:
    """A rotated rectangle's corners in PP-OCR's order: top-left, top-right, bottom-right, bottom-left."""
    pts = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left = sorted(pts[:2], key=lambda p: p[1])
    right = sorted(pts[2:], key=lambda p: p[1])
    return np.array([left[0], right[0], right[1], left[1]], np.float32)


@dataclass(frozen=True)
class _Region:
    """A detected region in map pixels: its grown axis-aligned box, rotated corners and mean probability."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    quad: np.ndarray  # (4, 2), see _ordered_corners


def _boxes_from_map(prob: np.ndarray, settings: DetectorSettings,
                    grey: np.ndarray | None = None) -> list[_Region]:
    """Regions of the binarised map, grown, in map pixels.

    ``grey`` (the network input as 8-bit grey) enables the blob filter of :func:`detect_text`, Notes.
    """
    binary = (prob > settings.threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return []
    sums = np.bincount(labels.ravel(), weights=prob.ravel(), minlength=n)
    map_short = min(prob.shape)
    edges = None
    regions = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if min(w, h) < settings.min_side:
            continue
        score = float(sums[i] / area)
        if score < settings.box_threshold:
            continue
        # DB's unclip: grow the region by D = A * r / L (A area, L perimeter); the region's own pixel count
        # and its box perimeter stand for the polygon's
        grow = area * settings.unclip_ratio / (2.0 * (w + h))
        x0, y0, x1, y1 = x - grow, y - grow, x + w + grow, y + h + grow
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(_region_contour(labels, i, (x, y, w, h)))
        short, long = min(rw, rh), max(rw, rh)
        compact = short > settings.blob_side * map_short and long < settings.blob_aspect * short
        if grey is not None and compact:
            if edges is None:
                edges = cv2.Canny(grey, 50, 150) > 0
            ys = slice(max(0, int(y0)), int(np.ceil(y1)))
            xs = slice(max(0, int(x0)), int(np.ceil(x1)))
            if float(edges[ys, xs].mean()) < settings.blob_edges:
                continue
        # pixel centres to pixel edges (+1), then the same growth on every side of the rotated rectangle
        quad = _ordered_corners(((cx, cy), (rw + 1 + 2 * grow, rh + 1 + 2 * grow), angle))
        regions.append(_Region(x0, y0, x1, y1, score, quad))
    return regions


def detect_text(rgb: np.ndarray, max_side: int = 640, threads: int = 1,
                settings: DetectorSettings | None = None, confirm: bool = True) -> list[TextBox]:
    """Find text (captions, banners, watermarks, logos with lettering) in an image.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    max_side : int
        Longest side fed to the detector; smaller is faster but misses small print.
    threads : int
        ONNX Runtime intra-op threads; 1 (the default) suits one worker process per core.
    settings : DetectorSettings, optional
        Post-processing and confirmation constants.
    confirm : bool
        Read each detected region with the recogniser (:mod:`artlens.screening.textrecog`) and keep only the
        regions where text is read (see Notes). False returns every detected region, unread.

    Returns
    -------
    list of TextBox
        Axis-aligned boxes in input pixels, clipped to the image, highest detection score first; with
        ``confirm``, only confirmed boxes, each with the text read and its score.

    Notes
    -----
    The network is PP-OCRv4's detector, a Differentiable Binarization (DB) model: it predicts a per-pixel text
    probability map on text regions shrunk during training. The image is resized so that its longest side is
    at most ``max_side`` with both sides multiples of 32, scaled to [0, 1], normalised with the ImageNet mean
    and standard deviation (in RGB order, see :data:`CHANNEL_ORDER`), and fed as NCHW float32. Post-processing
    follows DB's inference: the map is binarised at 0.3, connected regions whose mean probability is below 0.6
    or whose short side is under 3 map pixels are dropped, and each region is grown by ``area x 1.5 /
    perimeter`` (the "unclip" that undoes the training-time shrinking) before being scaled back to the input.

    **Blob filter.** On product-like photos the network also fires on large, compact, smooth objects (the
    white cup of scikit-image's ``coffee``, the blurred coin of ``clock``, the moon: 5-25% of the frame at
    box scores of 0.98-0.99, at every input size tried). A text region is a line -- elongated -- or, when
    compact, full of stroke edges. So a region whose rotated rectangle's short side exceeds ``blob_side``
    (8%) of the map's short side and whose long side is under ``blob_aspect`` (2) times that is dropped
    unless at least ``blob_edges`` (12%) of its grown box are Canny edge pixels (measured: such false
    regions 1-10%, rendered text 10-22%). A single huge glyph or a blurred, compact word is missed.

    **Confirmation.** The detector also fires on fine, regular texture (grass, water drops, foliage, fabric:
    up to a quarter of the frame on such photos). So each region's rotated rectangle, grown as above, is cut
    from the full-resolution input, straightened and read by PP-OCRv4's recogniser
    (:func:`artlens.screening.textrecog.read_crops`); the region counts as text when at least
    ``min_characters`` (2) letters, digits or ideographs are read with a mean character probability of at
    least ``min_text_score`` (0.8). ``docs/benchmarks.md`` gives the measurements behind both numbers. A
    single letter or a logo without lettering is not confirmed. The returned box is the axis-aligned box
    around the region (rotated text gives a larger box).

    References
    ----------
    Liao, M., Wan, Z., Yao, C., Chen, K., Bai, X. (2020). Real-time Scene Text Detection with Differentiable
    Binarization. AAAI 2020, 11474-11481.

    Du, Y. et al. (2020). PP-OCR: A Practical Ultra Lightweight OCR System. arXiv:2009.09941.
    """
    arr = as_rgb_uint8(rgb, min_side=4)
    settings = settings or DetectorSettings()
    prob = text_probability(arr, max_side=max_side, threads=threads)
    h, w = arr.shape[:2]
    grey = cv2.cvtColor(cv2.resize(arr, (prob.shape[1], prob.shape[0]), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_RGB2GRAY)
    sy, sx = h / prob.shape[0], w / prob.shape[1]
    found: list[tuple[TextBox, np.ndarray]] = []
    for region in _boxes_from_map(prob, settings, grey):
        bx0, by0 = max(0, int(np.floor(region.x0 * sx))), max(0, int(np.floor(region.y0 * sy)))
        bx1, by1 = min(w, int(np.ceil(region.x1 * sx))), min(h, int(np.ceil(region.y1 * sy)))
        if bx1 > bx0 and by1 > by0:
            found.append((TextBox(bx0, by0, bx1, by1, round(region.score, 4)),
                          region.quad * np.array([sx, sy], np.float32)))
    if confirm and found:
        from artlens.screening.textrecog import read_regions

        readings = read_regions(arr, [quad for _, quad in found], threads=threads)
        out = [dataclasses.replace(box, text=r.text.strip(), text_score=r.score)
               for (box, _), r in zip(found, readings, strict=True)
               if r.characters >= settings.min_characters and r.score >= settings.min_text_score]
    else:
        out = [box for box, _ in found]
    return sorted(out, key=lambda b: -b.score)


def text_coverage(boxes: list[TextBox], width: int, height: int) -> float:
    """Fraction of the frame covered by text boxes (overlaps counted once).

    Parameters
    ----------
    boxes : list of TextBox
        Boxes in frame pixels (e.g. from :func:`detect_text`).
    width, height : int
        The frame's size.

    Returns
    -------
    float
        Covered area over ``width x height``, in [0, 1].
    """
    if width <= 0 or height <= 0:
        raise ArtlensError(f"frame size must be positive, got {width} x {height}")
    if not boxes:
        return 0.0
    xs = np.unique(np.clip([v for b in boxes for v in (b.x0, b.x1)], 0, width))
    ys = np.unique(np.clip([v for b in boxes for v in (b.y0, b.y1)], 0, height))
    # union of rectangles on the grid of their own edges: exact, and independent of the frame's size
    covered = np.zeros((len(ys), len(xs)), bool)
    for b in boxes:
        i0, i1 = np.searchsorted(ys, [max(0, b.y0), min(height, b.y1)])
        j0, j1 = np.searchsorted(xs, [max(0, b.x0), min(width, b.x1)])
        covered[i0:i1, j0:j1] = True
    cell = np.outer(np.diff(ys), np.diff(xs))
    return float((covered[:-1, :-1] * cell).sum() / (width * height))
