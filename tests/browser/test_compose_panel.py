"""The web page's Compose panel in Chromium: compose with the shipped chorale model, play and see it."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

from artlens import weights

_SLOW_MS = 60_000  # a composition and its audio on a busy 2-core machine


@pytest.mark.skipif(weights.local_status("timgm6mb").state != "verified",
                    reason="the TimGM6mb SoundFont is not in the local cache (make weights)")
def test_compose_plays_the_piece_and_shows_its_piano_roll(page, server, console, shot):
    page.fill("#key", server.token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#melody")).to_be_disabled()
    page.fill("#bars", "2")
    page.fill("#music-key", "D")
    page.click("#compose-go")
    expect(page.locator("#compose-result")).to_be_visible(timeout=_SLOW_MS)
    expect(page.locator("#compose-status")).to_contain_text("2 bars of 4/4 in D major")
    roll = page.locator("#compose-roll")
    roll.scroll_into_view_if_needed()
    assert roll.evaluate("(img) => img.complete && img.naturalWidth") > 100
    audio = page.locator("#compose-audio")
    duration = audio.evaluate("""(a) => new Promise((done) => a.readyState >= 1 ? done(a.duration)
                                 : a.addEventListener('loadedmetadata', () => done(a.duration)))""")
    assert duration == pytest.approx(2 * 4 * 60 / 80 + 1.0, abs=0.05)  # 2 bars at 80 bpm and the release
    assert page.locator("#compose-midi").get_attribute("href").startswith("blob:")
    shot("composed")
    page.select_option("#compose-task", "harmonize")
    expect(page.locator("#melody")).to_be_enabled()
    expect(page.locator("#compose-go")).to_have_text("Harmonise")
    assert console.problems(page) == []
