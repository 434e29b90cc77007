"""Graded synthetic distortions for training and testing quality models.

Each distortion maps an RGB uint8 image, a level from 1 (barely visible) to 5 (severe) and a
:class:`numpy.random.Generator` to a distorted image of the same shape and dtype. Given the same generator
state the output is the same. Within one distortion, a higher level degrades the image strictly more (the
tests check that the PSNR against the original falls with the level on real photos). The parameters are in
pixels of the image as given, so apply them at the resolution the model will see.

The parameters were chosen for this project (levels spaced roughly evenly in visual severity at 300-600 px);
they are not those of any benchmark suite, so a model trained on them can be benchmarked on independent
corruption sets.

============== ====================================== ===== ===== ===== ===== =====
name           parameter                               1     2     3     4     5
============== ====================================== ===== ===== ===== ===== =====
gaussian_blur  Gaussian sigma (px)                     0.7   1.2   2.0   3.2   5.0
defocus        disk radius (px), anti-aliased          1.0   1.8   3.0   4.5   7.0
motion_blur    line length (px), random angle          3     6     10    16    25
gaussian_noise noise sigma (of 255), per channel       4     8     13    20    32
poisson_noise  photons at full scale (shot noise)      400   120   45    18    7
impulse_noise  fraction of salt/pepper pixels          0.004 0.012 0.03  0.07  0.15
jpeg           JPEG quality (OpenCV, 4:2:0)            55    30    16    9     4
webp           WebP quality (OpenCV)                   40    18    8     3     1
pixelate       block size (px), area mean per block    1.5   2.5   4     7     12
overexpose     exposure gain in linear light (stops)   +0.3  +0.7  +1.2  +1.8  +2.6
underexpose    exposure gain in linear light (stops)   -0.4  -0.9  -1.5  -2.2  -3.0
low_contrast   contrast kept around the mean           0.85  0.68  0.5   0.34  0.2
colour_cast    white-balance gain spread, random hue   0.07  0.13  0.21  0.31  0.45
haze           extinction beta; t = exp(-beta d)       0.03  0.08  0.18  0.35  0.7
============== ====================================== ===== ===== ===== ===== =====

Notes
-----
Exposure and colour cast act on linear light (sRGB decoded with the IEC 61966-2-1 transfer function) and
re-encode, as a camera's exposure and white balance do. Haze follows the atmospheric scattering model
``I = J t + A (1 - t)`` with transmission ``t = exp(-beta d)`` (Narasimhan & Nayar 2002; He, Sun & Tang
2011), an airlight ``A`` drawn near white and a smooth scene depth ``d`` that grows towards the top of the
frame. Noise is added to each channel independently; shot noise draws Poisson photon counts.

References
----------
.. [1] S. G. Narasimhan and S. K. Nayar, "Vision and the atmosphere", IJCV 48(3), 2002.
.. [2] K. He, J. Sun and X. Tang, "Single image haze removal using dark channel prior", TPAMI 33(12), 2011.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from artlens.errors import ArtlensError
from artlens.imageio import as_rgb_uint8

__all__ = ["DISTORTIONS", "LEVELS", "apply", "random_distortion"]

LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)

Distortion = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]

_BLUR_SIGMA = (0.7, 1.2, 2.0, 3.2, 5.0)
_DEFOCUS_RADIUS = (1.0, 1.8, 3.0, 4.5, 7.0)
_MOTION_LENGTH = (3, 6, 10, 16, 25)
_NOISE_SIGMA = (4.0, 8.0, 13.0, 20.0, 32.0)
_PHOTONS = (400.0, 120.0, 45.0, 18.0, 7.0)
_IMPULSE_FRACTION = (0.004, 0.012, 0.03, 0.07, 0.15)
_JPEG_QUALITY = (55, 30, 16, 9, 4)
_WEBP_QUALITY = (40, 18, 8, 3, 1)
_PIXEL_BLOCK = (1.5, 2.5, 4, 7, 12)
_OVER_STOPS = (0.3, 0.7, 1.2, 1.8, 2.6)
_UNDER_STOPS = (-0.4, -0.9, -1.5, -2.2, -3.0)
_CONTRAST_KEPT = (0.85, 0.68, 0.5, 0.34, 0.2)
_CAST_SPREAD = (0.07, 0.13, 0.21, 0.31, 0.45)
_HAZE_BETA = (0.03, 0.08, 0.18, 0.35, 0.7)


# ------------------------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------------------------

def _checked(rgb: np.ndarray, level: int) -> np.ndarray:
    if isinstance(level, bool) or not isinstance(level, int | np.integer) or not 1 <= level <= 5:
        raise ArtlensError(f"distortion level must be an integer from 1 to 5, got {level!r}")
    return as_rgb_uint8(rgb, min_side=2)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


_SRGB_TO_LINEAR = np.where(
    np.arange(256) / 255.0 <= 0.04045,
    np.arange(256) / 255.0 / 12.92,
    ((np.arange(256) / 255.0 + 0.055) / 1.055) ** 2.4,
).astype(np.float32)


def _linear_to_srgb8(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * np.power(lin, 1.0 / 2.4) - 0.055)
    return _to_uint8(srgb * 255.0)


def _filter(rgb: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    kernel = (kernel / kernel.sum()).astype(np.float32)
    out = cv2.filter2D(rgb.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT_101)
    return _to_uint8(out)


def _codec(rgb: np.ndarray, ext: str, flag: int, quality: int) -> np.ndarray:
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    ok, buf = cv2.imencode(ext, bgr, [flag, int(quality)])
    if not ok:  # pragma: no cover - both codecs ship with opencv-python wheels
        raise ArtlensError(f"OpenCV could not encode {ext}")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(decoded[..., ::-1])


# ------------------------------------------------------------------------------------------------------------
# Blur
# ------------------------------------------------------------------------------------------------------------

def gaussian_blur(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Isotropic Gaussian blur (out-of-focus lens approximated by a Gaussian point spread)."""
    rgb = _checked(rgb, level)
    sigma = _BLUR_SIGMA[level - 1]
    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101)


