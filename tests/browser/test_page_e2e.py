"""End to end: the web page of ``artlens serve`` in Chromium against a real server.

Signs in with a key, uploads images through the file input, the keyboard and drag and drop, reads the
verdicts, filters and sorts the cards, runs fast style transfers and sees the result image load, opens the
detail view's heat map; a wrong or revoked key gets a sign-in error. Every test also fails on a console error,
an uncaught exception or a CSP violation in the page. Screenshots: see ``conftest.py``.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import Locator, Page, expect

from artlens import weights

_STYLE_WEIGHTS = ("magenta_multistyle26", "magenta_arbitrary_predict", "magenta_arbitrary_transform")
needs_style_weights = pytest.mark.skipif(
    any(weights.local_status(n).state != "verified" for n in _STYLE_WEIGHTS),
    reason="the fast style-transfer weights are not in the local cache (make weights)")
_SLOW_MS = 60_000  # a style transfer on a busy 2-core machine, first ONNX load included


def _jpeg(rgb: np.ndarray, path: Path, quality: int = 92) -> Path:
    Image.fromarray(rgb).save(path, "JPEG", quality=quality)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory, photos) -> dict[str, Path]:
    """A sharp 1024 px photo (pass), the same photo at 512 px (review: too small), a tiny dark blur (fail)."""
    import cv2

    folder = tmp_path_factory.mktemp("images")
    astronaut = photos["astronaut"]
    dark = cv2.GaussianBlur(photos["coffee"], (0, 0), 8)[::4, ::4]  # 150 x 100
    painting = np.zeros((96, 96, 3), np.uint8)
    painting[:, :, 0] = np.arange(96, dtype=np.uint8)[None, :] * 2
    painting[::8] = (30, 60, 160)
    return {
        "good": _jpeg(cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC),
                      folder / "good.jpg"),
        "small": _jpeg(astronaut, folder / "small.jpg"),
        "bad": _jpeg((dark * 0.2).astype(np.uint8), folder / "bad.jpg", quality=40),
        "content": _jpeg(photos["chelsea"], folder / "chelsea.jpg"),
        "style": _jpeg(painting, folder / "stripes.jpg"),
    }


def _sign_in(page: Page, token: str) -> None:
    page.fill("#key", token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#signin")).to_be_hidden()


def _loaded_width(img: Locator) -> int:
    """The natural width of an <img> once it has loaded (0 when it failed to)."""
    img.scroll_into_view_if_needed()
    return img.evaluate("""(img) => img.complete && img.getAttribute('src') ? img.naturalWidth
      : new Promise((done) => {
          img.addEventListener('load', () => done(img.naturalWidth), { once: true });
          img.addEventListener('error', () => done(0), { once: true });
        })""")


def _drop_file(page: Page, target: str, path: Path, mime: str = "image/jpeg") -> None:
    """Drag a file from outside the browser onto ``target``: dragenter, dragover, then drop."""
    data = page.evaluate_handle("""([name, mime, b64]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: mime }));
        return transfer;
      }""", [path.name, mime, base64.b64encode(path.read_bytes()).decode("ascii")])
    page.dispatch_event(target, "dragenter", {"dataTransfer": data})
    page.dispatch_event(target, "dragover", {"dataTransfer": data})
    expect(page.locator(target)).to_contain_class("over")
    page.dispatch_event(target, "drop", {"dataTransfer": data})
    expect(page.locator(target)).not_to_contain_class("over")


def _qualities(page: Page) -> list[float]:
    return [float(t.split()[-1]) for t in page.locator("#gallery .card .quality").all_text_contents()]


def test_wrong_key_shows_a_sign_in_error(page, console, shot):
    shot("signin")
    page.fill("#key", "alk_00000000_not-a-real-key")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text("key refused")
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#signin")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('artlens.key')") is None
    shot("wrong-key")
    # Chromium logs every refused request; the 401 of the sign-in call is the expected one.
    assert console.problems(page, allowed=(r"status of 401 .*/v1/models\)$",)) == []


def test_upload_see_verdicts_filter_and_sort(page, server, console, shot, images):
    _sign_in(page, server.token)
    expect(page.locator("#who")).to_contain_text("key ")
    page.set_input_files("#files", [str(images["good"]), str(images["bad"])])
    cards = page.locator("#gallery .card")
    expect(cards).to_have_count(2)
    expect(page.locator("#assess-status")).to_have_text("Sent 2 image(s) with policy general.")
    expect(page.locator("#assess-errors li")).to_have_count(0)
    good, bad = cards.filter(has_text="good.jpg"), cards.filter(has_text="bad.jpg")
    expect(good.locator(".badge")).to_have_text("pass")
    expect(good).to_contain_class("card-pass")
    expect(good.locator(".reasons")).to_have_count(0)
    expect(bad.locator(".badge")).to_have_text("fail")
    expect(bad.locator(".reasons li").first).to_be_visible()
    expect(bad.locator(".reasons")).to_contain_text("px on its longest side")
    assert _loaded_width(good.locator("img")) == 1024
    assert _loaded_width(bad.locator("img")) > 0
    shot("two-uploads")

    _drop_file(page, "#drop", images["small"])
    expect(cards).to_have_count(3)
    small = cards.filter(has_text="small.jpg")
    expect(small.locator(".badge")).to_have_text("review")
    expect(small.locator(".reasons")).to_contain_text("needs at least 800 px")
    expect(page.locator("#summary")).to_have_text("3 shown of 3: 1 pass, 1 review, 1 fail")
    shot("dropped-third")
    notes = images["good"].with_name("notes.txt")
    notes.write_text("not a picture")
    _drop_file(page, "#drop", notes, mime="text/plain")
    expect(page.locator("#assess-errors li")).to_have_text(["notes.txt: not an image, not sent"])
    expect(cards).to_have_count(3)

    small.locator("summary", has_text="Scores").click()
    expect(small.locator("table caption", has_text="checks")).to_be_visible()

    for verdict, name in (("fail", "bad.jpg"), ("review", "small.jpg"), ("pass", "good.jpg")):
        page.select_option("#filter", verdict)
        expect(cards).to_have_count(1)
        expect(cards.locator(".name")).to_have_text(name)
        expect(cards.locator(".badge")).to_have_text(verdict)
        expect(page.locator("#summary")).to_contain_text("1 shown of 3")
        shot(f"filter-{verdict}")
    page.select_option("#filter", "all")
    expect(cards).to_have_count(3)

    names = page.locator("#gallery .card .name")
    best_first = _qualities(page)
    assert best_first == sorted(best_first, reverse=True) and len(best_first) == 3
    page.select_option("#sort", "quality-asc")
    expect(names.first).to_have_text("bad.jpg")
    assert _qualities(page) == sorted(best_first)
    page.select_option("#sort", "name")
    expect(names).to_have_text(["bad.jpg", "good.jpg", "small.jpg"])
    shot("sorted-by-name")

    page.click("#clear")
    expect(cards).to_have_count(0)
    expect(page.locator("#summary")).to_have_text("")
    assert console.problems(page) == []


def test_a_batch_with_a_broken_file_shows_the_others_and_lists_it(page, server, console, shot, images):
    broken = images["good"].with_name("broken.jpg")  # named like a photo, holds text: the server refuses it
    broken.write_text("not a picture at all")
    _sign_in(page, server.token)
    page.set_input_files("#files", [str(images["good"]), str(broken), str(images["small"])])
    cards = page.locator("#gallery .card")
    expect(cards).to_have_count(2)
    for name in ("good.jpg", "small.jpg"):
        expect(cards.filter(has_text=name)).to_have_count(1)
    errors = page.locator("#assess-errors li")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("broken.jpg: not an image")
    expect(errors.first).not_to_contain_text("broken.jpg: broken.jpg")
    shot("broken-file-in-a-batch")
    assert console.problems(page) == []


def test_the_drop_zone_opens_the_file_chooser_from_the_keyboard(page, server, console, images):
    _sign_in(page, server.token)
    with page.expect_file_chooser() as chooser:
        page.locator("#drop").press("Enter")
    assert chooser.value.is_multiple()
    chooser.value.set_files(str(images["small"]))
    expect(page.locator("#gallery .card .name")).to_have_text(["small.jpg"])
    assert console.problems(page) == []


def test_a_page_reload_keeps_the_key_and_sign_out_forgets_it(page, server, console):
    _sign_in(page, server.token)
    page.reload()
    expect(page.locator("#app")).to_be_visible()
    page.click("#signout")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    page.reload()
    expect(page.locator("#signin")).to_be_visible()
    assert console.problems(page) == []


def test_a_key_revoked_while_signed_in_returns_to_the_sign_in_form(page, server, console, shot, images):
    token, key = server.keys.create("revoked in a test")
    _sign_in(page, token)
    server.keys.revoke(key.id)
    page.set_input_files("#files", str(images["good"]))
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#signin-error")).to_have_text("key refused")
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('artlens.key')") is None
    shot("revoked")
    # the page was also fetching the collections and the preset previews when the key went: refused alike
    refused = r"status of 401 .*/v1/(assess|indexes|style/presets(/\w+/preview)?)\)$"
    assert console.problems(page, allowed=(refused,)) == []


@pytest.mark.weights
@needs_style_weights
def test_fast_style_transfer_with_a_preset_then_a_style_image(page, server, console, shot, images):
    _sign_in(page, server.token)
    page.set_input_files("#content", str(images["content"]))
    page.select_option("#preset", "preset_03")
    page.fill("#size", "160")
    page.click("#stylize-go")
    result, img = page.locator("#stylize-result"), page.locator("#stylize-img")
    expect(result).to_be_visible(timeout=_SLOW_MS)
    expect(page.locator("#stylize-status")).to_have_text("Done.")  # no internal job id shown
    assert _loaded_width(img) == 160  # chelsea is landscape: the longest side is its width
    assert img.evaluate("(img) => img.naturalHeight") == round(300 * 160 / 451)
    expect(page.locator("#stylize-download")).to_have_attribute("href", img.get_attribute("src"))
    expect(page.locator("#stylize-go")).to_be_enabled()
    shot("preset-result")
    with page.expect_download() as download:
        page.click("#stylize-download")
    assert download.value.suggested_filename == "stylized.png"
    with Image.open(download.value.path()) as saved:
        assert saved.format == "PNG" and saved.size == (160, round(300 * 160 / 451))

    first = img.get_attribute("src")
    page.select_option("#method", "gatys")  # presets exist for the fast method only
    expect(page.locator("input[name=style-source][value=preset]")).to_be_disabled()
    expect(page.locator("input[name=style-source][value=file]")).to_be_checked()
    expect(page.locator("#size")).to_have_attribute("max", "1024")
    page.select_option("#method", "fast")
    expect(page.locator("input[name=style-source][value=preset]")).to_be_enabled()
    page.check("input[name=style-source][value=file]")
    expect(page.locator("#preset")).to_be_disabled()
    page.set_input_files("#style", str(images["style"]))
    page.fill("#size", "128")
    page.click("#stylize-go")
    expect(img).not_to_have_attribute("src", first, timeout=_SLOW_MS)
    expect(result).to_be_visible(timeout=_SLOW_MS)
    assert _loaded_width(img) == 128
    shot("style-image-result")
    assert console.problems(page) == []


def test_detail_view_shows_the_heat_map(page, learned_server, console, shot, images, doc_shot):
    page.goto(learned_server.url)
    if page.locator("#detail").count() == 0:
        pytest.skip("this page has no detail view (#detail)")
    _sign_in(page, learned_server.token)
    page.set_input_files("#files", [str(images["good"]), str(images["bad"])])
    cards = page.locator("#gallery .card")
    expect(cards).to_have_count(2, timeout=_SLOW_MS)  # the first learned assessment loads the model
    detail, heatmap = page.locator("#detail"), page.locator("#detail-heatmap")

    opener = cards.filter(has_text="good.jpg").get_by_role("button", name=re.compile(r"^Details"))
    opener.click()
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("good.jpg")
    expect(heatmap).to_be_visible(timeout=_SLOW_MS)
    assert _loaded_width(heatmap) == 1024  # the 1024 px upload, at most 1024 px: kept at its size
    assert heatmap.evaluate("(img) => img.naturalHeight") == 1024 + 44  # the colour bar below
    assert _loaded_width(page.locator("#detail img").first) == 1024
    expect(page.locator("#detail-heatmap-status")).to_contain_text("Spread of the quality map")
    shot("heatmap")
    doc_shot("page-details-heatmap", detail)
    page.click("#detail-close")
    expect(detail).to_be_hidden()

    cards.filter(has_text="bad.jpg").get_by_role("button", name=re.compile(r"^Details")).click()
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("bad.jpg")
    expect(heatmap).to_be_visible(timeout=_SLOW_MS)
    assert _loaded_width(heatmap) == 150  # smaller than 1024 px: never upscaled
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    assert console.problems(page) == []


def _text_weights_missing() -> bool:
    return any(weights.local_status(n).state != "verified" for n in ("ppocr_det_v4", "ppocr_rec_v4"))


@pytest.mark.weights
@pytest.mark.skipif(_text_weights_missing(), reason="the text detection and recognition weights are not in "
                    "the local cache (make weights)")
def test_detail_view_outlines_text_and_colours_each_reason(page, server, console, shot, photos, tmp_path):
    import cv2

    product = np.full((1200, 1200, 3), 255, np.uint8)  # a product on white with a shop's address under it
    product[300:900, 150:1050] = cv2.resize(photos["coffee"], (900, 600))
    cv2.putText(product, "www.myshop.com", (330, 1100), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (150, 150, 150), 3,
                cv2.LINE_AA)
    _sign_in(page, server.token)
    page.select_option("#policy", "amazon")
    page.set_input_files("#files", [str(_jpeg(product, tmp_path / "cup-with-url.jpg", quality=95))])
    card = page.locator("#gallery .card")
    expect(card).to_have_count(1, timeout=_SLOW_MS)
    expect(card.locator(".badge")).to_have_text("fail")
    # the verdict fails on the text, and the fill only asks for review: each reason says so, in its colour
    expect(card.locator(".reasons li.reason-fail")).to_contain_text("text, logo or watermark")
    expect(card.locator(".reasons li.reason-review")).to_contain_text("product fills")
    colours = card.locator(".reasons li").evaluate_all("(lis) => lis.map((li) => getComputedStyle(li).color)")
    assert len(set(colours)) == 2

    card.get_by_role("button", name=re.compile(r"^Details")).click()
    expect(page.locator("#detail")).to_be_visible()
    boxes = page.locator("#detail-boxes")
    expect(boxes).to_be_visible()
    assert boxes.get_attribute("viewBox") == "0 0 1200 1200"
    rect = boxes.locator("rect")
    expect(rect).to_have_count(1)
    expect(rect).to_have_class("text-box text-box-fail")
    expect(page.locator("#detail-text")).to_contain_text("www.myshop.com")
    # the outline lands on the lettering: the rectangle's screen box lies where the image shows it
    shown = page.locator("#detail-image").bounding_box()
    drawn = rect.bounding_box()
    scale = min(shown["width"], shown["height"]) / 1200  # a square image, fitted and centred
    left = shown["x"] + (shown["width"] - 1200 * scale) / 2
    x0 = int(rect.get_attribute("x"))
    assert abs(drawn["x"] - (left + x0 * scale)) < 3
    expect(page.locator("#detail-reasons li.reason-fail")).to_have_count(1)
    expect(page.locator("#detail-reasons li.reason-review")).to_have_count(1)
    shot("text-boxes")
    # the technical-only service has no heat maps (409 from /v1/explain, shown in the view): not a page error
    assert console.problems(page, allowed=(r"409 \(Conflict\) \(http://[^)]*/v1/explain\)",)) == []
