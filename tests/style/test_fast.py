"""The fast method: sizes and modes, strength, colour preservation, presets, tiling, style-vector cache."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artlens.errors import ConfigError, WeightsError
from artlens.style import list_presets, stylize
from artlens.style.fast import FastStylizer, tiled

pytestmark = pytest.mark.weights


def _chroma(rgb: np.ndarray) -> np.ndarray:
    x = rgb.reshape(-1, 3).astype(np.float64) / 255
    cb = x @ np.array([-0.168736, -0.331264, 0.5])
    cr = x @ np.array([0.5, -0.418688, -0.081312])
    return np.array([cb.mean(), cr.mean()])


@pytest.mark.parametrize("size", [97, 131])
def test_output_size_and_mode_for_odd_sizes(small_photo, painting, size) -> None:
    out = stylize(small_photo, painting, size=size)
    h, w = small_photo.shape[:2]
    assert out.mode == "RGB"
    assert max(out.size) == size
    assert out.size == (round(w * size / max(h, w)), round(h * size / max(h, w)))


def test_greyscale_and_rgba_inputs(small_photo, painting) -> None:
    grey = Image.fromarray(small_photo).convert("L")
    assert stylize(grey, painting, size=64).mode == "RGB"
    assert stylize(np.asarray(grey), painting, size=64).mode == "RGB"
    kept = stylize(grey, painting, size=64, preserve_color=True)
    assert kept.mode == "L" and max(kept.size) == 64
    rgba = Image.fromarray(small_photo).convert("RGBA")
    alpha = np.zeros(small_photo.shape[:2], np.uint8)
    alpha[:, alpha.shape[1] // 2 :] = 255
    rgba.putalpha(Image.fromarray(alpha))
    out = stylize(rgba, painting, size=75)
    assert out.mode == "RGBA" and max(out.size) == 75
    a = np.asarray(out)[..., 3]
    assert a[:, :10].max() < 30 and a[:, -10:].min() > 220


def test_strength_zero_returns_the_content(small_photo, painting) -> None:
    size = max(small_photo.shape[:2])
    diff = {s: np.abs(np.asarray(stylize(small_photo, painting, size=size, strength=s)).astype(float)
                      - small_photo).mean() for s in (0.0, 0.25, 1.0)}
    assert diff[0.0] < 1.0
    assert diff[0.0] < diff[0.25] < diff[1.0]


def test_preserve_color_keeps_mean_chroma(small_photo, painting) -> None:
    size = max(small_photo.shape[:2])
    plain = np.asarray(stylize(small_photo, painting, size=size))
    kept = np.asarray(stylize(small_photo, painting, size=size, preserve_color=True))
    target = _chroma(small_photo)
    assert np.abs(_chroma(kept) - target).max() < 0.01
    assert np.abs(_chroma(plain) - target).max() > np.abs(_chroma(kept) - target).max()


def test_presets_and_mixing(small_photo, painting, photos) -> None:
    names = list_presets()
    assert len(names) == 26 and names[0] == "preset_00"
    a = np.asarray(stylize(small_photo, "preset:preset_03", size=64)).astype(float)
    b = np.asarray(stylize(small_photo, "preset:20", size=64)).astype(float)
    mix = np.asarray(stylize(small_photo, [("preset:3", 1), ("preset:20", 1)], size=64)).astype(float)
    assert np.abs(a - b).mean() > 5 and np.abs(mix - a).mean() > 1 and np.abs(mix - b).mean() > 1
    with pytest.raises(ConfigError, match="mixed"):
        stylize(small_photo, ["preset:3", painting], size=64)
    with pytest.raises(ConfigError, match="unknown preset"):
        stylize(small_photo, "preset:26", size=64)
    s1 = np.asarray(stylize(small_photo, painting, size=64)).astype(float)
    s2 = np.asarray(stylize(small_photo, photos["coffee"], size=64)).astype(float)
    m = np.asarray(stylize(small_photo, [(painting, 0.5), (photos["coffee"], 0.5)], size=64)).astype(float)
    assert np.abs(m - s1).mean() > 1 and np.abs(m - s2).mean() > 1


def test_tiles_blend_without_seams() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (200, 260, 3)).astype(np.float32)
    assert np.allclose(tiled(x, lambda t: t, 96, 32), x, atol=1e-5)  # weights sum to one everywhere
    # a per-tile offset (what differing normalisation statistics do) fades across the overlaps
    offsets = iter(np.linspace(0, 0.5, 100))
    smooth = tiled(np.zeros_like(x), lambda t: t + next(offsets), 96, 32)
    assert np.abs(np.diff(smooth, axis=0)).max() < 0.05 and np.abs(np.diff(smooth, axis=1)).max() < 0.05


def test_tiled_rendering_close_to_whole(photos, painting) -> None:
    content = photos["astronaut"][::2, ::2]  # 256 x 256
    whole = FastStylizer(threads=1)
    small = FastStylizer(threads=1, max_pixels=100 * 100, tile=160, overlap=48)
    vec = whole.style_vector(painting)
    a, b = whole.render(content, vec), small.render(content, vec)
    assert a.shape == b.shape == (256, 256, 3)
    assert np.abs(a - b).mean() < 0.08


def test_style_vector_cached_on_disk(tmp_path, monkeypatch, painting) -> None:
    monkeypatch.setenv("ARTLENS_CACHE", str(tmp_path))
    monkeypatch.setenv("ARTLENS_WEIGHTS_DIR", str(_weights_dir()))
    first = FastStylizer(threads=1).style_vector(painting)
    files = list((tmp_path / "style").glob("*.npy"))
    assert len(files) == 1 and first.shape == (100,)
    np.save(files[0], first + 1)  # a second process reads the file, not the network
    assert np.allclose(FastStylizer(threads=1).style_vector(painting), first + 1)


def _weights_dir():
    from artlens import weights

    return weights.resolve("magenta_arbitrary_predict").parent


def test_missing_weights_give_the_resolver_error(tmp_path, monkeypatch, painting) -> None:
    monkeypatch.setenv("ARTLENS_CACHE", str(tmp_path))
    monkeypatch.setenv("ARTLENS_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("ARTLENS_WEIGHTS_DIR", raising=False)
    with pytest.raises(WeightsError, match=r"magenta_arbitrary_predict.*could not be resolved"):
        FastStylizer(threads=1).style_vector(painting)