def _disk(radius: float) -> np.ndarray:
    """An anti-aliased disk: each cell weighted by the area of it inside the circle (4x4 supersampling)."""
    half = int(np.ceil(radius))
    sub = (np.arange(4) + 0.5) / 4.0 - 0.5
    grid = np.arange(-half, half + 1, dtype=np.float64)
    x = (grid[:, None] + sub[None, :]).ravel()
    inside = (x[:, None] ** 2 + x[None, :] ** 2) <= radius**2
    n = grid.size
    return inside.reshape(n, 4, n, 4).mean(axis=(1, 3))


def defocus(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Defocus blur: convolution with a uniform disk, the geometric point spread of a defocused lens."""
    rgb = _checked(rgb, level)
    return _filter(rgb, _disk(_DEFOCUS_RADIUS[level - 1]))


def motion_blur(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Linear camera-shake blur: a line kernel of fixed length at an angle drawn from ``rng``."""
    rgb = _checked(rgb, level)
    length = _MOTION_LENGTH[level - 1]
    angle = rng.uniform(0.0, np.pi)
    size = length + 2 if length % 2 else length + 3
    c = (size - 1) / 2.0
    dx, dy = np.cos(angle) * (length - 1) / 2.0, np.sin(angle) * (length - 1) / 2.0
    # a line drawn with anti-aliasing at 8x resolution, then area-reduced, keeps short kernels symmetric
    big = np.zeros((size * 8, size * 8), np.uint8)
    p0 = (round((c - dx) * 8 + 3.5), round((c - dy) * 8 + 3.5))
    p1 = (round((c + dx) * 8 + 3.5), round((c + dy) * 8 + 3.5))
    cv2.line(big, p0, p1, 255, thickness=8, lineType=cv2.LINE_AA)
    kernel = cv2.resize(big.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return _filter(rgb, kernel)


# ------------------------------------------------------------------------------------------------------------
# Noise
# ------------------------------------------------------------------------------------------------------------

def gaussian_noise(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Additive white Gaussian noise, independent per pixel and channel."""
    rgb = _checked(rgb, level)
    noise = rng.standard_normal(rgb.shape, dtype=np.float32) * np.float32(_NOISE_SIGMA[level - 1])
    return _to_uint8(rgb.astype(np.float32) + noise)


def poisson_noise(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Shot noise: Poisson photon counts on linear light scaled so full scale collects ``photons``."""
    rgb = _checked(rgb, level)
    photons = _PHOTONS[level - 1]
    lin = _SRGB_TO_LINEAR[rgb]
    counts = rng.poisson(lin.astype(np.float64) * photons)
    return _linear_to_srgb8((counts / photons).astype(np.float32))


def impulse_noise(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Salt-and-pepper noise: a fraction of pixels set to black or white (all channels)."""
    rgb = _checked(rgb, level)
    fraction = _IMPULSE_FRACTION[level - 1]
    u = rng.random(rgb.shape[:2])  # one draw per pixel: higher levels hit a superset of pixels
    salt = rng.random(rgb.shape[:2]) < 0.5
    out = rgb.copy()
    hit = u < fraction
    out[hit & salt] = 255
    out[hit & ~salt] = 0
    return out


# ------------------------------------------------------------------------------------------------------------
# Compression and resolution
# ------------------------------------------------------------------------------------------------------------

def jpeg(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """JPEG compression round trip (blocking, ringing, chroma bleeding)."""
    rgb = _checked(rgb, level)
    return _codec(rgb, ".jpg", cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY[level - 1])


def webp(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Lossy WebP round trip (smearing and block-edge artefacts of VP8 intra coding)."""
    rgb = _checked(rgb, level)
    return _codec(rgb, ".webp", cv2.IMWRITE_WEBP_QUALITY, _WEBP_QUALITY[level - 1])


def pixelate(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Low resolution shown large: the image shrunk by the block size (area mean) and enlarged back by pixel
    repetition (nearest neighbour). Block sizes need not be whole: a picture enlarged 1.5 times repeats every
    other pixel, as an upload blown up to a shop's minimum size does."""
    rgb = _checked(rgb, level)
    block = _PIXEL_BLOCK[level - 1]
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, round(w / block)), max(1, round(h / block))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


# ------------------------------------------------------------------------------------------------------------
# Exposure, contrast, colour, haze
# ------------------------------------------------------------------------------------------------------------

def overexpose(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Too much exposure: linear light multiplied by ``2**stops`` and clipped (blown highlights)."""
    rgb = _checked(rgb, level)
    return _linear_to_srgb8(_SRGB_TO_LINEAR[rgb] * np.float32(2.0 ** _OVER_STOPS[level - 1]))


def underexpose(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Too little exposure: linear light divided by ``2**stops`` (dark, crushed shadows after 8-bit)."""
    rgb = _checked(rgb, level)
    return _linear_to_srgb8(_SRGB_TO_LINEAR[rgb] * np.float32(2.0 ** _UNDER_STOPS[level - 1]))


def low_contrast(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Flat image: deviations from the mean grey level scaled down."""
    rgb = _checked(rgb, level)
    x = rgb.astype(np.float32)
    mean = x.mean()
    return _to_uint8(mean + (x - mean) * np.float32(_CONTRAST_KEPT[level - 1]))


def colour_cast(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Wrong white balance: per-channel gains on linear light along a random hue, luminance kept."""
    rgb = _checked(rgb, level)
    spread = _CAST_SPREAD[level - 1]
    hue = rng.uniform(0.0, 2.0 * np.pi)
    # a unit direction in the plane of zero-sum gain changes (R, G, B)
    u = np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)
    v = np.array([1.0, 1.0, -2.0]) / np.sqrt(6.0)
    gains = np.exp(spread * (np.cos(hue) * u + np.sin(hue) * v) * np.sqrt(2.0))
    luma = np.array([0.2126, 0.7152, 0.0722])
    gains = gains / float(luma @ gains)  # keep the luminance of grey unchanged
    return _linear_to_srgb8(_SRGB_TO_LINEAR[rgb] * gains.astype(np.float32))


def haze(rgb: np.ndarray, level: int, rng: np.random.Generator) -> np.ndarray:
    """Haze or fog by the atmospheric scattering model ``I = J t + A (1 - t)``, ``t = exp(-beta d)``."""
    rgb = _checked(rgb, level)
    h, w = rgb.shape[:2]
    beta = _HAZE_BETA[level - 1]
    airlight = rng.uniform(0.82, 0.97) + rng.uniform(-0.03, 0.03, size=3)  # near white, slight tint
    # smooth depth in [0.5, 1.5]: farther towards the top, with a gentle random tilt
    y = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None]
    x = np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :]
    depth = 0.5 + y + np.float32(rng.uniform(-0.15, 0.15)) * x
    t = np.exp(-beta * depth)[..., None]
    lin = _SRGB_TO_LINEAR[rgb]
    hazy = lin * t + airlight.astype(np.float32) ** 2.2 * (1.0 - t)
    return _linear_to_srgb8(hazy)


DISTORTIONS: dict[str, Distortion] = {
    "gaussian_blur": gaussian_blur,
    "defocus": defocus,
    "motion_blur": motion_blur,
    "gaussian_noise": gaussian_noise,
    "poisson_noise": poisson_noise,
    "impulse_noise": impulse_noise,
    "jpeg": jpeg,
    "webp": webp,
    "pixelate": pixelate,
    "overexpose": overexpose,
    "underexpose": underexpose,
    "low_contrast": low_contrast,
    "colour_cast": colour_cast,
    "haze": haze,
}


def apply(rgb: np.ndarray, name: str, level: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Apply the distortion ``name`` at ``level``.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8 RGB image; it is not modified.
    name
        A key of :data:`DISTORTIONS`.
    level
        1 (barely visible) to 5 (severe).
    rng
        Source of the distortion's randomness (noise, angles, hues); ``default_rng(0)`` when None.

    Returns
    -------
    numpy.ndarray
        The distorted image, same shape and dtype.

    Raises
    ------
    ArtlensError
        Unknown name, level outside 1-5, or an input that is not an RGB uint8 image.
    """
    fn = DISTORTIONS.get(name)
    if fn is None:
        raise ArtlensError(f"unknown distortion {name!r}; available: {', '.join(DISTORTIONS)}")
    return fn(rgb, level, rng if rng is not None else np.random.default_rng(0))


def random_distortion(rgb: np.ndarray, rng: np.random.Generator) -> tuple[str, int, np.ndarray]:
    """A distortion and level drawn uniformly from ``rng``, applied to ``rgb``.

    Returns
    -------
    tuple
        ``(name, level, distorted image)``.
    """
    names = list(DISTORTIONS)
    name = names[int(rng.integers(len(names)))]
    level = int(rng.integers(1, 6))
    return name, level, DISTORTIONS[name](rgb, level, rng)
