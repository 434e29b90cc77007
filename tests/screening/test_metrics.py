"""Technical quality metrics: keys, working size, response to graded distortions, edge cases."""

from __future__ import annotations

import itertools
import warnings

import cv2
import numpy as np
import pytest

from artlens.iqa.train.distortions import apply
from artlens.screening import backdrop, metrics, technical

KEYS = {
    "sharpness", "noise_sigma", "mean_luminance", "highlights_clipped", "shadows_clipped", "contrast",
    "colour_cast", "colourfulness", "blockiness", "megapixels", "longest_side", "aspect_ratio",
}
SUBSCORES = {"sharpness", "noise", "exposure", "contrast", "colour_cast", "blockiness"}

# distortion -> (raw key, +1 if the raw value grows with the level else -1, sub-score key)
MONOTONIC = {
    "gaussian_blur": ("sharpness", -1, "sharpness"),
    "gaussian_noise": ("noise_sigma", +1, "noise"),
    "jpeg": ("blockiness", +1, "blockiness"),
    "underexpose": ("mean_luminance", -1, "exposure"),
    "overexpose": ("mean_luminance", +1, "exposure"),
    "low_contrast": ("contrast", -1, "contrast"),
    "colour_cast": ("colour_cast", +1, "colour_cast"),
}


def _crop(rgb: np.ndarray, size: int = 256) -> np.ndarray:
    h, w = rgb.shape[:2]
    y, x = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(rgb[y:y + size, x:x + size])


def test_keys_and_types(photos):
    raw = technical.compute_all(photos["astronaut"])
    assert set(raw) == KEYS
    assert all(type(v) is float and np.isfinite(v) for v in raw.values())
    subs = technical.subscores(raw)
    assert set(subs) == SUBSCORES
    assert all(type(v) is float and 0.0 <= v <= 100.0 for v in subs.values())


def test_subscores_skip_missing_keys():
    assert technical.subscores({"sharpness": 0.5}) == {"sharpness": 100.0}


def test_working_image_caps_and_never_upscales():
    small = np.zeros((300, 200, 3), np.uint8)
    assert metrics.working_image(small, 1024) is small
    big = np.zeros((1500, 3000, 3), np.uint8)
    out = metrics.working_image(big, 1024)
    assert out.shape == (512, 1024, 3) and out.dtype == np.uint8
    assert max(metrics.working_image(big, 640).shape[:2]) == 640


def test_resolution_keys():
    rgb = np.full((600, 1500, 3), 128, np.uint8)
    raw = technical.compute_all(rgb)
    assert raw["megapixels"] == pytest.approx(0.9)
    assert raw["longest_side"] == 1500.0
    assert raw["aspect_ratio"] == pytest.approx(2.5)


@pytest.mark.parametrize("name", sorted(MONOTONIC))
@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_metric_and_subscore_follow_distortion_level(photos, name, photo):
    key, sign, sub = MONOTONIC[name]
    image = _crop(photos[photo]) if name != "jpeg" else photos[photo]
    raws, subs = [], []
    for level in range(1, 6):
        raw = technical.compute_all(apply(image, name, level))
        raws.append(sign * raw[key])
        subs.append(technical.subscores(raw)[sub])
    assert all(b > a for a, b in itertools.pairwise(raws)), (name, raws)
    assert all(b <= a + 1e-9 for a, b in itertools.pairwise(subs)), (name, subs)
    if name != "colour_cast":  # a cast is hard to tell from a coloured scene: its anchors are lenient
        assert subs[4] < subs[0] - 25, (name, subs)


