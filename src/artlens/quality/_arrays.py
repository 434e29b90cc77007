"""Input checking shared by the image measurements: one RGB uint8 array convention for all of them."""

from __future__ import annotations

import numpy as np

from artlens.errors import ArtlensError


def check_rgb(rgb: np.ndarray, min_side: int = 1) -> np.ndarray:
    """``rgb`` as a contiguous (H, W, 3) uint8 array; float images in [0, 1] are scaled to 0-255.

    Raises
    ------
    ArtlensError
        The array is not (H, W, 3) or a side is shorter than ``min_side``.
    """
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < min_side or arr.shape[1] < min_side:
        raise ArtlensError(f"expected an RGB image (H, W, 3) with H, W >= {min_side}, got {arr.shape}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and float(np.nanmax(arr)) <= 1.0:
            arr = arr * 255.0
        arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)
