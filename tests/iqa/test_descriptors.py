"""NSS descriptors of the learned quality model's second head."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens.errors import ConfigError
from artlens.iqa.descriptors import (
    DESCRIPTOR_NAMES,
    DETAIL_BANDS,
    describe,
    descriptor_columns,
    detail_energies,
    pixel_repeats,
    quality_descriptors,
)
from artlens.screening import metrics
from artlens.screening.brisque import brisque_features
from artlens.screening.niqe import niqe


def _unlog(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.expm1(np.abs(x))


def test_layout_and_reuse_of_precomputed_parts(photos):
    rgb = photos["coffee"]
    d = quality_descriptors(rgb)
    assert d.shape == (len(DESCRIPTOR_NAMES),) == (48,) and d.dtype == np.float32 and np.isfinite(d).all()
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
    assert out.shape == (2, 48) and np.isfinite(out).all()


def test_detail_bands_lose_energy_to_blur_finest_first_and_scale_with_contrast(photos):
    grey = metrics.luma(photos["astronaut"])
    sharp = detail_energies(grey)
    assert sharp.shape == (len(DETAIL_BANDS),) and np.all(sharp > 0)
    blurred = detail_energies(cv2.GaussianBlur(grey, (0, 0), 2.0))
    kept = blurred / sharp
    assert np.all(kept < 1) and np.all(np.diff(kept) > 0), kept  # the finest band loses most
    faded = detail_energies(0.5 + 0.4 * (grey - 0.5))  # fog-like: the same picture at 40 % contrast
    np.testing.assert_allclose(faded, 0.4 * sharp, rtol=1e-3)
    assert np.all(detail_energies(np.full((64, 64), 0.5, np.float32)) == 0)


def test_descriptors_are_chosen_by_name(photos):
    rgb = photos["chelsea"]
    full = quality_descriptors(rgb)
    names = ("detail_0_1", "niqe", "brisque_00")  # any subset, in a model's own order
    np.testing.assert_array_equal(quality_descriptors(rgb, names=names), full[descriptor_columns(names)])
    np.testing.assert_array_equal(describe([rgb], names)[0], full[descriptor_columns(names)])
    with pytest.raises(ConfigError, match="unknown: \\['sharpness'\\]"):
        descriptor_columns(["niqe", "sharpness"])
    with pytest.raises(ConfigError, match="repeated: \\['niqe'\\]"):
        describe([rgb], ["niqe", "niqe"])


def test_pixel_repeats_find_enlargement_by_repetition_only(photos):
    small = cv2.resize(photos["astronaut"], (256, 256), interpolation=cv2.INTER_AREA)

    def enlarged(factor: float, flag: int) -> float:
        big = cv2.resize(small, (0, 0), fx=factor, fy=factor, interpolation=flag)
        return pixel_repeats(metrics.luma(big))

    photo = pixel_repeats(metrics.luma(small))
    nearest = [enlarged(f, cv2.INTER_NEAREST) for f in (1.5, 2, 3)]
    assert photo < 0.3 < nearest[0] < nearest[1] < nearest[2], (photo, nearest)
    assert enlarged(2, cv2.INTER_CUBIC) < photo + 0.05  # smooth enlargement repeats no pixels (blur is seen)
    assert np.isnan(pixel_repeats(np.full((64, 64), 0.5, np.float32)))  # no detail to judge
