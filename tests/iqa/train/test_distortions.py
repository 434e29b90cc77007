"""Graded synthetic distortions: shape, determinism and strictly increasing damage with the level."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from artlens.errors import ArtlensError
from artlens.iqa.train.distortions import DISTORTIONS, LEVELS, apply, random_distortion

EXPECTED = {
    "gaussian_blur", "defocus", "motion_blur", "gaussian_noise", "poisson_noise", "impulse_noise", "jpeg",
    "webp", "pixelate", "overexpose", "underexpose", "low_contrast", "colour_cast", "haze",
}
RANDOM = {"motion_blur", "gaussian_noise", "poisson_noise", "impulse_noise", "colour_cast", "haze"}


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def test_catalogue_is_complete():
    assert set(DISTORTIONS) == EXPECTED
    assert LEVELS == (1, 2, 3, 4, 5)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_psnr_falls_strictly_with_level_on_every_photo(name, photos):
    for photo_name, photo in photos.items():
        original = photo.copy()
        psnrs = []
        for level in LEVELS:
            out = DISTORTIONS[name](photo, level, np.random.default_rng(3))
            assert out.shape == photo.shape and out.dtype == np.uint8
            psnrs.append(_psnr(photo, out))
        np.testing.assert_array_equal(photo, original)  # the input is never modified
        assert np.isfinite(psnrs[0]), f"{name} level 1 leaves {photo_name} unchanged"
        assert all(a > b for a, b in itertools.pairwise(psnrs)), (name, photo_name, psnrs)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_deterministic_given_the_generator(name, photos):
    img = photos["coffee"][:160, :200]
    a = apply(img, name, 3, np.random.default_rng(11))
    b = apply(img, name, 3, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)
    c = apply(img, name, 3, np.random.default_rng(12))
    assert (not np.array_equal(a, c)) == (name in RANDOM)


def test_level_one_is_mild_and_level_five_severe(photos):
    img = photos["astronaut"]
    for name in EXPECTED:
        mild = _psnr(img, apply(img, name, 1))
        severe = _psnr(img, apply(img, name, 5))
        assert severe < mild - 3.0, name


def test_odd_shapes_are_kept():
    img = np.random.default_rng(0).integers(0, 256, (7, 33, 3), dtype=np.uint8)
    for name in EXPECTED:
        for level in LEVELS:
            assert apply(img, name, level).shape == (7, 33, 3)


def test_random_distortion_is_valid_and_repeatable(photos):
    img = photos["chelsea"][:128, :128]
    name, level, out = random_distortion(img, np.random.default_rng(5))
    assert name in DISTORTIONS and level in LEVELS and out.shape == img.shape
    name2, level2, out2 = random_distortion(img, np.random.default_rng(5))
    assert (name, level) == (name2, level2)
    np.testing.assert_array_equal(out, out2)
    drawn = {random_distortion(img[:16, :16], np.random.default_rng(s))[0] for s in range(200)}
    assert drawn == set(DISTORTIONS)


@pytest.mark.parametrize("bad", [
    dict(name="sepia", level=1),
    dict(name="jpeg", level=0),
    dict(name="jpeg", level=6),
    dict(name="jpeg", level=2.0),
])
def test_bad_arguments_raise(bad):
    img = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ArtlensError):
        apply(img, bad["name"], bad["level"])


@pytest.mark.parametrize("img", [np.zeros((16, 16, 2), np.uint8), np.zeros((16, 16, 3), np.uint16),
                                 np.zeros((1, 16, 3), np.uint8)])
def test_arrays_that_are_not_images_raise(img):
    with pytest.raises(ArtlensError):
        apply(img, "gaussian_blur", 1)
