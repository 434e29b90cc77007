"""The web page's Write panel in Chromium: a poem about an uploaded product photo, by the shipped poetry
LSTM, streamed as it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

from artlens import weights
from artlens.text.model import SHIPPED_MODEL_DIR

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "artlens" / "samples"
_SLOW_MS = 240_000  # the backbone and the model load on a busy 2-core machine (90 s was too short at load 15)


@pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                    reason="MobileNetV2 is not in the local cache (make weights)")
@pytest.mark.skipif(not (SHIPPED_MODEL_DIR / "model.safetensors").is_file(), reason="no shipped poetry model")
def test_write_about_an_uploaded_picture(page, server, console, shot, doc_shot):
    path = SAMPLES / "product-vase-white.jpg"
    page.fill("#key", server.token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    page.select_option("#write-kind", "poem")
    page.fill("#write-about", "a white vase")
    page.set_input_files("#write-image", str(path))
    page.select_option("#write-model", "poetry")
    page.fill("#write-seed", "2")
    with page.expect_response(lambda r: r.url.endswith("/v1/write"), timeout=_SLOW_MS) as answer:
        page.click("#write-go")
    # the text is streamed (Server-Sent Events), not polled from a job
    assert answer.value.status == 200
    assert answer.value.headers["content-type"].startswith("text/event-stream")
    expect(page.locator("#write-result")).to_be_visible(timeout=_SLOW_MS)
    expect(page.locator("#write-text")).to_contain_text("A white vase")
    expect(page.locator("#write-grounding")).to_contain_text("a picture showing")
    page.locator("#write").scroll_into_view_if_needed()
    shot("write")
    doc_shot("page-write", page.locator("#write"))  # with ARTLENS_DOCS_IMAGES=docs/images
    assert console.problems(page) == []
