"""Screenshots of an ``artlens assess`` HTML report in headless Chromium (for docs/images/).

Usage: python scripts/report_screenshots.py REPORT.html OUT.png [--tick KIND ...] [--open-details]
       [--search TEXT] [--width 1280] [--height 900] [--full-page]

``--tick text|product|heat`` ticks that overlay's switch on every card (``--untick`` clears it) before the
shot; ``--open-details`` unfolds the summary's distributions. Chromium is ``/usr/bin/chromium`` or
``$ARTLENS_CHROMIUM``, driven by Playwright; nothing is downloaded. Prints any console error or
Content-Security-Policy violation the page reported, and exits 1 when there was one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_WATCH_CSP = """
window.__problems = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__problems.push(`CSP: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""

# lazy images below the fold would stay blank in a full-page shot: load them all, waiting at most 10 s
_LOAD_IMAGES = """
() => Promise.race([
  new Promise((done) => setTimeout(done, 10000)),
  Promise.all([...document.images].map((img) => {
    img.loading = 'eager';
    return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
  })),
])
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--tick", action="append", default=[], choices=("text", "product", "heat"))
    parser.add_argument("--untick", action="append", default=[], choices=("text", "product", "heat"))
    parser.add_argument("--open-details", action="store_true")
    parser.add_argument("--search", help="type this into the page's search box first (needs JavaScript)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("ARTLENS_CHROMIUM") or "/usr/bin/chromium"
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
        context = browser.new_context(viewport={"width": args.width, "height": args.height})
        context.add_init_script(_WATCH_CSP)
        page = context.new_page()
        page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error"
                else None)
        page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
        page.goto(args.report.resolve().as_uri())
        for kind, state in [(k, True) for k in args.tick] + [(k, False) for k in args.untick]:
            # as a click on each card's label would (also on cards the search has hidden)
            page.evaluate("([kind, state]) => document.querySelectorAll(`input.ov-${kind}`)"
                          ".forEach((box) => { box.checked = state; })", [kind, state])
        if args.search:
            page.fill("#search", args.search)
        if args.open_details:
            page.evaluate("document.querySelectorAll('details.dist').forEach((d) => { d.open = true; })")
        page.evaluate(_LOAD_IMAGES)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), full_page=args.full_page)
        problems += page.evaluate("window.__problems")
        browser.close()
    for line in problems:
        print(line, file=sys.stderr)
    print(args.out)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
