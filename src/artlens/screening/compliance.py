"""Marketplace-compliance measurements on a main product image's frame: white background, added borders.

These functions measure; :mod:`artlens.assess.policy` turns the numbers into pass/review/fail.

* :func:`background_whiteness` -- the share of a frame-shaped border region that is pure white
  (Amazon: "pure white background, RGB 255, 255, 255").
* :func:`background_lightness` -- the share of it that is white or light grey (Google: "white or light").
* :func:`background_colour` -- the median colour of that region.
* :func:`border_frame` -- uniform bands or an inset line frame added along the image edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from artlens.errors import ArtlensError
from artlens.imageio import as_rgb_uint8
from artlens.screening.backdrop import resize_mask
from artlens.screening.metrics import luma

__all__ = ["Border", "background_colour", "background_lightness", "background_whiteness", "border_frame",
           "border_region"]

#: Default per-channel tolerance below 255 for "pure white": JPEG coding of a 255 background leaves a few
#: levels of noise (typically 250-255 next to edges), while a visibly off-white 245 background falls outside.
WHITE_TOLERANCE = 8


def _frame_width(height: int, width: int, border_frac: float) -> int:
    if not 0.0 < border_frac < 0.5:
        raise ArtlensError(f"border_frac must lie in (0, 0.5), got {border_frac}")
    band = max(2, round(border_frac * min(height, width)))
    return min(band, min(height, width) // 2)


def border_region(rgb: np.ndarray, border_frac: float = 0.05) -> np.ndarray:
    """The pixels of a frame of width ``border_frac`` of the short side (at least 2 px) along the image edges.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    border_frac : float
        Width of the frame as a fraction of the image's short side.

    Returns
    -------
    (N, 3) uint8 array
        Each frame pixel once (corners are not counted twice).
    """
    arr = as_rgb_uint8(rgb, min_side=4)
    return _frame_of(arr, _frame_width(*arr.shape[:2], border_frac))


def _frame_of(arr: np.ndarray, b: int) -> np.ndarray:
    """The values of a frame ``b`` px wide along the edges of an (H, W, ...) array, each pixel once, in
    :func:`border_region`'s order: (N, ...)."""
    h, w = arr.shape[:2]
    rest = arr.shape[2:]
    parts = [arr[:b].reshape(-1, *rest), arr[h - b:].reshape(-1, *rest),
             arr[b:h - b, :b].reshape(-1, *rest), arr[b:h - b, w - b:].reshape(-1, *rest)]
    return np.concatenate(parts, axis=0)


def _frame_pixels(rgb: np.ndarray, border_frac: float, product: np.ndarray | None) -> np.ndarray:
    """The frame's pixels (:func:`border_region`), less those on ``product`` when that leaves at least a
    tenth of the frame (a product reaching the edge is not background; the fill rule judges its size)."""
    pixels = border_region(rgb, border_frac)
    if product is None:
        return pixels
    h, w = rgb.shape[:2]
    mask = resize_mask(product, h, w)
    # the product's anti-aliased outline blends into the background: grow the mask by 0.5 % of the short side
    grow = max(1, round(0.005 * min(h, w)))
    mask = cv2.dilate(mask.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)).astype(bool)
    on_product = _frame_of(mask, _frame_width(h, w, border_frac))
    background = pixels[~on_product]
    return background if len(background) >= 0.1 * len(pixels) else pixels


