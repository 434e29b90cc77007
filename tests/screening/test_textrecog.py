"""PP-OCRv4 recognition: CTC decoding, straightened crops, and the real model reading rendered lines."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens import weights
from artlens.errors import ArtlensError
from artlens.screening.textrecog import HEIGHT, Reading, charset, crop_quad, ctc_greedy_decode, read_crops

_CLASSES = ("", "a", "b", "c", " ")


def _onehot(path: list[int], peak: float = 0.9) -> np.ndarray:
    probs = np.full((len(path), len(_CLASSES)), (1 - peak) / (len(_CLASSES) - 1), np.float32)
    probs[np.arange(len(path)), path] = peak
    return probs


def test_ctc_collapses_repeats_drops_blanks_and_keeps_repeats_split_by_blanks() -> None:
    probs = np.stack([_onehot([1, 1, 0, 1, 2, 2, 0, 0, 3, 4, 3]), _onehot([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])])
    probs[0, 4, 2] = 0.6  # one step less sure: the score is the mean over the kept steps
    first, empty = ctc_greedy_decode(probs, _CLASSES)
    assert first.text == "aabc c"
    assert first.score == pytest.approx((0.9 * 5 + 0.6) / 6, abs=1e-4)
    assert first.characters == 5  # the space is not a character
    assert empty == Reading("", 0.0)


def test_ctc_rejects_a_dictionary_of_the_wrong_size() -> None:
    with pytest.raises(ArtlensError, match="probabilities"):
        ctc_greedy_decode(np.zeros((1, 4, 3), np.float32), _CLASSES)


def test_crop_quad_straightens_a_rotated_region_and_turns_tall_crops() -> None:
    img = np.zeros((200, 300, 3), np.uint8)
    rect = ((150, 100), (120, 30), 30.0)  # a 120 x 30 bar turned by 30 degrees
    cv2.fillPoly(img, [cv2.boxPoints(rect).astype(np.int32)], (255, 255, 255))
    pts = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left, right = sorted(pts[:2], key=lambda p: p[1]), sorted(pts[2:], key=lambda p: p[1])
    crop = crop_quad(img, np.array([left[0], right[0], right[1], left[1]]))
    assert crop.shape[1] > 3 * crop.shape[0]  # straightened: long and flat
    assert crop[2:-2, 2:-2].mean() > 240  # and all bar
    tall = crop_quad(img, np.array([[10, 10], [30, 10], [30, 110], [10, 110]], np.float32))
    assert tall.shape[:2] == (20, 100)


@pytest.fixture(scope="module")
def _model() -> None:
    status = weights.local_status("ppocr_rec_v4")
    if status.state != "verified":
        pytest.skip(f"weight file 'ppocr_rec_v4' is {status.state}: {status.detail}")


def _line(text: str, font: int, scale: float) -> np.ndarray:
    (w, h), base = cv2.getTextSize(text, font, scale, 2)
    img = np.full((h + base + 16, w + 16, 3), 255, np.uint8)
    cv2.putText(img, text, (8, h + 8), font, scale, (20, 20, 20), 2, cv2.LINE_AA)
    return img


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
def test_dictionary_comes_from_the_model_with_blank_first_and_space_last() -> None:
    classes = charset()
    assert len(classes) == 6625 and classes[0] == "" and classes[-1] == " "
    assert {"A", "z", "7", "%", "中"} <= set(classes)


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
def test_rendered_lines_of_several_sizes_are_read_in_one_batch() -> None:
    lines = [("SALE -50%", cv2.FONT_HERSHEY_DUPLEX, 1.2), ("Free shipping", cv2.FONT_HERSHEY_SIMPLEX, 2.0),
             ("Made in Italy", cv2.FONT_HERSHEY_COMPLEX, 0.9), ("2024", cv2.FONT_HERSHEY_TRIPLEX, 3.0)]
    crops = [_line(*line) for line in lines]
    readings = read_crops(crops)
    assert [r.text.strip() for r in readings] == [text for text, _, _ in lines]
    assert all(r.score > 0.9 for r in readings)
    noise = np.random.default_rng(0).integers(0, 256, (HEIGHT, 200, 3), dtype=np.uint8)
    (garbage,) = read_crops([noise])
    assert garbage.characters < 2 or garbage.score < 0.8
