"""Gram matrix, losses and colour helpers against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from artlens.style import match_color, parse_style_spec, transfer_luminance
from artlens.style.gatys import GatysSettings, content_loss, gram_matrix, style_loss, total_variation


def test_gram_matrix_by_hand() -> None:
    f = torch.tensor([[1.0, 2.0], [0.0, 1.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    # rows (1, 2) and (0, 1): [[1+4, 0+2], [2, 1]] / (C H W = 4)
    expected = torch.tensor([[[5.0, 2.0], [2.0, 1.0]]]) / 4
    assert torch.allclose(gram_matrix(f), expected)


def test_style_and_content_losses_by_hand() -> None:
    f = torch.tensor([[1.0, 2.0], [0.0, 1.0]]).reshape(1, 2, 1, 2)
    target = torch.zeros(1, 2, 2)
    # mean of squared Gram entries: (1.25^2 + 0.5^2 + 0.5^2 + 0.25^2) / 4
    assert style_loss({"a": f}, {"a": target}).item() == pytest.approx((1.5625 + 0.25 + 0.25 + 0.0625) / 4)
    assert style_loss({"a": f}, {"a": target}, {"a": 2.0}).item() == pytest.approx(1.0625)
    g = torch.ones_like(f)
    assert content_loss({"c": f}, {"c": g}).item() == pytest.approx((0 + 1 + 1 + 0) / 4)


def test_total_variation_by_hand() -> None:
    x = torch.tensor([[0.0, 1.0], [0.0, 3.0]]).reshape(1, 1, 2, 2)
    # vertical differences (0, 2) -> mean 2; horizontal (1, 3) -> mean 5
    assert total_variation(x).item() == pytest.approx(7.0)


def test_settings_plan_drops_tiny_scales_and_validates() -> None:
    plan = GatysSettings().stage_plan((64, 96))
    assert plan[-1][0] == (64, 96) and all(max(hw) >= 48 for hw, _ in plan)
    assert [hw for hw, _ in GatysSettings().stage_plan((512, 384))] == [(128, 96), (256, 192), (512, 384)]
    with pytest.raises(Exception, match="optimizer"):
        GatysSettings(optimizer="sgd")


def test_transfer_luminance_keeps_content_chroma_and_style_luminance() -> None:
    rng = np.random.default_rng(1)
    content = rng.uniform(0.2, 0.8, (8, 8, 3)).astype(np.float32)
    stylised = rng.uniform(0.2, 0.8, (8, 8, 3)).astype(np.float32)
    out = transfer_luminance(stylised, content)
    y = lambda im: im @ np.array([0.299, 0.587, 0.114], np.float32)  # noqa: E731
    assert np.allclose(y(out), y(stylised), atol=1e-4)
    assert np.allclose(out - y(out)[..., None], content - y(content)[..., None], atol=1e-4)


def test_match_color_matches_mean_and_covariance() -> None:
    rng = np.random.default_rng(2)
    source = rng.uniform(0.3, 0.6, (32, 32, 3)).astype(np.float32)
    target = np.clip(rng.normal([0.6, 0.3, 0.2], 0.05, (40, 40, 3)), 0, 1).astype(np.float32)
    out = match_color(source, target)
    assert np.allclose(out.reshape(-1, 3).mean(0), target.reshape(-1, 3).mean(0), atol=0.01)
    assert np.allclose(np.cov(out.reshape(-1, 3), rowvar=False), np.cov(target.reshape(-1, 3), rowvar=False),
                       atol=5e-4)


@pytest.mark.parametrize(("text", "source", "weight"), [
    ("painting.jpg", "painting.jpg", 1.0),
    ("painting.jpg:0.7", "painting.jpg", 0.7),
    (r"C:\art\painting.jpg", r"C:\art\painting.jpg", 1.0),
    (r"C:\art\painting.jpg:0.25", r"C:\art\painting.jpg", 0.25),
    ("odd:name.png", "odd:name.png", 1.0),
    ("preset:7", "preset:7", 1.0),
    ("preset:7:0.5", "preset:7", 0.5),
    ("preset:preset_03:2", "preset:preset_03", 2.0),
])
def test_parse_style_spec(text: str, source: str, weight: float) -> None:
    spec = parse_style_spec(text)
    assert (spec.source, spec.weight) == (source, weight)


def test_parse_style_spec_keeps_existing_files_whole(tmp_path) -> None:
    f = tmp_path / "weird:0.5"
    f.write_bytes(b"x")
    assert parse_style_spec(str(f)).source == str(f)
