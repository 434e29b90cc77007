"""Technical image-quality metrics: one function per metric, RGB array in, number out.

Most metrics are computed on a *working image* whose longest side is at most 1024 px (:func:`working_image`),
so that a score does not depend on the file's pixel count: a 6000 px photo is judged as it looks at about
screen size. Two read a centre crop (at most 1024 x 1024) of the *full-resolution* image instead:
:func:`blockiness`, because resizing destroys the JPEG 8x8 grid, and :func:`noise_sigma`, because area
resampling averages pixel noise away (even 1080 -> 1024 px with ``INTER_AREA`` lowers white-noise sigma by
about a third), so the noise is reported per pixel of the file.

Luma is Rec. 709 luma (``0.2126 R' + 0.7152 G' + 0.0722 B'``) of the gamma-encoded sRGB values scaled to
0-1 (not the luminance of linear light): it is what people and histogram tools call "brightness".

All of them on one image, and their 0-100 sub-scores: :mod:`artlens.screening.technical`.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "WORKING_SIZE",
    "blockiness",
    "centre_crop",
    "clipped_fractions",
    "colour_cast",
    "colourfulness",
    "luma",
    "mean_luminance",
    "noise_sigma",
    "rms_contrast",
    "sharpness",
    "working_image",
]

#: Longest side (px) of the image the metrics are computed on.
WORKING_SIZE = 1024

_REC709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
_V = np.arange(256, dtype=np.float64) / 255.0
#: sRGB 8-bit code -> linear light (IEC 61966-2-1).
_SRGB_TO_LINEAR = np.where(_V <= 0.04045, _V / 12.92, ((_V + 0.055) / 1.055) ** 2.4).astype(np.float32)



# ------------------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------------------

def working_image(rgb: np.ndarray, longest_side: int = WORKING_SIZE) -> np.ndarray:
    """Shrink an image so its longest side is at most ``longest_side`` (never enlarges it).

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image.
    longest_side
        Largest allowed side in pixels.

    Returns
    -------
    numpy.ndarray
        The input itself when it is small enough, else a copy resized with area averaging
        (``cv2.INTER_AREA``), aspect ratio kept.
    """
    h, w = rgb.shape[:2]
    side = max(h, w)
    if side <= longest_side:
        return rgb
    scale = longest_side / side
    size = (max(1, min(longest_side, round(w * scale))), max(1, min(longest_side, round(h * scale))))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def centre_crop(rgb: np.ndarray, max_side: int, grid: int = 1) -> np.ndarray:
    """Centre crop of at most ``max_side`` x ``max_side`` px, origin and size multiples of ``grid``."""
    h, w = rgb.shape[:2]
    ch = max(1, min(h, max_side) // grid) * grid if h >= grid else h
    cw = max(1, min(w, max_side) // grid) * grid if w >= grid else w
    y0 = (h - ch) // 2 // grid * grid
    x0 = (w - cw) // 2 // grid * grid
    return rgb[y0:y0 + ch, x0:x0 + cw]


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of the sRGB values, float32 in 0-1, shape (H, W)."""
    out = cv2.transform(rgb.astype(np.float32), (_REC709 / np.float32(255.0)).reshape(1, 3))
    return out.reshape(rgb.shape[:2])


# ------------------------------------------------------------------------------------------------------------
# Sharpness
# ------------------------------------------------------------------------------------------------------------

