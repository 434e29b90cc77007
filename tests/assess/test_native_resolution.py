"""``assess`` on large images: defects that only show at 100 % lower the score and trip the checks; product
shots on white, off-white and light grey are judged as product shots; the backdrop and fill rules agree."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.assess import native
from artlens.assess.analyse import AnalysisSettings, analyse
from artlens.assess.policy import evaluate, load_policy, verdict_of
from artlens.imageio import LoadedImage
from artlens.screening import compliance


def _gravel(height: int, width: int) -> np.ndarray:
    """Real stone texture (scikit-image's gravel, 512 px) tiled at its native resolution, colour-shaded."""
    from skimage import data

    g = data.gravel().astype(np.float32) / 255
    reps = (-(-height // g.shape[0]), -(-width // g.shape[1]))
    g = np.tile(g, reps)[:height, :width]
    shade = np.linspace(0.6, 1.0, width, dtype=np.float32)[None, :, None]
    colour = np.array([190, 120, 80], np.float32) * shade * (0.35 + 1.0 * g[..., None])
    return np.clip(colour, 0, 255).astype(np.uint8)


def _loaded(rgb: np.ndarray) -> LoadedImage:
    return LoadedImage(path="x.jpg", rgb=rgb, format="JPEG", mode="RGB", bit_depth=8, has_alpha=False,
                       file_size=rgb.size // 10, sha256="0" * 64)


def _judge(rgb: np.ndarray, policy: str) -> tuple[dict, str, list[str]]:
    pol = load_policy(policy)
    record = analyse(_loaded(rgb), AnalysisSettings.for_policy(pol))
    verdict, reasons = verdict_of(evaluate(pol, record["measurements"], record["details"]))
    return record, verdict, reasons


@pytest.fixture(scope="module")
def large() -> np.ndarray:
    return _gravel(2000, 3000)


def test_native_tiles_cover_the_most_detailed_parts() -> None:
    rgb = np.full((2000, 3000, 3), 128, np.uint8)
    rgb[1000:1448, 2000:2448] = _gravel(448, 448)
    tiles = native.detail_tiles(rgb, 3)
    x0, y0, x1, y1 = tiles[0].box()  # the grid is centred: the best tile overlaps the textured patch
    assert x0 < 2448 and x1 > 2000 and y0 < 1448 and y1 > 1000
    assert tiles[0].energy > tiles[-1].energy
    assert all(t.side == native.TILE_SIDE for t in tiles)
    # a 1080 px catalogue image keeps its speed; a 1600 px one gets a tile, a 4000 px one three
    assert native.tile_count(1080, 800) == 0 and native.tile_count(1600, 1200) == 1
    assert native.tile_count(4000, 3000) == 3
    assert native.native_weight(1080, 800) == 0.0 and native.native_weight(6000, 4000) == 0.8
    assert 0.0 < native.native_weight(1600, 1200) < native.native_weight(2000, 1500) < 0.8


def test_backdrop_tiles_are_skipped() -> None:
    rgb = np.full((2000, 2000, 3), 255, np.uint8)
    rgb[500:1500, 500:1500] = _gravel(1000, 1000)
    from artlens.screening import metrics
    from artlens.screening.backdrop import backdrop_mask

    backdrop = backdrop_mask(metrics.working_image(rgb, 768))
    for tile in native.detail_tiles(rgb, 6, backdrop=backdrop):
        x0, y0, x1, y1 = tile.box()
        assert x0 >= 400 and y0 >= 400 and x1 <= 1600 and y1 <= 1600


@pytest.mark.weights
@pytest.mark.slow
def test_native_blur_and_noise_lower_the_score_and_trip_the_checks(large: np.ndarray) -> None:
    import cv2

    rng = np.random.default_rng(0)
    clean, _, _ = _judge(large, "general")
    blurred, blur_verdict, blur_reasons = _judge(cv2.GaussianBlur(large, (0, 0), 3), "general")
    noisy_img = np.clip(large + rng.normal(0, 25, large.shape), 0, 255).astype(np.uint8)
    noisy, noise_verdict, noise_reasons = _judge(noisy_img, "general")
    assert clean["scores"]["quality"] > blurred["scores"]["quality"] + 10
    assert clean["scores"]["quality"] > noisy["scores"]["quality"] + 10
    assert clean["scores"]["quality_native"] is not None
    assert blur_verdict != "pass" and any("blurry" in r for r in blur_reasons)
    assert noise_verdict == "fail" and any("noisy" in r for r in noise_reasons)
    # the working image alone cannot see the blur: the native tile can
    assert blurred["scores"]["sharpness_native"] < 0.3 < clean["scores"]["sharpness_native"]


@pytest.mark.weights
@pytest.mark.slow
@pytest.mark.parametrize("backdrop", [(255, 255, 255), (247, 246, 244)])
def test_clean_product_on_white_passes_general_and_amazon(backdrop) -> None:
    canvas = np.full((2000, 2000, 3), backdrop, np.uint8)
    canvas[100:1900, 325:1675] = _gravel(1800, 1350)  # 90 % of the long side
    for policy in ("general", "amazon") if backdrop == (255, 255, 255) else ("general",):
        record, verdict, reasons = _judge(canvas, policy)
        assert verdict == "pass", (policy, reasons, record["scores"]["quality"])
    record, _, _ = _judge(canvas, "general")
    assert record["scores"]["highlights_clipped"] < 0.05  # the backdrop is not counted as blown highlights


def test_product_reaching_the_frame_is_not_counted_as_background() -> None:
    canvas = np.full((1000, 1000, 3), 255, np.uint8)
    canvas[20:980, 200:800] = 90  # 96 % of the height: it crosses the 5 % frame at the top and bottom
    product = np.zeros((1000, 1000), bool)
    product[20:980, 200:800] = True
    assert compliance.background_whiteness(canvas) < 0.95
    assert compliance.background_whiteness(canvas, product=product) > 0.99


def test_light_grey_backdrop_is_light_but_not_white() -> None:
    canvas = np.full((800, 800, 3), 224, np.uint8)
    canvas[200:600, 200:600] = 60
    assert compliance.background_whiteness(canvas) == 0.0
    assert compliance.background_lightness(canvas) == 1.0
    dark = np.full((800, 800, 3), 120, np.uint8)
    assert compliance.background_lightness(dark) == 0.0
