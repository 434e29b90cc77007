"""The optimisation method: the style loss falls, settings are honoured, missing weights fail cleanly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens.errors import WeightsError
from artlens.style import stylize
from artlens.style.gatys import GatysSettings, evaluate, optimise
from artlens.style.vgg import load_encoder

pytestmark = pytest.mark.weights


def test_short_run_on_64px_halves_the_style_loss(small_photo, painting) -> None:
    encoder = load_encoder("vgg16_hed")
    content = cv2.resize(small_photo, (64, 42), interpolation=cv2.INTER_AREA)
    settings = GatysSettings(scales=(1.0,), steps=(25,), tv_weight=0.0)
    seen: list[tuple[int, int, int, dict]] = []
    snaps: list[int] = []
    settings_snap = GatysSettings(scales=(1.0,), steps=(25,), tv_weight=0.0, save_every=10)
    result = optimise(encoder, content, [(painting, 1.0)], (42, 64), settings_snap,
                      progress=lambda *a: seen.append(a), snapshot=lambda step, im: snaps.append(step))
    before = evaluate(encoder, content, content, [(painting, 1.0)], settings)["style"]
    after = evaluate(encoder, result.image, content, [(painting, 1.0)], settings)["style"]
    assert after < 0.5 * before
    assert result.image.shape == (42, 64, 3) and result.image.min() >= 0 and result.image.max() <= 1
    assert seen and seen[0][0] == 1 and set(seen[-1][3]) == {"total", "content", "style", "tv"}
    assert snaps[:2] == [10, 20]


def test_strength_zero_keeps_the_content(small_photo, painting) -> None:
    settings = GatysSettings(scales=(1.0,), steps=(5,))
    out = np.asarray(stylize(small_photo, painting, "gatys", size=48, strength=0.0, settings=settings))
    ref = cv2.resize(small_photo, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(out.astype(float) - ref).mean() < 2.0


def test_gatys_rejects_presets(small_photo) -> None:
    with pytest.raises(Exception, match="fast method"):
        stylize(small_photo, "preset:1", "gatys", size=48)


def test_missing_vgg_weights_give_the_resolver_error(tmp_path, monkeypatch, small_photo, painting) -> None:
    monkeypatch.setenv("ARTLENS_CACHE", str(tmp_path))
    monkeypatch.setenv("ARTLENS_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("ARTLENS_WEIGHTS_DIR", raising=False)
    with pytest.raises(WeightsError, match=r"vgg19.*could not be resolved"):
        stylize(small_photo, painting, "gatys", size=48, encoder="vgg19")