def background_whiteness(rgb: np.ndarray, border_frac: float = 0.05,
                         tolerance: int = WHITE_TOLERANCE, product: np.ndarray | None = None) -> float:
    """Share of the image's border region that is pure white.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image (float images in [0, 1] are scaled to 0-255).
    border_frac : float
        Width of the examined frame as a fraction of the short side (at least 2 px).
    tolerance : int
        A pixel is white when every channel is at least ``255 - tolerance``.
    product : (H, W) bool array, optional
        The segmented product (any size; resized): frame pixels on it are not background and are left out,
        so a compliant product that reaches the frame (Amazon wants it to fill 85 % and more) does not read
        as a grey background.

    Returns
    -------
    float
        Fraction in [0, 1] of the frame's background pixels that are white.

    Notes
    -----
    Marketplaces state the rule in RGB ("pure white, RGB 255, 255, 255"), so the test is on RGB values, not
    on a perceptual distance: the Chebyshev distance to (255, 255, 255) must not exceed ``tolerance``. It
    tolerates JPEG noise (a few levels) and rejects off-white (245) and light-grey backgrounds as well as
    tinted ones (a cream 255, 250, 235 fails on the blue channel), which a lightness-only test would accept.
    Only the frame is examined because the product normally sits in the middle; a product touching the edge
    lowers the value in proportion to the frame it covers.
    """
    if not 0 <= tolerance <= 255:
        raise ArtlensError(f"tolerance must lie in [0, 255], got {tolerance}")
    pixels = _frame_pixels(rgb, border_frac, product)
    return float((pixels.min(axis=1) >= 255 - tolerance).mean())


def background_lightness(rgb: np.ndarray, border_frac: float = 0.05, min_luma: float = 0.8,
                         max_chroma: int = 40, product: np.ndarray | None = None) -> float:
    """Share of the frame's background that is white or light: Google's "white or light background".

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    border_frac : float
        Width of the examined frame as a fraction of the short side.
    min_luma : float
        Least Rec. 709 luma (0-1) of a light pixel: light grey (204 and up) and white.
    max_chroma : int
        Largest spread between a light pixel's channels (0-255): neutral or lightly tinted, not a saturated
        pastel.
    product : (H, W) bool array, optional
        The segmented product, left out of the frame as in :func:`background_whiteness`.

    Returns
    -------
    float
        Fraction in [0, 1] of the frame's background pixels that are light.
    """
    pixels = _frame_pixels(rgb, border_frac, product)
    light = luma(pixels[:, None, :])[:, 0] >= min_luma
    chroma = pixels.max(axis=1).astype(np.int16) - pixels.min(axis=1)
    return float((light & (chroma <= max_chroma)).mean())


def background_colour(rgb: np.ndarray, border_frac: float = 0.05) -> tuple[int, int, int]:
    """Median colour of the image's border region (see :func:`border_region`).

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    border_frac : float
        Width of the examined frame as a fraction of the short side.

    Returns
    -------
    tuple of int
        The per-channel median (R, G, B) of the frame pixels.
    """
    pixels = border_region(rgb, border_frac)
    med = np.median(pixels, axis=0)
    return int(med[0]), int(med[1]), int(med[2])


# ----------------------------------------------------------------------------------------------------------
# Added borders and frames
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Border:
    """An added border or frame found along the image edges.

    ``sides`` counts the edges (0-4) carrying a band or line; ``width_px`` is the widest band, measured from
    the edge to the inner side of the band or line; ``colour`` is its (R, G, B) colour, or None when no
    border was found; ``kind`` is ``"band"`` (a uniform band on the edge), ``"line"`` (a thin line inset from
    the edge, e.g. on a white mat) or ``"none"``.
    """

    sides: int
    width_px: int
    colour: tuple[int, int, int] | None
    kind: str = "none"


_SIDES = ("top", "bottom", "left", "right")


def _side_view(arr: np.ndarray, side: str) -> np.ndarray:
    """The image rotated so that ``side`` is row 0 and rows run inwards, as int16."""
    if side == "top":
        view = arr
    elif side == "bottom":
        view = arr[::-1]
    elif side == "left":
        view = arr.transpose(1, 0, 2)
    else:
        view = arr.transpose(1, 0, 2)[::-1]
    return view


