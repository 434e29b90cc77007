"""The ``artlens assess`` HTML report in Chromium: the overlay switches on each card, with and without
JavaScript, under the page's own Content-Security-Policy (opened from a file, no server).

Screenshots: see ``conftest.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

from artlens.assess.report import SCHEMA_ID, render

# registered before the page's script runs (init scripts are not subject to the page's CSP)
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective));
"""


def _check(check_id: str, status: str, value: object, threshold: object, message: str) -> dict:
    return {"id": check_id, "status": status, "passed": status == "pass", "value": value,
            "threshold": threshold, "message": message}


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> Path:
    """A report of one real product photo with a text box, a product box and a heat map, as HTML."""
    folder = tmp_path_factory.mktemp("report")
    rgb = photos["coffee"]  # 600 x 400
    image, heat = folder / "cup.jpg", folder / "cup.quality-map.png"
    Image.fromarray(rgb).save(image, quality=90)
    reddened = np.dstack([np.full(rgb.shape[:2], 220, np.uint8), rgb[..., 1] // 3, rgb[..., 2] // 3])
    Image.fromarray(reddened).save(heat)
    data = image.read_bytes()
    text = _check("text_overlay", "fail", 0.05, 0.0, "text, logo or watermark added over the image")
    text["boxes"] = [{"box": [30, 20, 230, 80], "text": "SALE", "score": 0.98}]
    entry = {"path": str(image), "width": 600, "height": 400, "format": "JPEG", "file_size": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "scores": {"quality": 70.0},
             "subscores": {"sharpness": 80.0}, "checks": [text], "verdict": "fail",
             "reasons": [text["message"]],
             "reason_checks": [{"id": "text_overlay", "status": "fail", "message": text["message"]}],
             "product_box": [150, 60, 520, 380],
             "explanation": {"path": str(heat), "min": 20.0, "mean": 55.0, "worst_region": [0, 0, 200, 200]}}
    report = {"schema": SCHEMA_ID, "artlens_version": "test", "created": "2026-12-05T10:00:00Z",
              "policy": {"name": "amazon", "sha256": "0" * 64}, "settings": {}, "images": [entry],
              "errors": [{"path": str(folder / "gone.jpg"), "error": f"{folder / 'gone.jpg'}: empty file"}],
              "summary": {"total": 2, "assessed": 1, "errors": 1, "pass": 0, "review": 0, "fail": 1,
                          "computed": 1, "cached": 0, "elapsed_s": 1.0, "images_per_s": 1.0}}
    return render(report, "html", folder / "report.html")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_overlays_switch_on_each_card(browser, report_page: Path, shots_dir: Path, javascript: bool) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=javascript)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(report_page.as_uri())
        card = page.locator("article.card")
        text, product = card.locator("rect.tb"), card.locator("rect.pb")
        heat, weakest = card.locator("img.heat"), card.locator("rect.wr")
        # at first: the text the check found is outlined, the product box and heat map are off
        expect(text).to_be_visible()
        for hidden in (product, heat, weakest):
            expect(hidden).to_be_hidden()
        card.locator("label.ol-product").click()
        card.locator("label.ol-heat").click()
        card.locator("label.ol-text").click()
        expect(product).to_be_visible()
        expect(heat).to_be_visible()
        expect(weakest).to_be_visible()
        expect(text).to_be_hidden()
        # the heat map lies exactly over the photo, and the product outline inside it where the box says
        photo = card.locator(".thumb > img").first.bounding_box()  # the box the picture is fitted into
        assert heat.bounding_box() == photo
        box = product.bounding_box()
        scale = min(photo["width"] / 600, photo["height"] / 400)  # object-fit: contain
        assert box["width"] == pytest.approx(370 * scale, abs=3)
        assert box["height"] == pytest.approx(320 * scale, abs=3)
        page.screenshot(path=str(shots_dir / f"report-overlays-{'js' if javascript else 'no-js'}.png"))
        # the error line names the file once, then the reason
        assert page.locator("#errors li span").inner_text() == "Empty file"
        if javascript:
            problems += page.evaluate("window.__cspViolations")
        assert problems == []
    finally:
        context.close()
