"""Small images for the style tests: a photo crop and a procedural 'painting' (coloured diagonal strokes)."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def painting() -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:96]
    stripes = ((xx + yy) // 6) % 3
    palette = np.array([[230, 190, 40], [30, 60, 160], [200, 60, 30]], np.uint8)
    img = palette[stripes].astype(np.int16) + rng.integers(-15, 16, (96, 96, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def small_photo(photos) -> np.ndarray:
    return photos["chelsea"][::3, ::3].copy()  # 100 x 151
