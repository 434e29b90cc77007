"""End to end: the page's similar & duplicates and recommend views, the checks table and the preset previews.

In Chromium against a real server (``conftest.py``): the search views against a server started with an index
of the bundled sample photos (an exact and a resized copy of one among them). Every test also fails on a
console error, an uncaught exception or a CSP violation. With ``ARTLENS_DOCS_IMAGES=docs/images`` the tests
also write the documentation's screenshots of the page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import Locator, Page, expect

from artlens import weights

_SAMPLES = Path(__file__).resolve().parents[2] / "src" / "artlens" / "samples"
_SLOW_MS = 60_000  # the first embedding loads the backbone on a busy 2-core machine
needs_preset_weights = pytest.mark.skipif(weights.local_status("magenta_multistyle26").state != "verified",
                                          reason="the style presets' weights are not in the local cache")


def _sign_in(page: Page, url: str, token: str) -> None:
    page.goto(url)
    page.fill("#key", token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()


def _loaded(img: Locator) -> int:
    """The natural width of an <img> once its (authorised, blob:) source has loaded."""
    img.scroll_into_view_if_needed()
    expect(img).to_have_attribute("src", re.compile(r"^blob:"), timeout=_SLOW_MS)
    return img.evaluate("""(img) => img.complete ? img.naturalWidth : new Promise((done) =>
      img.addEventListener('load', () => done(img.naturalWidth), { once: true }))""")


def test_details_show_a_checks_table_in_the_units_of_the_reasons(page, server, console, doc_shot):
    _sign_in(page, server.url, server.token)
    page.select_option("#policy", "amazon")
    names = ("product-vase-white.jpg", "product-vase-cluttered.jpg", "photo-coffee.jpg")
    page.set_input_files("#files", [str(_SAMPLES / n) for n in names])
    cards = page.locator("#gallery .card")
    expect(cards).to_have_count(3, timeout=_SLOW_MS)
    page.mouse.move(0, 0)
    doc_shot("page-main")
    page.set_viewport_size({"width": 1280, "height": 1500})  # the whole detail view in one picture
    cluttered = cards.filter(has_text="product-vase-cluttered.jpg")
    cluttered.get_by_role("button", name=re.compile("^Details")).click()
    detail = page.locator("#detail")
    expect(detail).to_be_visible()
    table = page.locator("#detail-checks table.checks")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_text(["check", "status", "value", "limit"])
    white = table.locator("tr[data-check=background_white]")
    value, limit = white.locator("td.num").all_text_contents()
    assert re.fullmatch(r"\d+(\.\d+)?%", value) and limit == "95%", (value, limit)
    assert white.locator("td").nth(1).text_content() == "fail"
    assert f"background is {value} white, needs 95%" in white.get_attribute("title")  # the reason's words
    reasons = page.locator("#detail-reasons").text_content()
    assert f"{value} white" in reasons  # the table and the reasons agree
    assert re.fullmatch(r"\d+/100", table.locator("tr[data-check=quality] td.num").first.text_content())
    line = table.locator("tbody tr").first.bounding_box()["height"]
    for row in table.locator("tbody tr").all():  # one line per row: nothing wraps ("statu/s", "77.90/0")
        assert row.bounding_box()["height"] <= line + 1
    status = page.locator("#detail-heatmap-status")
    expect(status).to_contain_text("No heat map")  # a technical server has no learned model
    assert "Lowest local quality" not in detail.text_content()
    doc_shot("page-details-checks", detail)
    assert console.problems(page, allowed=(r"409 \(Conflict\) \(http://[^)]*/v1/explain\)",)) == []


@needs_preset_weights
def test_style_presets_are_shown_with_previews(page, server, console, doc_shot):
    _sign_in(page, server.url, server.token)
    gallery = page.locator("#preset-gallery")
    buttons = gallery.locator("button.preset")
    expect(buttons).to_have_count(26)
    gallery.scroll_into_view_if_needed()
    assert _loaded(buttons.nth(0).locator("img")) == 192  # the sample photo restyled, 192 px wide
    buttons.nth(5).click()
    expect(page.locator("#preset")).to_have_value("preset_05")
    expect(buttons.nth(5)).to_have_attribute("aria-checked", "true")
    expect(buttons.nth(0)).to_have_attribute("aria-checked", "false")
    page.select_option("#preset", "preset_02")
    expect(buttons.nth(2)).to_have_attribute("aria-checked", "true")
    for i in range(1, 8):
        _loaded(buttons.nth(i).locator("img"))
    doc_shot("page-style-presets", page.locator("#stylize"))
    page.check("input[name=style-source][value=file]")  # an image as the style: the presets step aside
    expect(gallery).to_contain_class("disabled")
    assert console.problems(page) == []


def test_similar_images_by_picking_or_uploading_and_duplicate_groups(page, indexed_server, console, doc_shot):
    _sign_in(page, indexed_server.url, indexed_server.token)
    view = page.locator("#search")
    expect(view).to_be_visible()
    expect(page.locator("#recommend")).to_be_visible()
    items = page.locator("#search-items .pick-item")
    expect(items).to_have_count(12)  # the ten samples, an exact copy and a half-size copy
    expect(page.locator("#search-count")).to_have_text("(12)")
    page.fill("#search-k", "4")
    items.filter(has_text="product-vase-white.jpg").click()
    results = page.locator("#search-results .card")
    expect(results).to_have_count(4, timeout=_SLOW_MS)
    names = results.locator(".name").all_text_contents()
    assert names[0] == "product-vase-white-copy.jpg", names  # the same bytes
    assert "product-vase-white-half.jpg" in names and all(n.startswith("product-vase") for n in names), names
    assert "product-vase-white.jpg" not in names  # the query itself is left out
    scores = [int(t.split()[-1].rstrip("%")) for t in results.locator(".score").all_text_contents()]
    assert scores == sorted(scores, reverse=True) and scores[0] >= 95
    assert _loaded(results.first.locator("img")) > 0
    expect(page.locator("#search-query")).to_contain_text("product-vase-white.jpg")

    page.set_input_files("#search-file", str(_SAMPLES / "photo-chelsea.jpg"))  # a query by upload
    expect(page.locator("#search-query")).to_contain_text("an uploaded image")
    expect(results.first.locator(".name")).to_have_text("photo-chelsea.jpg", timeout=_SLOW_MS)

    page.click("#dup-go")
    groups = page.locator("#dup-groups .group")
    expect(groups.first).to_be_visible(timeout=_SLOW_MS)
    vase = groups.filter(has_text="product-vase-white-copy.jpg")
    expect(vase).to_have_count(1)
    keeper = vase.locator(".card", has=page.locator(".badge", has_text="keep"))
    expect(keeper).to_have_count(1)
    expect(vase.locator(".badge", has_text="copy")).to_have_count(vase.locator(".card").count() - 1)
    why = vase.locator(".keep-why").text_content()
    assert why.startswith("Keep ") and len(why) > len("Keep x.jpg: ") + 10, why
    _loaded(keeper.locator("img"))
    page.mouse.move(0, 0)
    items.filter(has_text="product-vase-white.jpg").click()  # the picked query again, for the picture
    expect(results).to_have_count(4, timeout=_SLOW_MS)
    for card in results.all():
        _loaded(card.locator("img"))
    doc_shot("page-similar-duplicates", view)
    assert console.problems(page) == []


def test_recommend_from_likes_and_dislikes(page, indexed_server, console, doc_shot):
    _sign_in(page, indexed_server.url, indexed_server.token)
    view = page.locator("#recommend")
    tiles = view.locator(".rate-item")
    expect(tiles).to_have_count(12)
    expect(page.locator("#rec-go")).to_be_disabled()
    for name in ("product-vase-white.jpg", "product-vase-framed.jpg"):
        tiles.filter(has_text=name).get_by_role("button", name=f"Like {name}", exact=True).click()
    tiles.filter(has_text="photo-coffee.jpg").get_by_role("button", name="Dislike photo-coffee.jpg").click()
    expect(page.locator("#rec-summary")).to_have_text("2 liked, 1 disliked.")
    expect(tiles.filter(has_text="photo-coffee.jpg")).to_have_attribute("data-rating", "disliked")
    page.click("#rec-go")
    results = view.locator("#rec-results .card")
    expect(results.first).to_be_visible(timeout=_SLOW_MS)
    names = results.locator(".name").all_text_contents()
    rated = {"product-vase-white.jpg", "product-vase-framed.jpg", "photo-coffee.jpg",
             "product-vase-white-copy.jpg"}  # an exact copy of a liked image is never recommended
    assert not rated & set(names), names
    assert names[0].startswith("product-vase"), names  # like what was liked
    assert all(re.fullmatch(r"match -?\d+%", t) for t in results.locator(".score").all_text_contents())
    for card in results.all()[:6]:
        _loaded(card.locator("img"))
    for tile in tiles.all()[:8]:
        _loaded(tile.locator("img"))
    doc_shot("page-recommend", view)
    tiles.filter(has_text="photo-coffee.jpg").get_by_role("button", name="Dislike photo-coffee.jpg").click()
    expect(page.locator("#rec-summary")).to_have_text("2 liked, 0 disliked.")  # a second click takes it back
    page.click("#rec-clear")
    expect(page.locator("#rec-go")).to_be_disabled()
    assert console.problems(page) == []