def _product_on_white(size: int = 1000) -> np.ndarray:
    rng = np.random.default_rng(3)
    canvas = np.full((size, size, 3), 255, np.uint8)
    obj = size // 4
    texture = (rng.random((obj // 8, obj // 8, 3)) * 200).astype(np.uint8)
    texture = cv2.resize(texture, (obj, obj), interpolation=cv2.INTER_NEAREST)
    cv2.circle(texture, (obj // 2, obj // 2), obj // 3, (30, 60, 200), 5)
    y0 = (size - obj) // 2
    canvas[y0:y0 + obj, y0:y0 + obj] = texture
    return canvas


def test_sharp_product_on_white_background_is_sharp_and_blur_is_caught():
    sharp = _product_on_white()
    blurred = cv2.GaussianBlur(sharp, (0, 0), 4.0)
    s_sharp = technical.subscores(technical.compute_all(sharp))["sharpness"]
    s_blur = technical.subscores(technical.compute_all(blurred))["sharpness"]
    assert s_sharp >= 70
    assert s_blur < 40


def test_sharpness_ignores_contrast(photos):
    grey = metrics.luma(_crop(photos["astronaut"]))
    assert metrics.sharpness(grey * 0.3 + 0.3) == pytest.approx(metrics.sharpness(grey), abs=0.02)


def test_noise_estimate_close_to_added_noise():
    flat = np.full((256, 256), 0.5, np.float32)
    noisy = flat + np.random.default_rng(1).normal(0, 5 / 255, flat.shape).astype(np.float32)
    assert metrics.noise_sigma(flat) == pytest.approx(0.0, abs=1e-6)
    assert metrics.noise_sigma(noisy) == pytest.approx(5.0, rel=0.15)


def test_colourfulness_grey_and_saturated():
    grey = np.repeat(np.linspace(0, 255, 64 * 64).reshape(64, 64, 1).astype(np.uint8), 3, axis=2)
    assert metrics.colourfulness(grey) == pytest.approx(0.0, abs=1e-6)
    saturated = np.zeros((64, 64, 3), np.uint8)
    saturated[:, :16, 0] = 255
    saturated[:, 16:32, 1] = 255
    saturated[:, 32:48, 2] = 255
    saturated[:, 48:, :2] = 255
    assert metrics.colourfulness(saturated) > 100


def test_colour_cast_of_grey_is_zero_and_of_tinted_is_positive(photos):
    grey = np.repeat(photos["coins"][..., :1], 3, axis=2)
    assert metrics.colour_cast(grey) == pytest.approx(0.0, abs=1e-3)
    tinted = grey.astype(np.float32) * np.array([1.0, 0.85, 0.6], np.float32)
    assert metrics.colour_cast(tinted.astype(np.uint8)) > 10


def _jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]


@pytest.mark.parametrize("photo", ["astronaut", "chelsea"])
def test_blockiness_low_quality_jpeg(photos, photo):
    q10 = metrics.blockiness(_jpeg(photos[photo], 10))
    q95 = metrics.blockiness(_jpeg(photos[photo], 95))
    assert q10 > q95 + 0.5
    assert q95 < 1.25


def test_clipping_and_exposure():
    black = np.zeros((64, 64, 3), np.uint8)
    white = np.full((64, 64, 3), 255, np.uint8)
    rb, rw = technical.compute_all(black), technical.compute_all(white)
    assert rb["shadows_clipped"] == 1.0 and rb["highlights_clipped"] == 0.0 and rb["mean_luminance"] == 0.0
    assert rw["highlights_clipped"] == 1.0 and rw["shadows_clipped"] == 0.0
    assert rw["mean_luminance"] == pytest.approx(1.0)
    assert technical.subscores(rb)["exposure"] == 0.0 and technical.subscores(rw)["exposure"] == 0.0


@pytest.mark.parametrize("shape", [(8, 8), (1, 1), (2, 5), (17, 9), (300, 200)])
@pytest.mark.parametrize("value", [0, 255, 117])
def test_flat_and_tiny_images_are_finite_without_warnings(shape, value):
    rgb = np.full((*shape, 3), value, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            raw = technical.compute_all(rgb)
            subs = technical.subscores(raw)
    assert set(raw) == KEYS
    assert all(np.isfinite(v) for v in [*raw.values(), *subs.values()])
    assert raw["contrast"] == 0.0 and raw["colourfulness"] == pytest.approx(0.0, abs=1e-9)


def test_tiny_random_images_do_not_fail():
    rng = np.random.default_rng(0)
    for shape in [(3, 3), (8, 8), (9, 40)]:
        raw = technical.compute_all(rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
        assert all(np.isfinite(v) for v in raw.values())


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 2), np.uint8), np.zeros((10, 10, 3), np.uint16)])
def test_rejects_arrays_that_are_not_images(bad):
    with pytest.raises(ValueError):  # ImageArrayError is an ArtlensError and a ValueError
        technical.compute_all(bad)


def test_backdrop_excluded_from_exposure_for_product_shots() -> None:
    canvas = np.full((600, 800, 3), 255, np.uint8)
    rng = np.random.default_rng(3)
    canvas[150:450, 250:550] = rng.integers(60, 180, (300, 300, 3), dtype=np.uint8)
    canvas[250:300, 350:450] = 255  # a white label on the product is not backdrop
    mask = backdrop.backdrop_mask(canvas)
    assert mask[0, 0] and mask[599, 799] and not mask[275, 400] and not mask[200, 300]
    plain = technical.compute_all(canvas, exclude_backdrop=False)
    product = technical.compute_all(canvas)  # the default: a studio backdrop is left out
    assert plain["highlights_clipped"] > 0.7
    assert product["highlights_clipped"] < 0.1
    assert technical.subscores(product)["exposure"] > technical.subscores(plain)["exposure"] + 40
    blank = np.full((100, 100, 3), 255, np.uint8)  # nothing but backdrop: measured as it is
    assert technical.compute_all(blank, exclude_backdrop=True)["highlights_clipped"] == 1.0


@pytest.mark.parametrize("colour", [(255, 255, 255), (246, 244, 240), (224, 224, 226)])
def test_light_backdrops_of_every_kind_are_found(colour) -> None:
    """White, off-white and Google's light grey are all studio backdrops, under any policy."""
    canvas = np.full((500, 500, 3), colour, np.uint8)
    rng = np.random.default_rng(1)
    canvas[60:440, 100:400] = rng.integers(40, 200, (380, 300, 3), dtype=np.uint8)
    mask = backdrop.backdrop_mask(canvas)
    assert mask[0, 0] and mask[499, 499] and not mask[250, 250]
    assert abs(mask.mean() - (1 - 380 * 300 / 500**2)) < 0.01
    assert technical.compute_all(canvas)["highlights_clipped"] < 0.05


def test_blown_sky_is_not_a_backdrop() -> None:
    """A clipped sky along one side of a photo is a defect to report, not a backdrop to leave out."""
    rng = np.random.default_rng(2)
    photo = rng.integers(30, 160, (400, 600, 3), dtype=np.uint8)
    photo[:160] = 255
    assert not backdrop.backdrop_mask(photo).any()
    assert technical.compute_all(photo)["highlights_clipped"] > 0.35
    dark = np.full((300, 300, 3), 40, np.uint8)  # a dark uniform background is not a light backdrop
    dark[100:200, 100:200] = 200
    assert not backdrop.backdrop_mask(dark).any()


def test_white_backdrop_inside_an_added_frame() -> None:
    """A product on white inside a coloured frame: the white is backdrop, not blown highlights."""
    canvas = np.full((600, 600, 3), 255, np.uint8)
    canvas[:30], canvas[-30:], canvas[:, :30], canvas[:, -30:] = 120, 120, 120, 120  # a grey frame
    rng = np.random.default_rng(4)
    canvas[200:400, 220:380] = rng.integers(40, 200, (200, 160, 3), dtype=np.uint8)
    mask = backdrop.backdrop_mask(canvas)
    assert mask[100, 100] and not mask[10, 10] and not mask[300, 300]
    assert technical.compute_all(canvas)["highlights_clipped"] < 0.05
