"""The web page's Generate panel in Chromium: list the registered GAN, generate a grid, show it."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

from .conftest import REPO, Console


def test_generate_panel_shows_a_grid_from_a_loaded_gan(browser, gan_server, shots_dir):
    console = Console()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=gan_server.url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("console", lambda m: console.errors.append(f"console.error: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    try:
        page.goto("/")
        expect(page.locator("#generate")).to_be_hidden()
        page.fill("#key", gan_server.token)
        page.click("#signin-form button[type=submit]")
        expect(page.locator("#generate")).to_be_visible()
        expect(page.locator("#gan-model option")).to_have_text("shapes (fastgan, 32 px, 0.032 kimg)")
        page.fill("#gan-n", "9")
        page.fill("#gan-seed", "3")
        page.click("#gan-go")
        expect(page.locator("#gan-result")).to_be_visible()
        expect(page.locator("#gan-status")).to_contain_text("9 images of 32 px from shapes, seed 3")
        grid = page.locator("#gan-grid")
        assert grid.evaluate("(img) => img.complete && img.naturalWidth") == 3 * 34 + 2
        assert grid.get_attribute("src").startswith("blob:")
        page.locator("#generate").scroll_into_view_if_needed()
        page.locator("#generate").screenshot(path=str(shots_dir / "generate-panel.png"))
        if os.environ.get("ARTLENS_DOC_SHOTS"):  # the picture in docs/generate.md
            page.locator("#generate").screenshot(path=str(REPO / "docs" / "images" / "generate-panel.png"))
        page.click("#signout")
        expect(page.locator("#generate")).to_be_hidden()
        assert console.errors == []
    finally:
        context.close()