def _tile_means(x: np.ndarray, tile: int) -> np.ndarray:
    """Means over non-overlapping ``tile`` x ``tile`` tiles (the ragged right and bottom edges dropped)."""
    h, w = x.shape
    th, tw = max(1, h // tile), max(1, w // tile)
    crop = x[: th * tile, : tw * tile] if h >= tile and w >= tile else x
    return cv2.resize(crop, (tw, th), interpolation=cv2.INTER_AREA)


def sharpness(grey: np.ndarray, tile: int = 32, top_fraction: float = 0.15) -> float:
    """Contrast-independent sharpness (0-1, higher is sharper) measured on the most detailed tiles.

    Parameters
    ----------
    grey
        (H, W) float32 luma in 0-1 (see :func:`luma`), normally of the working image.
    tile
        Tile side in pixels.
    top_fraction
        Fraction of tiles (those with the most gradient energy) the measure is taken over; at least four.

    Returns
    -------
    float
        ``1 - blur`` where ``blur`` is the blur effect of Crété-Roffet et al. (0 sharp, 1 fully blurred):
        about 0.4-0.6 for sharp photos, falling towards 0 as blur grows. 0.0 for an image without detail.

    Notes
    -----
    The blur effect compares the absolute neighbour differences ``D`` of the image with those of a copy
    re-blurred by a 9-tap moving average, ``Db``. A sharp image loses much of its variation when re-blurred,
    an already blurred one little. Per direction, ``blur = (sum D - sum max(0, D - Db)) / sum D`` and the
    larger (blurrier) direction is kept [1]_. Because both sums scale with the local contrast, the result
    does not depend on it: a low-contrast but sharp picture is not called blurry.

    Product shots on large flat backgrounds would be dominated by the background, whose differences are
    zero. The sums are therefore restricted to the ``top_fraction`` tiles with the largest gradient energy
    ``sum D`` (the textured or edge regions), as sharpness is judged where there is detail.

    References
    ----------
    .. [1] F. Crété-Roffet, T. Dolmiere, P. Ladret and M. Nicolas, "The blur effect: perception and
       estimation with a new no-reference perceptual blur metric", Proc. SPIE 6492, Human Vision and
       Electronic Imaging XII, 2007.
    """
    grey = np.asarray(grey, dtype=np.float32)
    h, w = grey.shape
    if h < 3 or w < 3:
        return 0.0
    kernel = np.full(9, 1.0 / 9.0, dtype=np.float32)
    one = np.ones(1, np.float32)
    sums = []
    for axis, blurred in ((0, cv2.sepFilter2D(grey, -1, one, kernel, borderType=cv2.BORDER_REFLECT)),
                          (1, cv2.sepFilter2D(grey, -1, kernel, one, borderType=cv2.BORDER_REFLECT))):
        if axis == 0:
            d = cv2.absdiff(grey[1:], grey[:-1])[:, :-1]
            db = cv2.absdiff(blurred[1:], blurred[:-1])[:, :-1]
        else:
            d = cv2.absdiff(grey[:, 1:], grey[:, :-1])[:-1]
            db = cv2.absdiff(blurred[:, 1:], blurred[:, :-1])[:-1]
        v = cv2.max(cv2.subtract(d, db), 0.0)
        sums.append((d, v))
    t = min(tile, h - 1, w - 1)
    (dv, vv), (dh, vh) = sums
    tiles = [_tile_means(x, t) for x in (dv, vv, dh, vh)]
    energy = (tiles[0] + tiles[2]).ravel()
    n = energy.size
    k = min(n, max(4, int(np.ceil(top_fraction * n))))
    chosen = np.argpartition(-energy, k - 1)[:k] if k < n else np.arange(n)
    chosen = chosen[energy[chosen] > 0]
    if chosen.size == 0:
        return 0.0
    s_dv, s_vv, s_dh, s_vh = (float(x.ravel()[chosen].sum()) for x in tiles)
    blur_ver = (s_dv - s_vv) / s_dv if s_dv > 0 else 1.0
    blur_hor = (s_dh - s_vh) / s_dh if s_dh > 0 else 1.0
    return float(np.clip(1.0 - max(blur_ver, blur_hor), 0.0, 1.0))


# ------------------------------------------------------------------------------------------------------------
# Noise
# ------------------------------------------------------------------------------------------------------------

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def noise_sigma(grey: np.ndarray, edge_fraction: float = 0.1) -> float:
    """Standard deviation of additive Gaussian noise, in 0-255 units, estimated from one image.

    Parameters
    ----------
    grey
        (H, W) float32 luma in 0-1 (see :func:`luma`); :func:`compute_all` passes a full-resolution centre
        crop.
    edge_fraction
        Fraction of pixels with the largest Sobel gradient treated as edges and left out.

    Returns
    -------
    float
        Estimated noise sigma (0-255 scale); 0.0 when no usable pixels remain.

    Notes
    -----
    Immerkær's fast estimator convolves the image with the difference of two Laplacians ``M``, which cancels
    locally linear (and most quadratic) image structure, and takes
    ``sigma = sqrt(pi / 2) * mean(|I * M|) / 6`` [1]_. Image edges and texture leak through ``M`` and read as
    noise, so, following Tai and Yang [2]_, pixels whose Sobel gradient magnitude is in the top
    ``edge_fraction`` are excluded. Pixels in clipped areas (luma 0 or 1 in a 3x3 neighbourhood) are excluded
    as well, because clipping removes the noise there (a pure white backdrop would otherwise dilute it).

    References
    ----------
    .. [1] J. Immerkær, "Fast noise variance estimation", Computer Vision and Image Understanding 64(2),
       300-302, 1996.
    .. [2] S.-C. Tai and S.-M. Yang, "A fast method for image noise estimation using Laplacian operator and
       adaptive edge detection", Proc. ISCCSP 2008.
    """
    grey = np.asarray(grey, dtype=np.float32) * np.float32(255.0)
    h, w = grey.shape
    if h < 3 or w < 3:
        return 0.0
    resp = np.abs(cv2.filter2D(grey, -1, _IMMERKAER, borderType=cv2.BORDER_REFLECT))[1:-1, 1:-1]
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    mag = (np.abs(gx) + np.abs(gy))[1:-1, 1:-1]
    lo = cv2.erode(grey, np.ones((3, 3), np.uint8))[1:-1, 1:-1]
    hi = cv2.dilate(grey, np.ones((3, 3), np.uint8))[1:-1, 1:-1]
    usable = (lo > 0.5) & (hi < 254.5)
    step = 1 if usable.size < 65536 else 3  # the edge threshold is a quantile: a subsample estimates it
    sample = mag[::step, ::step][usable[::step, ::step]]
    if sample.size == 0:
        return 0.0
    threshold = np.partition(sample, int((1.0 - edge_fraction) * (sample.size - 1)))[
        int((1.0 - edge_fraction) * (sample.size - 1))]
    mask = (usable & (mag <= threshold)).view(np.uint8)
    if not mask.any():
        return 0.0
    return float(np.sqrt(np.pi / 2.0) * cv2.mean(resp, mask=mask)[0] / 6.0)


# ------------------------------------------------------------------------------------------------------------
# Exposure and contrast
# ------------------------------------------------------------------------------------------------------------

def mean_luminance(grey: np.ndarray) -> float:
    """Mean Rec. 709 luma of the sRGB values, 0 (black) to 1 (white).

    Parameters
    ----------
    grey
        (H, W) float32 luma in 0-1 (see :func:`luma`).

    Returns
    -------
    float
        The mean luma.

    Notes
    -----
    Luma of gamma-encoded values (ITU-R BT.709 weights), not linear-light luminance: a mid-grey sRGB 128
    gives 0.5. Well exposed photos mostly lie between 0.3 and 0.7.

    References
    ----------
    .. [1] ITU-R Recommendation BT.709-6, "Parameter values for the HDTV standards for production and
       international programme exchange", 2015.
    """
    return float(np.mean(grey, dtype=np.float64))


def clipped_fractions(grey: np.ndarray, low: float = 5.0 / 255.0, high: float = 250.0 / 255.0
                      ) -> tuple[float, float]:
    """Fractions of pixels with clipped highlights and crushed shadows.

    Parameters
    ----------
    grey
        (H, W) float32 luma in 0-1 (see :func:`luma`).
    low, high
        Luma at or below ``low`` counts as a crushed shadow, at or above ``high`` as a blown highlight.

    Returns
    -------
    tuple of float
        ``(highlights, shadows)``, each a fraction 0-1 of all pixels.

    Notes
    -----
    The thresholds (5/255 and 250/255) follow the usual histogram-clipping warnings of raw converters; they
    apply to luma, so a saturated red (one channel at 255) does not count as a blown highlight.
    """
    n = grey.size
    if n == 0:
        return 0.0, 0.0
    eps = 1e-6
    return (float(np.count_nonzero(grey >= high - eps)) / n, float(np.count_nonzero(grey <= low + eps)) / n)


def rms_contrast(grey: np.ndarray) -> float:
    """RMS contrast: the standard deviation of luma in 0-1.

    Parameters
    ----------
    grey
        (H, W) float32 luma in 0-1 (see :func:`luma`).

    Returns
    -------
    float
        0 for a flat image, at most 0.5; ordinary photos about 0.15-0.3.

    References
    ----------
    .. [1] E. Peli, "Contrast in complex images", Journal of the Optical Society of America A 7(10),
       2032-2040, 1990.
    """
    return float(cv2.meanStdDev(np.ascontiguousarray(grey, dtype=np.float32))[1][0, 0])


# ------------------------------------------------------------------------------------------------------------
# Colour
# ------------------------------------------------------------------------------------------------------------

def colour_cast(rgb: np.ndarray, longest_side: int = 512) -> float:
    """Strength of a colour cast: the angle (degrees) between the grey-edge illuminant estimate and white.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 sRGB image, normally the working image.
    longest_side
        The estimate is a global statistic; it is taken on a copy shrunk to this longest side for speed.

    Returns
    -------
    float
        Angle in degrees, 0 (neutral) to at most about 55. Photos of neutral scenes under neutral light give
        about 0-10; a clear cast about 15 and more. Scenes dominated by one strongly coloured surface (a
        field of flowers, a red wall) also read 20-40: no single-image statistic can tell a coloured scene
        from a coloured light, so the sub-score anchors are lenient.

    Notes
    -----
    The grey-edge hypothesis [1]_ says the average colour of image *edges* is achromatic under white light,
    so the Minkowski (p = 2) norm of the per-channel gradient magnitude of the linear-light image, smoothed by
    a Gaussian of sigma 1, estimates the colour of the illuminant ``e = (e_R, e_G, e_B)``. The cast is its
    angular distance from the neutral axis ``(1, 1, 1)`` [2]_. A white-balance error multiplies the channels
    of linear light by gains, which multiply ``e`` by the same gains, so the angle grows with the error.
    Compared with grey-world statistics (mean a*, b* or the CIELAB "equivalent circle" ``D / M``), edges are
    less dominated by large uniformly coloured areas.

    References
    ----------
    .. [1] J. van de Weijer, T. Gevers and A. Gijsenij, "Edge-based color constancy", IEEE Transactions on
       Image Processing 16(9), 2207-2214, 2007.
    .. [2] S. D. Hordley and G. D. Finlayson, "Reevaluation of color constancy algorithm performance",
       Journal of the Optical Society of America A 23(5), 1008-1020, 2006 (the angular error).
    """
    small = working_image(rgb, longest_side)
    if small.shape[0] < 3 or small.shape[1] < 3:
        return 0.0
    lin = cv2.GaussianBlur(_SRGB_TO_LINEAR[small], (0, 0), 1.0)
    gx = cv2.Sobel(lin, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lin, cv2.CV_32F, 0, 1, ksize=3)
    energy = np.asarray(cv2.mean(cv2.multiply(gx, gx) + cv2.multiply(gy, gy))[:3], dtype=np.float64)
    e = np.sqrt(energy)
    norm = float(np.linalg.norm(e))
    if norm < 1e-9:
        return 0.0
    cos = float(e.sum()) / (norm * np.sqrt(3.0))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def colourfulness(rgb: np.ndarray) -> float:
    """Colourfulness metric ``M`` of Hasler and Süsstrunk.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image.

    Returns
    -------
    float
        0 for a grey image; about 15 "slightly", 33 "moderately", 59 "quite", 82 "highly", 109 "extremely"
        colourful (the paper's scale).

    Notes
    -----
    With the opponent components ``rg = R - G`` and ``yb = (R + G) / 2 - B`` of the 0-255 sRGB values,
    ``M = sqrt(var rg + var yb) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)`` [1]_.

    References
    ----------
    .. [1] D. Hasler and S. Süsstrunk, "Measuring colourfulness in natural images", Proc. SPIE 5007,
       Human Vision and Electronic Imaging VIII, 87-95, 2003.
    """
    # rows of the opponent transform: rg = R - G and 2 * yb = R + G - 2B (integers, exact in int16)
    opp = cv2.transform(rgb.astype(np.int16), np.array([[1, -1, 0], [1, 1, -2]], dtype=np.float32))
    mean, std = cv2.meanStdDev(opp)
    mean = mean.ravel() * np.array([1.0, 0.5])
    std = std.ravel() * np.array([1.0, 0.5])
    return float(np.hypot(std[0], std[1]) + 0.3 * np.hypot(mean[0], mean[1]))


# ------------------------------------------------------------------------------------------------------------
# Compression
# ------------------------------------------------------------------------------------------------------------

def blockiness(rgb: np.ndarray, block: int = 8, max_side: int = 1024) -> float:
    """JPEG blocking: mean luma step across 8x8 block boundaries over the mean step inside blocks.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image at its **full (decoded) resolution**: resizing destroys the block grid.
    block
        Block size of the codec (8 for JPEG luma).
    max_side
        The measure reads a centre crop of at most ``max_side`` x ``max_side`` pixels whose origin lies on
        the block grid, for speed.

    Returns
    -------
    float
        About 1.0 without blocking (boundaries look like any other column/row), growing with blocking
        (often 2-5 at JPEG quality 10). 1.0 for an image too small or too flat to tell.

    Notes
    -----
    Following Wang, Sheikh and Bovik [1]_ (and the block-boundary difference signal of Wang, Bovik and Evans
    [2]_), the horizontal and vertical absolute luma differences are averaged separately over positions that
    straddle a block boundary (``B``) and over positions inside blocks (``A``); the result is the mean of
    ``(B + e) / (A + e)`` over both directions, with ``e = 0.5`` (in 0-255 units) so that flat images give 1.

    References
    ----------
    .. [1] Z. Wang, H. R. Sheikh and A. C. Bovik, "No-reference perceptual quality assessment of JPEG
       compressed images", Proc. IEEE ICIP 2002, vol. 1, 477-480.
    .. [2] Z. Wang, A. C. Bovik and B. L. Evans, "Blind measurement of blocking artifacts in images",
       Proc. IEEE ICIP 2000, vol. 3, 981-984.
    """
    crop = centre_crop(rgb, max_side, block)
    if crop.shape[0] < 2 * block or crop.shape[1] < 2 * block:
        return 1.0
    grey = luma(crop) * np.float32(255.0)
    eps = 0.5
    ratios = []
    for d in (np.abs(np.diff(grey, axis=1)), np.abs(np.diff(grey, axis=0)).T):
        # d[:, j] is the step between columns j and j+1; a boundary lies after column block-1, 2*block-1, ...
        col_means = d.mean(axis=0, dtype=np.float64)
        at_boundary = (np.arange(col_means.size) % block) == block - 1
        b = col_means[at_boundary].mean()
        a = col_means[~at_boundary].mean()
        ratios.append((b + eps) / (a + eps))
    return float(np.mean(ratios))
