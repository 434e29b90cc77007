"""Background whiteness and added borders, on generated images with known answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens.errors import ArtlensError
from artlens.screening.compliance import background_colour, background_whiteness, border_frame


def _jpeg(rgb: np.ndarray, quality: int = 85) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1].copy()


def _product(background: int = 255, size: tuple[int, int] = (800, 1080)) -> np.ndarray:
    img = np.full((*size, 3), background, np.uint8)
    cv2.ellipse(img, (size[1] // 2, size[0] // 2), (size[1] // 4, size[0] // 3), 0, 0, 360, (60, 40, 120), -1)
    return img


def _framed(photo: np.ndarray, width: int, colour: tuple[int, int, int]) -> np.ndarray:
    out = cv2.resize(photo, (1000, 750)).copy()
    out[:width], out[-width:], out[:, :width], out[:, -width:] = colour, colour, colour, colour
    return out


def _mat_with_line(photo: np.ndarray) -> np.ndarray:
    img = np.full((800, 1080, 3), 255, np.uint8)
    cv2.rectangle(img, (40, 40), (1039, 759), (30, 30, 30), 3)
    img[90:710, 90:990] = cv2.resize(photo, (900, 620))
    return img


def test_pure_white_background_is_white() -> None:
    assert background_whiteness(_product()) == 1.0
    assert background_whiteness(_jpeg(_product())) > 0.98  # JPEG noise stays within the tolerance
    assert background_colour(_product()) == (255, 255, 255)


def test_off_white_background_scores_lower_than_pure_white() -> None:
    off = _product(background=245)
    assert background_whiteness(off) < 0.05 < background_whiteness(_product())
    assert background_colour(off) == (245, 245, 245)
    assert background_whiteness(off, tolerance=12) == 1.0  # the tolerance is what decides


def test_tinted_background_is_not_white() -> None:
    img = _product()
    img[..., 2] = np.minimum(img[..., 2], 235)  # cream: bright, but not neutral
    assert background_whiteness(img) < 0.05


def test_cluttered_background_is_not_white(photos: dict[str, np.ndarray]) -> None:
    scene = cv2.resize(photos["coffee"], (1080, 800))
    cv2.ellipse(scene, (540, 400), (250, 300), 0, 0, 360, (40, 200, 60), -1)
    assert background_whiteness(scene) < 0.05
    assert background_whiteness(photos["astronaut"]) < 0.05


def test_product_touching_the_edge_lowers_whiteness_in_proportion() -> None:
    img = _product()
    img[700:, 300:780] = (60, 40, 120)  # a base covering part of the bottom frame
    white = background_whiteness(img, border_frac=0.05)
    assert 0.7 < white < 0.95


@pytest.mark.parametrize("jpeg", [False, True])
def test_black_frame_is_found_on_four_sides(photos: dict[str, np.ndarray], jpeg: bool) -> None:
    img = _framed(photos["astronaut"], 20, (0, 0, 0))
    border = border_frame(_jpeg(img) if jpeg else img)
    assert border.sides == 4 and border.kind == "band"
    assert 17 <= border.width_px <= 21
    assert max(border.colour) < 15


def test_coloured_frame_is_found(photos: dict[str, np.ndarray]) -> None:
    border = border_frame(_jpeg(_framed(photos["chelsea"], 15, (200, 30, 40))))
    assert border.sides == 4
    assert np.abs(np.array(border.colour) - (200, 30, 40)).max() < 15


def test_white_mat_with_thin_line_is_a_frame(photos: dict[str, np.ndarray]) -> None:
    border = border_frame(_jpeg(_mat_with_line(photos["coffee"])))
    assert border.sides == 4 and border.kind == "line"
    assert 40 <= border.width_px <= 46  # edge to the inner side of the 3 px line at 40 px
    assert max(border.colour) < 60


def test_product_on_white_has_no_border() -> None:
    for img in (_product(), _jpeg(_product()), _product(background=245)):
        assert border_frame(img).sides == 0
    box = np.full((1000, 1000, 3), 255, np.uint8)
    box[50:950, 50:950] = (150, 30, 40)  # a flat rectangle on white: a white mat would look the same
    assert border_frame(box).sides == 0


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket", "coins"])
def test_full_bleed_photos_have_no_border(photos: dict[str, np.ndarray], name: str) -> None:
    border = border_frame(photos[name])
    assert border.sides == 0 and border.colour is None


def test_letterbox_counts_the_sides_it_covers(photos: dict[str, np.ndarray]) -> None:
    img = cv2.resize(photos["coffee"], (900, 600)).copy()
    img[:40], img[-40:] = 0, 0
    border = border_frame(img)
    assert border.sides == 2 and 38 <= border.width_px <= 40


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 2), np.uint8), np.zeros((2, 50, 3), np.uint8)])
def test_bad_input_raises(bad: np.ndarray) -> None:
    with pytest.raises(ArtlensError):
        background_whiteness(bad)
    with pytest.raises(ArtlensError):
        border_frame(bad)


def test_bad_border_fraction_raises() -> None:
    with pytest.raises(ArtlensError, match="border_frac"):
        background_whiteness(_product(), border_frac=0.6)
