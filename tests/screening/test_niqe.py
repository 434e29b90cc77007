"""NIQE: pristine model, MATLAB-style half-size resize, response to distortions at native and working size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from scipy.stats import spearmanr

from artlens.errors import ArtlensError
from artlens.screening import niqe as niqe_mod
from artlens.screening.niqe import niqe, niqe_features

BLUR = (0.75, 1.25, 2.0, 3.0, 5.0)
NOISE = (4, 8, 14, 22, 32)


def _blurred(img: np.ndarray) -> list[np.ndarray]:
    return [cv2.GaussianBlur(img, (0, 0), s) for s in BLUR]


def _noisy(img: np.ndarray) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.clip(img + rng.normal(0.0, s, img.shape), 0, 255).astype(np.uint8) for s in NOISE]


def _assert_rises(scores: list[float], label: str) -> None:
    assert spearmanr(range(len(scores)), scores)[0] >= 0.9, (label, np.round(scores, 2))
    assert scores[-1] > scores[0] + 2.0, (label, np.round(scores, 2))


def test_pristine_model_and_features(photos):
    mu, cov = niqe_mod._pristine()
    assert mu.shape == (36,) and cov.shape == (36, 36)
    np.testing.assert_allclose(cov, cov.T)
    feats = niqe_features(photos["astronaut"])
    assert feats.shape == ((512 // 96) ** 2, 36)
    assert np.all(np.isfinite(feats))


def test_half_resize_matches_antialiased_bicubic():
    img = np.random.default_rng(1).uniform(0, 255, (96, 128))
    ours = niqe_mod._half(img)
    ref = np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((64, 48), Image.BICUBIC))
    assert ours.shape == (48, 64)
    np.testing.assert_allclose(ours[4:-4, 4:-4], ref[4:-4, 4:-4], atol=1e-3)


def test_feature_layout_follows_pristine_file(photos):
    """Diagonal products repeat the left scale; the location is the scaled AGGD mean."""
    feats = niqe_features(photos["coffee"])
    for base in (0, 18):
        for pair in range(4):
            _, loc, left, right = feats[:, base + 2 + 4 * pair: base + 6 + 4 * pair].T
            if pair >= 2:
                np.testing.assert_array_equal(left, right)
            else:
                assert np.all(np.sign(loc) == np.sign(right - left))
                assert np.all(np.abs(loc) < np.abs(right - left))


def test_pristine_photos_score_plausibly(photos):
    """Clean photos land in the published range (about 2-7 at these sizes), far below blurred ones."""
    scores = {name: niqe(img) for name, img in photos.items()}
    assert all(1.5 < s < 8.0 for s in scores.values()), scores
    blurred = {name: niqe(cv2.GaussianBlur(img, (0, 0), 3.0)) for name, img in photos.items()}
    assert all(blurred[n] > scores[n] + 3.0 for n in scores), (scores, blurred)


def test_input_checks():
    with pytest.raises(ArtlensError):
        niqe(np.zeros((64, 200), np.uint8))
    assert np.isnan(niqe(np.full((192, 192), 90, np.uint8)))


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_rises_with_blur_and_noise(photos, name):
    img = photos[name]
    _assert_rises([niqe(x) for x in _blurred(img)], f"{name} blur")
    _assert_rises([niqe(x) for x in _noisy(img)], f"{name} noise")


def test_ordering_at_working_size(photos):
    """At the recommended working size (longest side 768) the ordering still holds."""
    img = np.pad(photos["astronaut"], ((128, 128), (128, 128), (0, 0)), mode="reflect")
    assert max(img.shape[:2]) == 768
    _assert_rises([niqe(x) for x in _blurred(img)], "768 blur")
    _assert_rises([niqe(x) for x in _noisy(img)], "768 noise")
