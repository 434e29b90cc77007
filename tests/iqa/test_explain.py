"""Patch-wise quality maps, heat-map overlays and explanations (overlay with a colour bar)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens import weights
from artlens.errors import ArtlensError
from artlens.iqa.explain import BAR_HEIGHT, colour_bar, explain_image, heatmap_overlay, quality_map
from artlens.iqa.train.distortions import apply

_REAL = weights.local_status("mobilenet_v2").state == "verified"
needs_weights = pytest.mark.skipif(not _REAL, reason="mobilenet_v2 weights not verified in the local cache")


class _BrightnessModel:
    """Stands in for a QualityModel: a patch's 'quality' is its mean brightness (0-100); records calls."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[int, ...]]] = []

    def score(self, rgbs, batch_size=None) -> np.ndarray:
        self.calls.append([im.shape for im in rgbs])
        return np.asarray([im.mean() / 2.55 for im in rgbs], np.float64)


def _half_dark(h: int = 600, w: int = 800) -> np.ndarray:
    img = np.full((h, w, 3), 230, np.uint8)
    img[:, : w // 2] = 20
    return img


def test_map_shape_range_and_where_the_patches_are_bad():
    model = _BrightnessModel()
    img = _half_dark()
    q = quality_map(model, img, patch=128, max_side=400)
    assert q.shape == img.shape[:2] and q.dtype == np.float32
    assert q.min() >= 0 and q.max() <= 100
    assert q[:, :300].mean() < 20 < 80 < q[:, 500:].mean()
    # downscaled to 400x300 before cutting; patches batched, each patch the requested size
    assert all(shape == (128, 128, 3) for call in model.calls for shape in call)
    assert sum(len(call) for call in model.calls) == 4 * 6  # y: 0,64,128,172  x: 0,64,...,272
    # smooth weights: no jumps between neighbouring pixels larger than the steepest Hann blend allows
    ramp = np.tile(np.linspace(0, 255, 800).astype(np.uint8)[None, :, None], (600, 1, 3))
    smooth = quality_map(model, ramp, patch=128, max_side=400)
    assert np.abs(np.diff(smooth, axis=1)).max() < 1.0


def test_tiny_image_gives_constant_whole_image_score():
    model = _BrightnessModel()
    img = np.full((40, 90, 3), 128, np.uint8)
    q = quality_map(model, img)
    assert q.shape == (40, 90)
    np.testing.assert_allclose(q, 128 / 2.55, rtol=1e-5)
    assert model.calls == [[(40, 90, 3)]]


def test_overlay_marks_low_quality_in_red_and_keeps_good_areas():
    img = np.full((100, 200, 3), 128, np.uint8)
    q = np.full((100, 200), 95.0, np.float32)
    q[:, :50] = 5.0
    out = heatmap_overlay(img, q)
    assert out.shape == img.shape and out.dtype == np.uint8
    bad, good = out[:, :50].reshape(-1, 3).mean(0), out[:, 150:].reshape(-1, 3).mean(0)
    assert bad[0] > 128 + 30 and bad[2] < 128 - 30  # red up, blue down
    assert np.abs(good - 128).max() < 20  # only a faint tint
    with pytest.raises(ArtlensError):
        heatmap_overlay(img, q[:50])


def _decoded(jpeg: bytes) -> np.ndarray:
    back = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert back is not None
    return cv2.cvtColor(back, cv2.COLOR_BGR2RGB)


def test_explanation_is_a_compact_jpeg_with_a_record(tmp_path):
    img = _half_dark()
    explanation = explain_image(_BrightnessModel(), img, patch=128, map_side=400)
    assert explanation.jpeg[:2] == b"\xff\xd8"  # JPEG
    assert _decoded(explanation.jpeg).shape == (600 + BAR_HEIGHT, 800, 3)  # its own size, a bar below
    written = explanation.save(tmp_path / "sub" / f"x{explanation.suffix}")
    assert written.read_bytes() == explanation.jpeg
    rec = explanation.record(written)
    assert set(rec) == {"path", "min", "mean", "worst_region"} and rec["path"] == str(written)
    assert 0 <= rec["min"] <= rec["mean"] <= 100
    x0, y0, x1, y1 = rec["worst_region"]
    assert 0 <= x0 < x1 <= 400 and 0 <= y0 < y1 <= 600 and x1 - x0 == 256  # a 128-px patch at half scale
    tiny = explain_image(_BrightnessModel(), img[:50, :60])
    assert tiny.worst_region == [0, 0, 60, 50] and tiny.min == pytest.approx(tiny.mean)
    big = explain_image(_BrightnessModel(), np.tile(img, (4, 4, 1)), patch=128, map_side=400)  # 3200 x 2400
    assert _decoded(big.jpeg).shape == (768 + BAR_HEIGHT, 1024, 3)
    assert len(big.jpeg) < 200_000
    x0, _y0, x1, _y1 = big.worst_region  # in pixels of the image given, not of the overlay
    assert x1 - x0 == 128 * 8


def test_the_overlay_has_a_labelled_colour_bar_from_low_to_high_quality():
    img = np.full((300, 400, 3), 128, np.uint8)
    rgb = _decoded(explain_image(_BrightnessModel(), img, patch=128).jpeg)
    bar = rgb[300:].astype(np.int16)
    assert bar.shape == (BAR_HEIGHT, 400, 3)
    strip = bar[10]  # through the gradient
    left, right = strip[12], strip[-12]
    assert left[0] > 180 and left[2] < 80  # red: low quality at the left
    assert right[2] > 120 and right[0] < 80  # blue: high quality at the right
    assert np.abs(np.diff(strip[10:-10, :3], axis=0)).max() < 40  # a smooth gradient, not blocks
    words = bar[18:] > 200  # light text on the dark band, under both ends
    assert words[:, :120].any() and words[:, -120:].any()
    np.testing.assert_array_equal(colour_bar(400), colour_bar(400))
    assert colour_bar(50).shape == (BAR_HEIGHT, 50, 3) and (colour_bar(50)[18:] <= 40).all()  # no words


def test_invalid_input_raises():
    with pytest.raises(ArtlensError):
        quality_map(_BrightnessModel(), np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ArtlensError):
        quality_map(_BrightnessModel(), np.zeros((300, 300, 3), np.uint8), patch=8)


@needs_weights
@pytest.mark.weights
def test_trained_model_map_is_lower_over_the_damaged_half(photos, tmp_path):
    from artlens.iqa.config import QualityModelConfig
    from artlens.iqa.model import QualityModel
    from artlens.iqa.train.head import train_head
    from artlens.iqa.train.training_set import build_training_set

    config = QualityModelConfig(sizes=(224,), hidden=32)
    model = QualityModel(config)
    names = ["gaussian_blur", "gaussian_noise"]
    images, targets, pairs = build_training_set(  # 6 crops, each clean and at 5 levels of 2 distortions
        [photos["coffee"], photos["chelsea"], photos["rocket"]], per_image=2, rng=np.random.default_rng(0),
        size=224, per_crop=2, distortions=names)
    head = train_head(model.embed(images, batch_size=8), targets, pairs, epochs=60, hidden=32, seed=0)
    trained = QualityModel(config, head, model.backbone)

    clean = cv2.resize(photos["astronaut"], (448, 448), interpolation=cv2.INTER_AREA)  # not trained on
    for name in names:
        damaged = clean.copy()
        damaged[:, 224:] = apply(clean[:, 224:], name, 5, np.random.default_rng(1))
        explanation = explain_image(trained, damaged)  # 3 x 3 patches of 224 px
        q = quality_map(trained, damaged)
        assert q.shape == clean.shape[:2]
        assert q[:, 288:].mean() < q[:, :160].mean() - 5, name
        assert explanation.worst_region[0] == 224, (name, explanation)  # wholly inside the damaged half
        assert _decoded(explanation.jpeg).shape == (448 + BAR_HEIGHT, 448, 3)
