"""NSS descriptors of the learned quality model's second head."""

from __future__ import annotations

import cv2
import numpy as np

from artlens.quality.brisque import brisque_features
from artlens.quality.descriptors import DESCRIPTOR_NAMES, describe, quality_descriptors
from artlens.quality.niqe import niqe


def _unlog(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.expm1(np.abs(x))


def test_layout_and_reuse_of_precomputed_parts(photos):
    rgb = photos["coffee"]
    d = quality_descriptors(rgb)
    assert d.shape == (len(DESCRIPTOR_NAMES),) == (43,) and d.dtype == np.float32 and np.isfinite(d).all()
    b, q = brisque_features(rgb), niqe(rgb)
    np.testing.assert_allclose(_unlog(d[:36].astype(np.float64)), b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_unlog(np.float64(d[36])), q, rtol=1e-5)
    np.testing.assert_array_equal(quality_descriptors(rgb, brisque=b, niqe_value=q), d)


def test_noise_raises_niqe_and_darkening_lowers_luminance(photos):
    rgb = photos["astronaut"]
    rng = np.random.default_rng(0)
    noisy = np.clip(rgb + rng.normal(0, 25, rgb.shape), 0, 255).astype(np.uint8)
    dark = (rgb * 0.3).astype(np.uint8)
    clean, n, k = describe([rgb, noisy, dark])
    niqe_i, lum_i = DESCRIPTOR_NAMES.index("niqe"), DESCRIPTOR_NAMES.index("mean_luminance")
    assert n[niqe_i] > clean[niqe_i] + 0.3
    assert k[lum_i] < 0.5 * clean[lum_i]


def test_tiny_and_grey_images_are_described(photos):
    tiny = cv2.resize(photos["chelsea"], (40, 30), interpolation=cv2.INTER_AREA)
    grey = photos["rocket"][..., 0]
    out = describe([tiny, grey])
    assert out.shape == (2, 43) and np.isfinite(out).all()
