"""Foreground segmentation and product fill, on synthetic product shots with known masks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens.errors import ArtlensError
from artlens.screening.compliance import background_whiteness
from artlens.screening.segment import Fill, foreground_mask, product_fill

H, W = 800, 1080


def _jpeg(rgb: np.ndarray) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _shape(kind: str) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    if kind == "ellipse":
        cv2.ellipse(mask, (540, 400), (300, 340), 0, 0, 360, 1, -1)
    elif kind == "rectangle":
        mask[100:700, 200:880] = 1
    elif kind == "polygon":
        pts = np.array([[300, 90], [800, 150], [900, 500], [650, 720], [250, 650], [180, 350]], np.int32)
        cv2.fillPoly(mask, [pts], 1)
    elif kind == "touching":
        cv2.ellipse(mask, (540, 500), (300, 400), 0, 0, 360, 1, -1)  # runs off the bottom edge
    elif kind == "two":
        cv2.circle(mask, (300, 400), 180, 1, -1)
        mask[250:600, 650:950] = 1
    return mask.astype(bool)


def _shot(mask: np.ndarray, colour: tuple[int, int, int] = (90, 60, 150),
          shading: tuple[float, float] = (0.6, 1.1), shadow: float = 0.0,
          background: float = 255.0) -> np.ndarray:
    """A shaded, lightly textured product (``mask``) on a plain background, optionally with a soft shadow."""
    img = np.full((H, W, 3), background)
    if shadow:
        blob = np.zeros((H, W), np.float32)
        cv2.ellipse(blob, (640, 720), (380, 70), 0, 0, 360, 1, -1)  # reaches well beyond the product's box
        img *= (1.0 - shadow * cv2.GaussianBlur(blob, (0, 0), 20))[..., None]
    ys, xs = np.mgrid[0:H, 0:W]
    gain = shading[0] + (shading[1] - shading[0]) * (0.6 * xs / W + 0.4 * ys / H)
    noise = np.random.default_rng(0).normal(0, 3, (H, W))
    product = np.asarray(colour, float)[None, None] * gain[..., None] + noise[..., None]
    img[mask] = product[mask]
    return _jpeg(np.clip(img, 0, 255).astype(np.uint8))


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def _assert_fill_close(pred: np.ndarray, truth: np.ndarray, tol: float = 0.03) -> None:
    got, want = product_fill(pred), product_fill(truth)
    assert abs(got.longest_side_fill - want.longest_side_fill) <= tol
    assert abs(got.bbox_fill - want.bbox_fill) <= tol
    assert abs(got.area_fill - want.area_fill) <= tol


@pytest.mark.parametrize("kind", ["ellipse", "rectangle", "polygon", "touching", "two"])
def test_dark_products_on_white_are_measured_to_3_percent(kind: str) -> None:
    truth = _shape(kind)
    pred = foreground_mask(_shot(truth))
    assert pred.shape == truth.shape and pred.dtype == bool
    _assert_fill_close(pred, truth)
    assert _iou(pred, truth) > 0.95


def test_light_grey_product_on_white() -> None:
    truth = _shape("ellipse")
    pred = foreground_mask(_shot(truth, colour=(222, 222, 225), shading=(0.92, 1.04)))
    _assert_fill_close(pred, truth)
    assert _iou(pred, truth) > 0.95


@pytest.mark.parametrize(("colour", "shadow"), [((90, 60, 150), 0.3), ((222, 222, 225), 0.1)])
def test_soft_shadow_does_not_count_as_product(colour: tuple[int, int, int], shadow: float) -> None:
    truth = _shape("ellipse")
    shading = (0.92, 1.04) if colour[0] > 200 else (0.6, 1.1)
    image = _shot(truth, colour=colour, shading=shading, shadow=shadow)
    pred = foreground_mask(image)
    _assert_fill_close(pred, truth)  # the shadow reaches ~10% past the product's box: counted, it would fail
    below = np.zeros_like(truth)
    below[745:790] = True  # a strip under the product, inside the shadow
    assert pred[below].mean() < 0.05


def test_several_objects_are_all_kept() -> None:
    truth = _shape("two")
    pred = foreground_mask(_shot(truth))
    n, _ = cv2.connectedComponents(pred.astype(np.uint8))
    assert n - 1 == 2
    assert product_fill(pred).bbox == pytest.approx(product_fill(truth).bbox, abs=6)


def test_small_product_has_small_fill() -> None:
    truth = np.zeros((H, W), bool)
    truth[300:500, 450:630] = True
    fill = product_fill(foreground_mask(_shot(truth)))
    assert 0.22 <= fill.longest_side_fill <= 0.27


def test_off_white_backdrop_still_segments() -> None:
    truth = _shape("ellipse")
    pred = foreground_mask(_shot(truth, background=238.0))
    _assert_fill_close(pred, truth)


def test_cluttered_background_is_flagged_by_whiteness(photos: dict[str, np.ndarray]) -> None:
    scene = cv2.resize(photos["coffee"], (W, H))
    cv2.ellipse(scene, (540, 400), (250, 300), 0, 0, 360, (40, 200, 60), -1)
    assert background_whiteness(scene) < 0.05
    mask = foreground_mask(scene)
    assert mask.shape == (H, W)  # no clean product to separate: the mask is rough, but it runs


def test_blank_image_has_no_product() -> None:
    mask = foreground_mask(np.full((300, 400, 3), 255, np.uint8))
    assert not mask.any()
    assert product_fill(mask) == Fill(bbox=(0, 0, 0, 0), bbox_fill=0.0, longest_side_fill=0.0, area_fill=0.0)


def test_product_fill_of_a_known_mask() -> None:
    mask = np.zeros((100, 200), bool)
    mask[10:60, 20:180] = True
    fill = product_fill(mask)
    assert fill.bbox == (20, 10, 180, 60)
    assert fill.bbox_fill == pytest.approx(160 * 50 / 20000)
    assert fill.longest_side_fill == pytest.approx(0.8)  # width 160/200 beats height 50/100
    assert fill.area_fill == pytest.approx(0.4)


def test_small_images_are_not_resized() -> None:
    truth = np.zeros((120, 160), bool)
    truth[20:100, 30:130] = True
    img = np.full((120, 160, 3), 255, np.uint8)
    img[truth] = (40, 40, 160)
    assert _iou(foreground_mask(img), truth) > 0.95


def test_bad_input_raises() -> None:
    with pytest.raises(ArtlensError):
        foreground_mask(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ArtlensError):
        product_fill(np.zeros((0, 5), bool))
