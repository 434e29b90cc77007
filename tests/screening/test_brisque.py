"""BRISQUE: feature layout, model loading, response to distortions, agreement with OpenCV's implementation."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy.stats import spearmanr

from artlens.errors import ArtlensError, WeightsError
from artlens.screening import brisque as brisque_mod
from artlens.screening.brisque import brisque, brisque_features

REPO = Path(__file__).resolve().parents[2]
OPENCV_MODEL, OPENCV_RANGE = "brisque_model_live.yml", "brisque_range_live.yml"


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma)


def _noise(img: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0.0, sigma, img.shape), 0, 255).astype(np.uint8)


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


LEVELS = {
    "blur": (_blur, (0.4, 0.6, 0.9, 1.2, 1.6)),
    "noise": (_noise, (3, 6, 12, 24, 48)),
    "jpeg": (_jpeg, (70, 40, 20, 10, 4)),
}


def test_features_layout_and_input_conventions(photos):
    rgb = photos["chelsea"]
    feats = brisque_features(rgb)
    assert feats.shape == (36,) and np.all(np.isfinite(feats))
    # shapes on the 0.2-10 grid; variances positive; each scale: GGD (2) + 4 x AGGD (4)
    for scale in (0, 18):
        assert 0.2 <= feats[scale] <= 10 and feats[scale + 1] > 0
        for k in range(4):
            alpha, _, lvar, rvar = feats[scale + 2 + 4 * k: scale + 6 + 4 * k]
            assert 0.2 <= alpha <= 10 and lvar > 0 and rvar > 0
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    np.testing.assert_allclose(brisque_features(grey), feats, rtol=1e-6)
    np.testing.assert_allclose(brisque_features(grey.astype(np.float64) / 255.0), feats, rtol=1e-4, atol=1e-6)
    assert brisque(rgb) == pytest.approx(brisque(grey))


def test_small_and_flat_images():
    with pytest.raises(ArtlensError):
        brisque(np.zeros((8, 64), np.uint8))
    assert np.isnan(brisque(np.full((64, 64), 128, np.uint8)))


def test_vectorised_kernel_matches_direct_sum(photos):
    model = brisque_mod._model()
    assert model.support_vectors.shape[1] == 36 and model.gamma > 0
    feats = brisque_features(photos["coffee"])
    span = model.feat_max - model.feat_min
    x = -1.0 + 2.0 * (feats - model.feat_min) / span
    direct = sum(c * np.exp(-model.gamma * np.sum((sv - x) ** 2))
                 for c, sv in zip(model.coefs, model.support_vectors, strict=True)) - model.rho
    assert model.predict(feats) == pytest.approx(direct, rel=1e-9, abs=1e-9)


def test_range_file_loader_refuses_classes(tmp_path):
    good = tmp_path / "ok.pickle"
    good.write_bytes(pickle.dumps({"min_": [0.0] * 36, "max_": [1.0] * 36}))
    lo, hi = brisque_mod._load_ranges(good, 36)
    assert lo.shape == hi.shape == (36,)
    evil = tmp_path / "evil.pickle"
    evil.write_bytes(pickle.dumps({"min_": np.zeros(36), "max_": [1.0] * 36}))  # needs numpy globals
    with pytest.raises(WeightsError, match="refusing"):
        brisque_mod._load_ranges(evil, 36)


@pytest.mark.parametrize("kind", sorted(LEVELS))
def test_rises_with_distortion(photos, kind):
    fn, levels = LEVELS[kind]
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        scores = [brisque(fn(photos[name], level)) for level in levels]
        rho = spearmanr(levels if kind != "jpeg" else [-q for q in levels], scores)[0]
        assert rho >= 0.9, (name, kind, np.round(scores, 1))
        assert scores[-1] > scores[0] + 20, (name, kind, np.round(scores, 1))
        assert scores[-1] > brisque(photos[name]), (name, kind)


def _opencv_quality_dir() -> Path | None:
    candidates = [os.environ.get("ARTLENS_OPENCV_DATA"),
                  REPO / ".data/opencv-data/usr/share/opencv4/quality",
                  "/usr/share/opencv4/quality"]
    for cand in candidates:
        if cand and (Path(cand) / OPENCV_MODEL).is_file() and (Path(cand) / OPENCV_RANGE).is_file():
            return Path(cand)
    return None


def test_agrees_with_opencv(photos):
    """Rank agreement with OpenCV's independent implementation and model (opencv-contrib quality module)."""
    qdir = _opencv_quality_dir()
    if qdir is None:
        pytest.skip("OpenCV's BRISQUE model files not found (set ARTLENS_OPENCV_DATA, or run `make test`, "
                    "which fetches Debian's opencv-data into .data/)")
    distortions = [(_blur, s) for s in (0.8, 1.6, 3.2)] + [(_noise, s) for s in (5, 12, 25)] + \
                  [(_jpeg, q) for q in (40, 15, 5)]
    images = [fn(img, level) for img in photos.values() for fn, level in distortions]
    assert len(images) >= 30
    ours = np.array([brisque(img) for img in images])
    theirs = np.array([
        cv2.quality.QualityBRISQUE_compute(cv2.cvtColor(img, cv2.COLOR_RGB2BGR), str(qdir / OPENCV_MODEL),
                                           str(qdir / OPENCV_RANGE))[0]
        for img in images
    ])
    rho = spearmanr(ours, theirs)[0]
    assert rho >= 0.98, f"Spearman {rho:.4f}"
    assert np.mean(np.abs(ours - theirs)) < 8.0
