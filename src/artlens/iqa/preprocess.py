"""What the backbone of a quality model is given (downscaled, normalised, padded frames) and how its maps
are pooled into one vector."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from artlens.iqa.config import STRIDE

__all__ = ["normaliser", "pool_maps", "prepare_image"]


def pool_maps(maps: torch.Tensor, name: str) -> torch.Tensor:
    """(B, C, h, w) -> (B, C) by one spatial statistic."""
    flat = maps.flatten(2)
    if name == "mean":
        return flat.mean(dim=2)
    if name == "std":
        return flat.std(dim=2, correction=0)
    if name == "max":
        return flat.amax(dim=2)
    return torch.quantile(flat, int(name[1:]) / 100.0, dim=2)


def normaliser(mean: Sequence[float], std: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, offset)`` float32 (3,) with ``(rgb / 255 - mean) / std == rgb * scale - offset``."""
    scale = (1.0 / (255.0 * np.asarray(std, np.float32))).astype(np.float32)
    offset = (np.asarray(mean, np.float32) * 255.0 * scale).astype(np.float32)
    return scale, offset


def prepare_image(rgb: np.ndarray, size: int, scale: np.ndarray, offset: np.ndarray
                  ) -> tuple[np.ndarray, tuple[int, int]]:
    """Downscale so the longest side is at most ``size``, normalise, pad to a multiple of 32.

    The pad (bottom and right, mirrored) adds no feature cell: a stride-32 trunk maps the (Hp, Wp) result to
    exactly ``(Hp / 32, Wp / 32)`` cells, all of which cover the image.

    Parameters
    ----------
    rgb
        (H, W, 3) uint8.
    size
        Longest side after downscaling (images are never upscaled).
    scale, offset
        From :func:`normaliser` of the backbone's mean and std.

    Returns
    -------
    tuple
        The (3, Hp, Wp) float32 array and the number of feature cells (rows, cols) covering the image.
    """
    h, w = rgb.shape[:2]
    factor = size / max(h, w)
    if factor < 1.0:
        nh, nw = max(1, round(h * factor)), max(1, round(w * factor))
        rgb = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    x = rgb.astype(np.float32) * scale - offset
    ph, pw = -h % STRIDE, -w % STRIDE
    if ph or pw:
        border = cv2.BORDER_REFLECT_101 if ph < h and pw < w else cv2.BORDER_REPLICATE
        x = cv2.copyMakeBorder(x, 0, ph, 0, pw, border)
    return np.ascontiguousarray(x.transpose(2, 0, 1)), (-(-h // STRIDE), -(-w // STRIDE))