def _edge_band(view: np.ndarray, max_depth: int, tol: int, cover: float,
               skip_light: bool = True) -> tuple[int, np.ndarray]:
    """Rows from row 0 inwards whose pixels nearly all match the edge colour: (width, colour).

    Rows are read in growing chunks, so an edge without a band costs a few rows only; a near-white edge
    (never a band, see :func:`border_frame`) is not scanned when ``skip_light``.
    """
    colour = np.median(view[:2].reshape(-1, 3), axis=0).astype(np.int16)
    if skip_light and _is_light(colour, tol):
        return 0, colour
    width, chunk = 0, 8
    while width <= max_depth:
        block = view[width:min(width + chunk, max_depth + 1)].astype(np.int16)
        row_ok = (np.abs(block - colour).max(axis=2) <= tol).mean(axis=1) >= cover
        bad = np.flatnonzero(~row_ok)
        if bad.size:
            return width + int(bad[0]), colour
        width += block.shape[0]
        chunk *= 2
    return width, colour


def _is_light(colour: np.ndarray, tol: int) -> bool:
    """Near-white: the colour of a product-photo background (see :func:`border_frame`, Notes)."""
    return bool(colour.min() >= 255 - 3 * tol)


def _inset_line(view: np.ndarray, max_depth: int, max_thick: int, tol: int, contrast: int,
                cover: float) -> tuple[int, int, np.ndarray] | None:
    """A thin uniform line parallel to the edge, inset on a uniform mat: (offset, thickness, colour) or None.

    Only the central half of the side is examined so that the perpendicular parts of a frame do not interfere.
    """
    length = view.shape[1]
    strip = view[:max_depth, length // 4: length - length // 4].astype(np.int16)
    med = np.median(strip, axis=1)  # (depth, 3)
    uniform = (np.abs(strip - med[:, None, :]).max(axis=2) <= tol).mean(axis=1) >= cover
    mat = med[0]
    depth = 0
    while depth < max_depth and uniform[depth] and np.abs(med[depth] - mat).max() <= tol:
        depth += 1
    if depth < 2 or depth >= max_depth:
        return None
    thick = 0
    while (depth + thick < max_depth and uniform[depth + thick]
           and np.abs(med[depth + thick] - mat).max() > tol):
        thick += 1
    if thick == 0 or thick > max_thick or depth + thick >= max_depth:
        return None
    line_rows = med[depth:depth + thick]
    strongest = line_rows[np.abs(line_rows - mat).max(axis=1).argmax()]
    if np.abs(strongest - mat).max() < contrast:
        return None
    after = depth + thick  # the line must end: the next row is not more of the same line colour
    if uniform[after] and np.abs(med[after] - strongest).max() <= tol:
        return None
    return depth, thick, strongest


def _frame_partners(side: str, candidates: dict[str, tuple[int, np.ndarray, float]], tol: int) -> int:
    """How many other edges carry a band of the same colour and about the same width as ``side``."""
    width, colour, _ = candidates[side]
    return sum(1 for other, (w2, c2, _) in candidates.items()
               if other != side and np.abs(c2 - colour).max() <= tol
               and abs(w2 - width) <= max(2, 0.15 * width))


def border_frame(rgb: np.ndarray, min_frac: float = 0.01, max_frac: float = 0.3, tolerance: int = 12,
                 contrast: int = 40) -> Border:
    """Detect an added border: uniform bands along the edges, or a thin line frame inset on a mat.

    Parameters
    ----------
    rgb : (H, W, 3) uint8 array
        The image.
    min_frac : float
        Narrowest band counted, as a fraction of the image dimension across it (at least 2 px).
    max_frac : float
        Widest band counted; a uniform region deeper than this is background or content, not a border.
    tolerance : int
        Per-channel difference (0-255) within which two colours count as the same.
    contrast : int
        Per-channel difference a line or band must have against its neighbours to count.

    Returns
    -------
    Border
        How many sides carry a border, its width and its colour.

    Notes
    -----
    The difficulty is that a product photographed on pure white also has uniform white edges; so a uniform
    edge is not evidence enough. Three heuristics, each independent of the others:

    1. **Edge band.** From each edge inwards, the rows (columns) in which at least 98% of the pixels lie
       within ``tolerance`` of the edge colour form a band; a band counts when it is
       ``min_frac``..``max_frac`` deep, and at least 75% of the strip just inside it differs from the band
       colour by ``contrast`` -- that is, the band ends along a straight line against different content (a
       frame around a photo), not around the irregular outline of a product or at a gradual change (sky).
       Near-white bands (every channel >= 255 - 3 x ``tolerance``) are never counted by this rule: a white mat
       without any line is indistinguishable from a rectangular product on a white background, and the latter
       is what a marketplace asks for. A band whose inner strip differs on only 25-75% (a black frame around a
       photo with dark corners) still counts when two other edges carry a band of the same colour and width: a
       frame on several sides is deliberate.
    2. **Inset line.** A thin (at most ``max(3, 1.5%)`` of the dimension) uniform line, parallel to the
       edge, inset on a uniform mat and differing from it by ``contrast``, found in the central half of at
       least three sides: the classic white mat with a dark keyline.
    3. Sides are counted by either rule; ``width_px`` is the deepest band or inset line (edge to inner side).

    Limitations: a product that is itself a flat-coloured rectangle exactly parallel to the frame and not
    white (a framed canvas, a book cover filling the frame) on a dark backdrop reads as a band; photos whose
    top is cleanly cut by a flat, uniform region ending in a straight line (a letterboxed film still) count
    as a border, which they usually are.
    """
    arr = as_rgb_uint8(rgb, min_side=4)
    cover = 0.98
    candidates: dict[str, tuple[int, np.ndarray, float]] = {}
    lines: dict[str, tuple[int, int, np.ndarray]] = {}
    for side in _SIDES:
        view = _side_view(arr, side)
        depth_dim, length = view.shape[:2]
        min_w = max(2, int(np.ceil(min_frac * depth_dim)))
        max_depth = max(min_w + 1, int(max_frac * depth_dim))
        width, colour = _edge_band(view, max_depth, tolerance, cover)
        if min_w <= width < max_depth and not _is_light(colour, tolerance):
            # the strip just inside the band, past a few rows of JPEG ringing, along the band's inner span
            skip, probe = max(2, int(0.005 * depth_dim)), max(3, int(0.01 * depth_dim))
            step = max(1, (length - 2 * width) // 512)
            inner = view[width + skip:width + skip + probe, width:length - width:step].astype(np.int16)
            differs = float((np.abs(inner - colour).max(axis=2) > contrast).mean()) if inner.size else 0.0
            candidates[side] = (width, colour, differs)
        step = max(1, length // 256)
        found = _inset_line(view[:, ::step], max(4, int(0.25 * depth_dim)), max(3, int(0.015 * depth_dim)),
                            tolerance, contrast, 0.95)
        if found is not None:
            lines[side] = found

    bands = {s: (wd, col) for s, (wd, col, differs) in candidates.items()
             if differs >= 0.75 or (differs >= 0.25 and _frame_partners(s, candidates, tolerance) >= 2)}
    if len(lines) < 3:
        lines = {}
    sides = set(bands) | set(lines)
    if not sides:
        return Border(sides=0, width_px=0, colour=None, kind="none")
    widths = [bands[s][0] for s in bands] + [off + thick for off, thick, _ in lines.values()]
    if bands:
        deepest = max(bands, key=lambda s: bands[s][0])
        colour, kind = bands[deepest][1], "band"
    else:
        deepest = max(lines, key=lambda s: lines[s][0] + lines[s][1])
        colour, kind = lines[deepest][2], "line"
    rgb_colour = (int(colour[0]), int(colour[1]), int(colour[2]))
    return Border(sides=len(sides), width_px=int(max(widths)), colour=rgb_colour, kind=kind)
