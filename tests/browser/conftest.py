"""Fixtures of the browser tests: a real ``artlens serve`` on a free loopback port, and Debian's Chromium.

The server is :func:`artlens.serve.app.create_app` under uvicorn in a background thread, on a temporary key
database, results folder and upload folder, with one API key made through :class:`KeyStore`. Chromium is
``/usr/bin/chromium`` (or ``$ARTLENS_CHROMIUM``) driven by Playwright; no browser is ever downloaded. Without
Chromium or the ``playwright`` package every test here is skipped with the reason. Screenshots go to
``$ARTLENS_TEST_OUTPUT`` (default ``out/browser-tests/`` in the repository), listed at the end of the run.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from artlens.serve.auth import KeyStore

CHROMIUM = Path(os.environ.get("ARTLENS_CHROMIUM") or "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
_SCREENSHOTS: list[Path] = []

# Registered before any page script runs (Playwright's init scripts are not subject to the page's CSP).
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (f"no Chromium at {CHROMIUM} (apt-get install chromium, or set ARTLENS_CHROMIUM to its path): "
                "browser tests skipped")
    return None


def pytest_terminal_summary(terminalreporter) -> None:
    if _SCREENSHOTS:
        terminalreporter.write_sep("-", f"browser screenshots ({len(_SCREENSHOTS)})")
        for path in _SCREENSHOTS:
            terminalreporter.write_line(str(path))


@dataclass
class Server:
    """A running service: its base URL, a valid API key, its key store and its data folder."""

    url: str
    token: str
    keys: KeyStore
    data: Path


@contextmanager
def _serving(data: Path, *, technical: bool, indexes: dict[str, Path] | None = None,
             market_model: Path | None = None, gans: dict[str, Path] | None = None) -> Iterator[Server]:
    """``create_app`` under uvicorn in a daemon thread on 127.0.0.1 and a free port, until the block ends."""
    pytest.importorskip("fastapi", reason="artlens[serve] is not installed: browser tests skipped")
    uvicorn = pytest.importorskip("uvicorn", reason="artlens[serve] is not installed: browser tests skipped")

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    (data / "uploads").mkdir()
    settings = ServeSettings(db_path=data / "serve.db", technical=technical, upload_dir=data / "uploads",
                             results_dir=data / "results", indexes=indexes or {}, market_model=market_model,
                             gans=gans or {})
    app = create_app(settings)
    token = app.state.keys.create("browser tests")[0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, name="artlens-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:  # set by uvicorn once it accepts connections
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the server did not start (see the log above)")
        time.sleep(0.02)
    try:
        yield Server(f"http://127.0.0.1:{port}", token, app.state.keys, data)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The service with technical scoring only (fast, no learned model), as ``artlens serve --technical``."""
    with _serving(tmp_path_factory.mktemp("serve"), technical=True) as running:
        yield running


@pytest.fixture(scope="session")
def learned_server(tmp_path_factory) -> Iterator[Server]:
    """The service as ``artlens serve`` starts by default: the learned quality model too (heat maps)."""
    from artlens import weights

    if weights.local_status("mobilenet_v2").state != "verified":
        pytest.skip("the quality model's mobilenet_v2 weights are not in the local cache (make weights)")
    with _serving(tmp_path_factory.mktemp("serve-learned"), technical=False) as running:
        yield running


