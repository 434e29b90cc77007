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


def test_default_schedule_does_most_of_its_work_at_low_resolution() -> None:
    settings = GatysSettings()
    plan = settings.stage_plan((512, 512))
    assert [hw for hw, _ in plan] == [(128, 128), (256, 256), (512, 512)]
    steps = [n for _, n in plan]
    assert steps[-1] == min(steps) and steps == sorted(steps, reverse=True)
    assert settings.cost((512, 512)) == pytest.approx(100 / 16 + 50 / 4 + 10)
    previous = GatysSettings(steps=(200, 100, 60))
    assert settings.cost((512, 512)) < 0.35 * previous.cost((512, 512))
    assert GatysSettings(scales=(1.0,), steps=(7,)).cost((100, 60)) == 7


def test_early_stopping_on_the_relative_loss_change() -> None:
    from artlens.style.gatys import stalled

    assert not stalled([10.0, 9.0, 8.0, 7.0], patience=2, min_improvement=0.01)
    assert stalled([10.0, 9.0, 8.995, 8.999], patience=2, min_improvement=0.01)  # 0.06 % better: stalled
    assert stalled([0.0, 0.0, 0.0], patience=2, min_improvement=0.01)  # nothing left to improve
    assert not stalled([10.0, 9.0], patience=2, min_improvement=0.01)  # too early to tell


def test_a_flat_loss_stops_a_scale_after_the_patience(small_photo) -> None:
    encoder = load_encoder("vgg16_hed")
    content = cv2.resize(small_photo, (64, 42), interpolation=cv2.INTER_AREA)
    # the content image itself with no style and no TV term: the loss is zero from the first evaluation
    settings = GatysSettings(scales=(1.0,), steps=(40,), style_weight=0.0, tv_weight=0.0, patience=4)
    result = optimise(encoder, content, [(content, 1.0)], (42, 64), settings)
    assert result.evaluations == [5]


def test_channels_last_encoder_gives_the_same_features_and_stops_at_the_deepest_layer(small_photo) -> None:
    import torch

    encoder = load_encoder("vgg16_hed")
    assert encoder.convs()[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.from_numpy(small_photo[:64, :64].astype(np.float32).transpose(2, 0, 1) / 255)[None]
    ran: list[int] = []
    hooks = [m.register_forward_hook(lambda *_a, i=i: ran.append(i)) for i, m in enumerate(encoder.layers)]
    try:
        fast = encoder(x, ["relu1_1", "relu2_1"])
    finally:
        for hook in hooks:
            hook.remove()
    assert ran == list(range(encoder.names.index("relu2_1") + 1))  # nothing deeper was run
    encoder.channels_last = False
    try:
        plain = encoder(x, ["relu1_1", "relu2_1"])
    finally:
        encoder.channels_last = True
    for name in plain:
        assert torch.allclose(fast[name], plain[name], rtol=1e-4, atol=1e-5)
