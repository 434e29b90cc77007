"""Training-time augmentation for fine-tuning: random resized crop, horizontal flip, colour jitter.

Everything is numpy/OpenCV on uint8 RGB images and draws its randomness from a caller's
:class:`numpy.random.Generator`, so a seed fixes every view. :func:`train_view` turns a stored image into one
normalised (3, S, S) input for the trunk; the evaluation transform stays
:meth:`artlens.models.backbones.Backbone.
preprocess` (resize the shorter side, centre crop), which is what inference sees.

The crop follows the "Inception" recipe [1]_: a window covering a random fraction ``scale`` of the image
area with a random aspect ratio (log-uniform in ``ratio``), resized to the network's input. Colour jitter
scales brightness, contrast (around the mean grey) and saturation (around each pixel's grey) by factors drawn
uniformly in ``[1 - x, 1 + x]``, in that order.

References
----------
.. [1] C. Szegedy et al., "Going deeper with convolutions", CVPR 2015.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import cv2
import numpy as np

from artlens.errors import ConfigError

__all__ = ["AugmentSettings", "centre_crop", "color_jitter", "downscale", "normalise", "random_resized_crop",
           "train_view"]

_GREY = np.asarray([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma weights
_ATTEMPTS = 10  # crop windows tried before falling back to the largest centred one


@dataclass(frozen=True)
class AugmentSettings:
    """How training views are drawn (recorded in ``config.json`` under ``settings.augment``).

    Attributes
    ----------
    crop
        Draw random resized crops; when False every view is the centred crop of the evaluation transform.
    scale
        Range of the crop's fraction of the image area, within (0, 1].
    ratio
        Range of the crop's aspect ratio (width / height), positive.
    flip
        Probability of a horizontal flip, in [0, 1].
    brightness, contrast, saturation
        Jitter strength ``x`` in [0, 1): each factor is uniform in ``[1 - x, 1 + x]``; 0 turns it off.
    """

    crop: bool = True
    scale: tuple[float, float] = (0.25, 1.0)
    ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)
    flip: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2

    def __post_init__(self) -> None:
        if not isinstance(self.crop, bool):
            raise ConfigError(f"augment crop must be true or false, got {self.crop!r}")
        lo, hi = _pair(self.scale, "scale")
        if not 0.0 < lo <= hi <= 1.0:
            raise ConfigError(f"augment scale must satisfy 0 < low <= high <= 1, got {self.scale}")
        rlo, rhi = _pair(self.ratio, "ratio")
        if not 0.0 < rlo <= rhi:
            raise ConfigError(f"augment ratio must satisfy 0 < low <= high, got {self.ratio}")
        object.__setattr__(self, "scale", (lo, hi))
        object.__setattr__(self, "ratio", (rlo, rhi))
        if not isinstance(self.flip, (int, float)) or not 0.0 <= float(self.flip) <= 1.0:
            raise ConfigError(f"augment flip is a probability in [0, 1], got {self.flip!r}")
        for name in ("brightness", "contrast", "saturation"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= float(value) < 1.0:
                raise ConfigError(f"augment {name} must lie in [0, 1), got {value!r}")

    @classmethod
    def none(cls) -> AugmentSettings:
        """No augmentation: centred crops, no flips, no colour changes."""
        return cls(crop=False, flip=0.0, brightness=0.0, contrast=0.0, saturation=0.0)

    def to_dict(self) -> dict:
        """Plain JSON-ready values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v if isinstance(v, bool) else float(v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict | None) -> AugmentSettings:
        """Settings from a mapping such as ``settings.augment`` of a ``config.json``; missing keys default.

        Raises
        ------
        ConfigError
            An unknown key or a value out of range.
        """
        values = dict(values or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown augment setting(s): {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
        return cls(**values)


def _pair(value: object, name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ConfigError(f"augment {name} must be a (low, high) pair of numbers, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ConfigError(f"augment {name} must be finite, got {value!r}")
    return lo, hi


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == (width, height):
        return image
    shrink = width * height < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def downscale(image: np.ndarray, short_side: int) -> np.ndarray:
    """Shrink an image (area interpolation) so its shorter side is ``short_side``; smaller ones are kept.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB.
    short_side
        Target length of the shorter side.

    Returns
    -------
    numpy.ndarray
        The (possibly) smaller image, contiguous.
    """
    h, w = image.shape[:2]
    if min(h, w) <= short_side:
        return np.ascontiguousarray(image)
    f = short_side / min(h, w)
    return _resize(image, max(short_side, round(w * f)), max(short_side, round(h * f)))


def random_resized_crop(image: np.ndarray, rng: np.random.Generator, size: int,
                        scale: tuple[float, float] = (0.25, 1.0),
                        ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)) -> np.ndarray:
    """A random window of the image resized to ``size`` x ``size`` ("Inception" crop, Szegedy et al. 2015).

    Parameters
    ----------
    image
        (H, W, C) array.
    rng
        Source of randomness.
    size
        Output side.
    scale
        Range of the window's fraction of the image area.
    ratio
        Range of the window's aspect ratio (width / height), sampled log-uniformly.

    Returns
    -------
    numpy.ndarray
        (size, size, C), same dtype.

    Notes
    -----
    Up to 10 windows are drawn; when none fits inside the image the largest centred window whose ratio lies
    in ``ratio`` is used.
    """
    h, w = image.shape[:2]
    area = float(h * w)
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(_ATTEMPTS):
        target = area * rng.uniform(scale[0], scale[1])
        r = math.exp(rng.uniform(log_lo, log_hi))
        cw = round(math.sqrt(target * r))
        ch = round(math.sqrt(target / r))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(rng.integers(0, h - ch + 1))
            left = int(rng.integers(0, w - cw + 1))
            break
    else:
        r = min(max(w / h, ratio[0]), ratio[1])
        cw, ch = (w, min(h, round(w / r))) if w / h < r else (min(w, round(h * r)), h)
        top, left = (h - ch) // 2, (w - cw) // 2
    return _resize(np.ascontiguousarray(image[top:top + ch, left:left + cw]), size, size)


def centre_crop(image: np.ndarray, size: int, fraction: float = 0.875) -> np.ndarray:
    """The centred square whose side is ``fraction`` of the shorter side, resized to ``size`` x ``size``.

    With ``fraction = input_size / resize`` this is the evaluation transform (resize the shorter side, then
    centre-crop) with the two steps in the other order.
    """
    h, w = image.shape[:2]
    side = max(1, min(h, w, round(min(h, w) * fraction)))
    top, left = (h - side) // 2, (w - side) // 2
    return _resize(np.ascontiguousarray(image[top:top + side, left:left + side]), size, size)


def color_jitter(image: np.ndarray, rng: np.random.Generator, brightness: float = 0.2,
                 contrast: float = 0.2, saturation: float = 0.2) -> np.ndarray:
    """Random brightness, contrast and saturation changes of an RGB image.

    Parameters
    ----------
    image
        (H, W, 3) RGB, uint8 or float in [0, 255].
    rng
        Source of randomness (three draws, whatever the strengths, so sequences stay aligned).
    brightness, contrast, saturation
        Strength ``x`` of each change: the factor is uniform in ``[1 - x, 1 + x]``.

    Returns
    -------
    numpy.ndarray
        (H, W, 3) float32 in [0, 255].

    Notes
    -----
    Brightness multiplies every value; contrast blends with the image's mean grey level; saturation blends
    each pixel with its own grey level (BT.601 luma), all by the drawn factor.
    """
    fb, fc, fs = (1.0 + rng.uniform(-x, x) for x in (brightness, contrast, saturation))
    x = image.astype(np.float32)
    if fb != 1.0:
        x *= np.float32(fb)
    if fc != 1.0:
        m = float((x @ _GREY).mean())
        x = (x - m) * np.float32(fc) + np.float32(m)
    if fs != 1.0:
        g = (x @ _GREY)[..., None]
        x = (x - g) * np.float32(fs) + g
    return np.clip(x, 0.0, 255.0, out=x)


def normalise(image: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """(H, W, 3) RGB in [0, 255] to a (3, H, W) float32 array ``(x / 255 - mean) / std``."""
    scale = (1.0 / (255.0 * np.asarray(std, np.float32))).astype(np.float32)
    offset = (np.asarray(mean, np.float32) / np.asarray(std, np.float32)).astype(np.float32)
    out = image.astype(np.float32, copy=False) * scale - offset
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def train_view(image: np.ndarray, rng: np.random.Generator, settings: AugmentSettings, size: int,
               mean: Sequence[float], std: Sequence[float], crop_fraction: float = 0.875) -> np.ndarray:
    """One augmented, normalised training input: crop, flip, jitter, normalise.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB (typically :func:`downscale`-d once and kept in memory).
    rng
        Source of randomness; the same generator state gives the same view.
    settings
        What to apply.
    size
        The trunk's input side.
    mean, std
        The backbone's normalisation of RGB values in [0, 1].
    crop_fraction
        Side of the centred crop relative to the shorter side when ``settings.crop`` is off (the backbone's
        ``input_size / resize``).

    Returns
    -------
    numpy.ndarray
        (3, size, size) float32.
    """
    if settings.crop:
        x = random_resized_crop(image, rng, size, settings.scale, settings.ratio)
    else:
        x = centre_crop(image, size, crop_fraction)
    if rng.random() < settings.flip:
        x = x[:, ::-1]
    x = color_jitter(x, rng, settings.brightness, settings.contrast, settings.saturation)
    return normalise(x, mean, std)
