"""Text and watermark detection with the PP-OCRv4 detector (real weights, resolved offline from the cache)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens import weights
from artlens.errors import ArtlensError
from artlens.screening.textdetect import TextBox, _input_size, detect_text, text_coverage, text_probability


@pytest.fixture(scope="module")
def _model() -> None:
    status = weights.local_status("ppocr_det_v4")
    if status.state != "verified":
        pytest.skip(f"weight file 'ppocr_det_v4' is {status.state}: {status.detail}")


def _banner(photo: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    img = cv2.resize(photo, (1080, 800))
    cv2.rectangle(img, (0, 624), (1080, 736), (220, 20, 30), -1)
    cv2.putText(img, "SALE -50%", (54, 712), cv2.FONT_HERSHEY_DUPLEX, 1.8, (255, 255, 255), 3, cv2.LINE_AA)
    return img, (40, 650, 420, 725)  # where the lettering is


def _watermark(photo: np.ndarray, alpha: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    base = cv2.resize(photo, (1080, 800)).astype(np.float64)
    layer = np.zeros((800, 1080), np.uint8)
    cv2.putText(layer, "SAMPLE", (130, 480), cv2.FONT_HERSHEY_SIMPLEX, 3.6, 255, 10, cv2.LINE_AA)
    layer = cv2.warpAffine(layer, cv2.getRotationMatrix2D((540, 400), 30, 1.0), (1080, 800))
    a = layer[..., None] / 255.0 * alpha
    return (base * (1 - a) + 255 * a).astype(np.uint8), layer > 0


def _overlap(box: TextBox, region: tuple[int, int, int, int]) -> float:
    x0, y0, x1, y1 = region
    w = max(0, min(box.x1, x1) - max(box.x0, x0))
    h = max(0, min(box.y1, y1) - max(box.y0, y0))
    return w * h / max(1, box.area)


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
def test_sale_banner_is_found(photos: dict[str, np.ndarray]) -> None:
    img, region = _banner(photos["astronaut"])
    boxes = detect_text(img)
    assert boxes and all(isinstance(b, TextBox) for b in boxes)
    assert max(_overlap(b, region) for b in boxes) > 0.8
    assert boxes[0].score >= 0.6
    assert 0.005 < text_coverage(boxes, 1080, 800) < 0.1


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
@pytest.mark.parametrize("name", ["chelsea", "coffee"])
def test_diagonal_semi_transparent_watermark_is_found(photos: dict[str, np.ndarray], name: str) -> None:
    img, letters = _watermark(photos[name])
    boxes = detect_text(img)
    assert boxes
    covered = np.zeros(letters.shape, bool)
    for b in boxes:
        covered[b.y0:b.y1, b.x0:b.x1] = True
    assert (covered & letters).sum() / letters.sum() > 0.5  # most of the lettering is inside a box
    assert text_coverage(boxes, 1080, 800) > 0.02


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
def test_several_fonts_and_sizes_on_white() -> None:
    img = np.full((800, 1080, 3), 255, np.uint8)
    fonts = [(cv2.FONT_HERSHEY_SIMPLEX, 1.0), (cv2.FONT_HERSHEY_COMPLEX, 0.8),
             (cv2.FONT_HERSHEY_TRIPLEX, 1.6), (cv2.FONT_HERSHEY_PLAIN, 2.0), (cv2.FONT_HERSHEY_DUPLEX, 2.4)]
    for i, (font, scale) in enumerate(fonts):
        cv2.putText(img, "Free shipping 24h", (40, 80 + i * 140), font, scale, (0, 0, 0), 2, cv2.LINE_AA)
    boxes = detect_text(img)
    rows = {min(range(5), key=lambda i: abs((b.y0 + b.y1) / 2 - (70 + i * 140))) for b in boxes}
    assert len(rows) == 5  # every line found
    assert all(b.x0 < 80 for b in boxes)


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
@pytest.mark.parametrize("name", ["coffee", "chelsea", "astronaut", "coins"])
def test_photos_without_text_give_negligible_coverage(photos: dict[str, np.ndarray], name: str) -> None:
    for img in (photos[name], cv2.resize(photos[name], (1080, 800))):
        boxes = detect_text(img)
        assert text_coverage(boxes, img.shape[1], img.shape[0]) < 0.002


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
def test_blank_product_background_has_no_text() -> None:
    img = np.full((900, 900, 3), 255, np.uint8)
    cv2.ellipse(img, (450, 450), (250, 350), 0, 0, 360, (240, 240, 240), -1)  # a smooth, compact white object
    cv2.ellipse(img, (450, 450), (250, 350), 0, 0, 360, (120, 120, 120), 2)
    assert detect_text(img) == []


@pytest.mark.weights
@pytest.mark.usefixtures("_model")
def test_probability_map_has_the_network_size() -> None:
    prob = text_probability(np.full((800, 1080, 3), 200, np.uint8), max_side=640)
    assert prob.shape == (480, 640) and prob.dtype == np.float32
    assert float(prob.min()) >= 0.0 and float(prob.max()) <= 1.0


def test_input_size_is_a_multiple_of_32_within_the_limit() -> None:
    for h, w in [(800, 1080), (1080, 800), (3000, 200), (50, 70), (640, 640)]:
        rh, rw = _input_size(h, w, 640)
        assert rh % 32 == 0 and rw % 32 == 0 and min(rh, rw) >= 32 and max(rh, rw) <= 640
    assert _input_size(800, 1080, 640) == (480, 640)


def test_coverage_counts_overlaps_once() -> None:
    boxes = [TextBox(0, 0, 50, 20, 0.9), TextBox(25, 0, 75, 20, 0.9), TextBox(-10, 90, 10, 200, 0.8)]
    # union of the first two: 75 x 20; the third is clipped to 10 x 10
    assert text_coverage(boxes, 100, 100) == pytest.approx((75 * 20 + 10 * 10) / 10000)
    assert text_coverage([], 100, 100) == 0.0
    with pytest.raises(ArtlensError):
        text_coverage(boxes, 0, 100)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ArtlensError):
        detect_text(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ArtlensError, match="threads"):
        detect_text(np.zeros((64, 64, 3), np.uint8), threads=0)


# -- confirmation by the recogniser ------------------------------------------------------------------------


def _drops(seed: int = 0) -> np.ndarray:
    """Water drops on a pane: bright discs with dark rims, softly blurred (no lettering anywhere)."""
    rng = np.random.default_rng(seed)
    img = np.full((800, 1080, 3), (60, 90, 120), np.float32)
    for _ in range(300):
        x, y, r = int(rng.integers(0, 1080)), int(rng.integers(0, 800)), int(rng.integers(4, 18))
        cv2.circle(img, (x, y), r, (200, 220, 240), -1, cv2.LINE_AA)
        cv2.circle(img, (x, y), r, (20, 30, 40), 2, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 1), 0, 255).astype(np.uint8)


def _gravel() -> np.ndarray:
    from skimage import data

    grey = np.tile(data.gravel()[..., None], (4, 4, 3))  # a real photo of gravel, 4 x 4 tiles, at 1024 px
    return cv2.resize(grey, (1024, 1024), interpolation=cv2.INTER_AREA)


@pytest.mark.weights
@pytest.mark.usefixtures("_model", "_recogniser")
@pytest.mark.parametrize("texture", [_drops, _gravel], ids=["drops", "gravel"])
def test_texture_the_detector_fires_on_is_not_text(texture) -> None:
    img = texture()
    unread = detect_text(img, confirm=False)
    assert unread, "the detector alone finds regions here; without them this test would prove nothing"
    assert detect_text(img) == []


@pytest.fixture(scope="module")
def _recogniser() -> None:
    status = weights.local_status("ppocr_rec_v4")
    if status.state != "verified":
        pytest.skip(f"weight file 'ppocr_rec_v4' is {status.state}: {status.detail}")


@pytest.mark.weights
@pytest.mark.usefixtures("_model", "_recogniser")
def test_rendered_text_on_a_photo_is_read(photos: dict[str, np.ndarray]) -> None:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.fromarray(cv2.resize(photos["coffee"], (1080, 800)))
    draw = ImageDraw.Draw(img)
    draw.text((60, 60), "Free shipping 24h", fill=(255, 255, 255), font=ImageFont.load_default(size=56),
              stroke_width=3, stroke_fill=(0, 0, 0))  # Pillow's bundled font
    draw.text((500, 700), "Studio Nord", fill=(255, 255, 255), font=ImageFont.load_default(size=28))
    boxes = detect_text(np.asarray(img))
    read = {b.text: b for b in boxes}
    assert set(read) == {"Free shipping 24h", "Studio Nord"}
    caption = read["Free shipping 24h"]
    assert caption.x0 < 80 and caption.y0 < 80 and caption.x1 > 480 and caption.y1 > 110
    assert caption.text_score is not None and caption.text_score > 0.9 and caption.score > 0.6


@pytest.mark.weights
@pytest.mark.usefixtures("_model", "_recogniser")
def test_banner_and_rotated_watermark_are_read(photos: dict[str, np.ndarray]) -> None:
    banner, _ = _banner(photos["astronaut"])
    assert [b.text for b in detect_text(banner)] == ["SALE -50%"]
    watermark, _ = _watermark(photos["chelsea"])  # 30 degrees: read from the straightened rotated crop
    assert [b.text for b in detect_text(watermark)] == ["SAMPLE"]


@pytest.mark.weights
@pytest.mark.usefixtures("_model", "_recogniser")
def test_confirmation_thresholds_decide(photos: dict[str, np.ndarray]) -> None:
    from artlens.screening.textdetect import DetectorSettings

    img, _ = _banner(photos["astronaut"])
    assert detect_text(img, settings=DetectorSettings(min_characters=6))  # "SALE -50%": 6 letters and digits
    assert detect_text(img, settings=DetectorSettings(min_characters=7)) == []
    assert detect_text(img, settings=DetectorSettings(min_text_score=1.01)) == []


@pytest.mark.weights
@pytest.mark.usefixtures("_model", "_recogniser")
def test_assess_reports_what_was_read_and_where_in_a_valid_report(photos: dict[str, np.ndarray],
                                                                   tmp_path) -> None:
    from artlens.assess.pipeline import assess
    from artlens.assess.report import validate_report

    banner, region = _banner(photos["astronaut"])
    cv2.imwrite(str(tmp_path / "banner.png"), banner[..., ::-1])
    cv2.imwrite(str(tmp_path / "drops.png"), _drops()[..., ::-1])
    report = assess(tmp_path, "art", workers=1, learned=False)
    validate_report(report)
    by_name = {im["path"].rsplit("/", 1)[-1]: im for im in report["images"]}
    (text,) = [c for c in by_name["banner.png"]["checks"] if c["id"] == "text_overlay"]
    (box,) = text["boxes"]
    assert box["text"] == "SALE -50%" and box["score"] > 0.9
    assert _overlap(TextBox(*box["box"], score=1.0), region) > 0.8  # input pixels
    assert text["status"] == "review"
    assert {"id": "text_overlay", "status": "review", "message": text["message"]} in (
        by_name["banner.png"]["reason_checks"])
    (clean,) = [c for c in by_name["drops.png"]["checks"] if c["id"] == "text_overlay"]
    assert clean["status"] == "pass" and clean["boxes"] == []
