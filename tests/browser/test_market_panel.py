"""The web page's Market panel and the HTML trends report in Chromium: the index plot is drawn, an estimate
comes back with its interval and drivers, and the report's plots render."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright", reason="the playwright package is not installed (pip install playwright): "
                    "browser tests skipped")
from playwright.sync_api import expect

_SLOW_MS = 60_000  # the model is refitted on first use: seconds on a busy 2-core machine


def test_market_panel_plots_the_index_and_estimates_a_work(page, market_server, console, doc_shot,
                                                            monkeypatch):
    from artlens.market import mediums

    table = mediums.medium_table_from_rows([("Painting", "oil on canvas")])
    monkeypatch.setattr(mediums, "load_medium_table", lambda path=None: table)  # no download in tests
    page.goto(market_server.url)
    page.fill("#key", market_server.token)
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#market")).to_be_visible(timeout=_SLOW_MS)
    plot = page.locator("#market-plot")
    expect(plot.locator("polyline").first).to_be_attached()
    assert plot.locator("polyline").count() >= 2  # hedonic, repeat sales and forecast lines
    expect(page.locator("#market-legend")).to_contain_text("repeat sales")
    page.fill("#market-artist", "Artist 001")
    page.fill("#market-year", "1950")
    page.click("#market-go")
    expect(page.locator("#market-result")).to_be_visible(timeout=_SLOW_MS)
    expect(page.locator("#market-estimate")).to_contain_text("Estimate")
    expect(page.locator("#market-interval")).to_contain_text("80 % interval")
    assert page.locator("#market-drivers li").count() >= 3
    page.locator("#market").scroll_into_view_if_needed()
    doc_shot("page-market", page.locator("#market"))
    assert console.problems(page) == []


def test_trends_report_renders_its_plots(browser, tmp_path, doc_shot_folder):
    from artlens.market import SimulationSettings, market_trends, prepare, simulate_sales, trends_html

    sim = simulate_sales(SimulationSettings(works=800, artists=10, years=10, seed=3))
    prepared = prepare(sim.sales, rates=sim.rates, medium_category=lambda ms: [m.split()[0] for m in ms])
    report = tmp_path / "trends.html"
    report.write_text(trends_html(market_trends(prepared), prepared), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto(report.as_uri())
    for figure in ("#index-plot", "#predicted-actual", "#residuals"):
        box = tab.locator(f"{figure} svg").bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200, figure
    assert tab.locator("table tr").count() == 1 + 10 + 2  # header, ten years, two forecast periods
    if doc_shot_folder is not None:
        tab.screenshot(path=str(doc_shot_folder / "market-report.png"), full_page=True)
    context.close()
    assert errors == []
