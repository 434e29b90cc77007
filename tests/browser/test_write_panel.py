"""The web page's Write panel in Chromium: a poem about an uploaded picture, by the shipped poetry LSTM."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

from artlens import weights
from artlens.text.model import SHIPPED_MODEL_DIR

_SLOW_MS = 90_000  # the backbone and the model load on a busy 2-core machine


@pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                    reason="MobileNetV2 is not in the local cache (make weights)")
@pytest.mark.skipif(not (SHIPPED_MODEL_DIR / "model.safetensors").is_file(), reason="no shipped poetry model")
def test_write_about_an_uploaded_picture(page, server, console, shot, tmp_path):
    picture = np.zeros((96, 128, 3), np.uint8)
    picture[:48] = (40, 80, 200)
    picture[48:] = (230, 220, 200)
    path = tmp_path / "harbour.png"
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())

    page.fill("#key", server.token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    page.select_option("#write-kind", "poem")
    page.fill("#write-about", "the harbour at dusk")
    page.set_input_files("#write-image", str(path))
    page.select_option("#write-model", "poetry")
    page.fill("#write-seed", "2")
    page.click("#write-go")
    expect(page.locator("#write-result")).to_be_visible(timeout=_SLOW_MS)
    expect(page.locator("#write-text")).to_contain_text("The harbour at dusk")
    expect(page.locator("#write-grounding")).to_contain_text("a picture showing")
    page.locator("#write").scroll_into_view_if_needed()
    shot("write")
    assert console.problems(page) == []
