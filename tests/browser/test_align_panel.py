"""The page's "Tags & text search" panel in Chromium: tag chips for uploads, a text search over an index."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

pytestmark = [pytest.mark.weights, pytest.mark.slow]

_SLOW_MS = 120_000  # the alignment's first load on a busy 2-core machine
SAMPLES = Path(__file__).resolve().parents[2] / "src" / "artlens" / "samples"


def test_tags_and_text_search(page, indexed_server, console, shot, doc_shot):
    from artlens.align.indexed import update_aligned
    from artlens.search.index import SearchIndex

    with SearchIndex.open(indexed_server.data / "index") as index:
        assert not update_aligned(index)["errors"]
    page.goto(indexed_server.url)
    page.fill("#key", indexed_server.token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    panel = page.locator("#align")
    panel.scroll_into_view_if_needed()
    uploads = [str(SAMPLES / "photo-coffee.jpg"), str(SAMPLES / "photo-chelsea.jpg")]
    page.set_input_files("#tag-files", uploads)
    page.click("#tag-form button[type=submit]")
    expect(page.locator("#tag-status")).to_contain_text("2 image(s) tagged", timeout=_SLOW_MS)
    expect(page.locator("[data-testid=tag-chips]")).to_have_count(2)
    expect(page.locator("[data-testid=tag-chips]").first.locator("li")).to_have_count(5)
    page.fill("#text-query", "a vase on white")
    page.click("#text-form button[type=submit]")
    expect(page.locator("#text-status")).to_contain_text("image(s) for", timeout=_SLOW_MS)
    assert page.locator("[data-testid=text-hit]").count() >= 3
    shot("tags-and-search")
    doc_shot("page-align", panel)
    assert console.problems(page) == []