@pytest.fixture(scope="session")
def indexed_server(tmp_path_factory) -> Iterator[Server]:
    """The technical service with a search index ``shop`` (``artlens serve --index shop=DIR``) of the
    bundled sample photos, an exact copy and a resized copy of one of them."""
    from artlens import weights

    if weights.local_status("mobilenet_v2").state != "verified":
        pytest.skip("the search index's mobilenet_v2 weights are not in the local cache (make weights)")
    from PIL import Image

    from artlens.search.index import SearchIndex

    data = tmp_path_factory.mktemp("serve-indexed")
    photos = data / "photos"
    photos.mkdir()
    for sample in sorted((REPO / "src" / "artlens" / "samples").glob("*.jpg")):
        (photos / sample.name).write_bytes(sample.read_bytes())
    vase = photos / "product-vase-white.jpg"
    (photos / "product-vase-white-copy.jpg").write_bytes(vase.read_bytes())
    with Image.open(vase) as im:
        im.resize((im.width // 2, im.height // 2)).save(photos / "product-vase-white-half.jpg", quality=85)
    with SearchIndex.create(data / "index") as index:
        assert not index.update([photos]).errors
    with _serving(data, technical=True, indexes={"shop": data / "index"}) as running:
        yield running


@pytest.fixture(scope="session")
def market_server(tmp_path_factory) -> Iterator[Server]:
    """The technical service with an art market model fitted on simulated sales
    (``artlens serve --market-model DIR``)."""
    from artlens.market import FitSettings, SimulationSettings, fit_market, prepare, save_market_model
    from artlens.market.simulate import simulate_sales

    data = tmp_path_factory.mktemp("serve-market")
    sim = simulate_sales(SimulationSettings(works=600, artists=10, years=8, seed=7))
    prepared = prepare(sim.sales, rates=sim.rates, medium_category=lambda ms: ["painting"] * len(ms))
    model = fit_market(prepared, None, FitSettings(origins=1, iterations=40))
    save_market_model(data / "market", model, prepared, None, rates=sim.rates)
    with _serving(data, technical=True, market_model=data / "market") as running:
        yield running


@pytest.fixture(scope="session")
def gan_server(tmp_path_factory) -> Iterator[Server]:
    """The technical service with a GAN ``shapes`` (``artlens serve --gan shapes=DIR``), trained here for a
    few steps on drawn discs and squares."""
    import numpy as np
    from PIL import Image, ImageDraw

    from artlens.gan import GanTrainSettings, train_gan

    data = tmp_path_factory.mktemp("serve-gan")
    rng = np.random.default_rng(0)
    images = []
    for _ in range(16):
        im = Image.new("RGB", (32, 32), "white")
        colour = tuple(int(v) for v in rng.integers(0, 200, 3))
        ImageDraw.Draw(im).ellipse((6, 6, 26, 26), fill=colour)
        images.append(np.asarray(im))
    settings = GanTrainSettings(size=32, width=8, z_dim=16, batch_size=8, tick=4)
    train_gan("shapes", data / "gan", settings=settings, kimg=0.032, images=np.stack(images))
    with _serving(data, technical=True, gans={"shapes": data / "gan"}) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Chromium under Playwright; without either, every browser test is skipped with the reason."""
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("playwright", reason="the playwright package is not installed (pip install "
                        "playwright): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    folder = Path(os.environ.get("ARTLENS_TEST_OUTPUT") or REPO / "out" / "browser-tests")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Console:
    """What the page reported: console errors, uncaught exceptions and CSP violations."""

    errors: list[str] = field(default_factory=list)

    def problems(self, page, allowed: tuple[str, ...] = ()) -> list[str]:
        """Everything reported so far but the ``allowed`` patterns (the page declares its icon: no 404)."""
        found = self.errors + [f"CSP: {v}" for v in page.evaluate("window.__cspViolations || []")]
        return [p for p in found if not any(re.search(a, p) for a in allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser, server, console) -> Iterator[object]:
    """A fresh tab (own session storage) on the page; console errors and CSP violations are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    context.add_init_script(_WATCH_CSP)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.on("console", lambda m: console.errors.append(f"console.error: {m.text} ({m.location.get('url')})")
           if m.type == "error" else None)
    tab.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    tab.goto("/")
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def shot(page, shots_dir, request) -> Callable[[str], Path]:
    """``shot("step")``: a full-page PNG ``<test>-<nn>-<step>.png`` in the screenshot folder; its path."""
    count = [0]
    test = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name).strip("_")

    def take(step: str) -> Path:
        count[0] += 1
        path = shots_dir / f"{test}-{count[0]:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        _SCREENSHOTS.append(path)
        print(f"screenshot: {path}")
        return path

    return take


@pytest.fixture
def doc_shot_folder() -> Path | None:
    """``$ARTLENS_DOCS_IMAGES`` as a folder, or None (then no documentation screenshots are taken)."""
    folder = os.environ.get("ARTLENS_DOCS_IMAGES")
    return Path(folder) if folder else None


@pytest.fixture
def doc_shot(page) -> Callable[..., Path | None]:
    """``doc_shot(name, locator=None)``: a screenshot for the documentation, ``$ARTLENS_DOCS_IMAGES/name.png``
    (of ``locator`` only when given); nothing without that variable (``docs/images`` holds the last ones)."""
    folder = os.environ.get("ARTLENS_DOCS_IMAGES")

    def take(name: str, locator=None) -> Path | None:
        if not folder:
            return None
        path = Path(folder) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        (locator or page).screenshot(path=str(path), **({} if locator else {"full_page": False}))
        _SCREENSHOTS.append(path)
        return path

    return take
