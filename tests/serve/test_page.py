"""The web page at ``/``: served without a key under a strict CSP, local assets only, calls real routes."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from artlens.serve.app import STATIC_DIR

STATIC = sorted(p for p in STATIC_DIR.iterdir() if p.is_file())
_V1 = re.compile(r"""["'`](/v1/[^"'`\s]*)["'`]""")


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_page_is_served_without_a_key_under_a_strict_csp(client):
    response = client[0].get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in response.text and 'href="/static/app.css"' in response.text
    csp = _csp(response)
    assert csp["default-src"] == "default-src 'self'"
    assert csp["img-src"] == "img-src 'self' blob: data:"
    for directive in ("script-src", "style-src"):
        assert csp[directive] == f"{directive} 'self'"  # no 'unsafe-inline', no other origin
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_page_has_no_inline_script_or_style(client):
    html = client[0].get("/").text
    assert re.findall(r"<script\b[^>]*>", html) == ['<script src="/static/app.js" defer>',
                                                    '<script src="/static/market.js" defer>',
                                                    '<script src="/static/align.js" defer>',
                                                    '<script src="/static/write.js" defer>',
                                                    '<script src="/static/generate.js" defer>']
    assert "<style" not in html
    assert not re.search(r"\s(on[a-z]+|style)\s*=", html)  # event handler or style attributes


@pytest.mark.parametrize(("name", "kind"), [("app.css", "text/css")] + [
    (f"{name}.js", "text/javascript") for name in ("app", "market", "align", "write", "generate")])
def test_assets_are_served_with_their_types(client, name, kind):
    response = client[0].get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == kind
    assert response.content == (STATIC_DIR / name).read_bytes()
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/static/index.html", "/static/nope.js", "/static/..%2Fapp.py",
                                  "/static/../app.py", "/static/%2e%2e/settings.py"])
def test_only_the_listed_assets_are_served(client, path):
    response = client[0].get(path)
    assert response.status_code in (401, 404)
    assert "import" not in response.text


def test_static_files_reference_local_assets_only():
    assert {p.name for p in STATIC} >= {"index.html", "app.js", "app.css"}
    for path in STATIC:
        # the SVG namespace is a name that createElementNS matches, never fetched
        text = path.read_text(encoding="utf-8").replace("'http://www.w3.org/2000/svg'", "SVG_NS")
        assert not re.search(r"(?i)https?:|//[a-z0-9.-]+\.[a-z]{2,}/", text), path.name
        assert "@import" not in text, path.name


def test_script_shows_server_strings_as_text_only():
    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js
    assert "Authorization" in js and "Bearer" in js and "sessionStorage" in js


def test_script_calls_only_routes_of_the_schema(client, auth):
    spec = client[0].get("/openapi.json", headers=auth).json()
    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    used = set(_V1.findall(js))
    assert used == {"/v1/models", "/v1/assess", "/v1/explain", "/v1/classify", "/v1/stylize",
                    "/v1/jobs/{job_id}", "/v1/results/{job_id}", "/v1/style/presets", "/v1/indexes",
                    "/v1/indexes/{name}/items", "/v1/indexes/{name}/thumbnail", "/v1/similar",
                    "/v1/duplicates", "/v1/recommend", "/v1/compose", "/v1/harmonize"}
    assert used <= set(spec["paths"]), used - set(spec["paths"])


def test_page_has_a_detail_view_for_the_heat_map():
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<dialog id="detail"[^>]*aria-labelledby="detail-title"', html)
    for element in ('<img id="detail-heatmap"', '<button type="button" id="detail-close"',
                    'id="detail-image"', 'id="detail-reasons"', 'id="detail-scores"',
                    'id="detail-heatmap-status"'):
        assert element in html, element
    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert "showModal" in js and "URL.revokeObjectURL(state.detail.url)" in js  # blob URLs are freed


def test_page_routes_stay_out_of_the_schema(client, auth):
    paths = client[0].get("/openapi.json", headers=auth).json()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)


def test_checks_table_units_follow_the_policy_rules():
    """The page writes each check's value in the unit its reason uses (artlens.assess.policy.RULES)."""
    from artlens.assess.policy import RULES

    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    block = re.search(r"const UNITS = \{(.*?)\};", js, re.S)
    assert block is not None
    units = dict(re.findall(r"(\w+): '(\w+)'", block.group(1)))
    assert units == {rule: spec.fmt.__name__.lstrip("_") for rule, spec in RULES.items()}
    for unit in set(units.values()) - {"word"}:  # each unit is written by the page's formatter
        assert f"case '{unit}'" in js, unit


def test_page_shows_no_job_ids():
    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    assert "job.id}" not in js and "(job ${" not in js and "${id}" not in js


def test_panels_are_siblings_not_nested():
    """Every panel <section> closes before the next opens: a panel hidden by its script (market, generate
    without a model) must never hide the panels after it."""
    from html.parser import HTMLParser

    class Sections(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth, self.nested, self.count = 0, [], 0

        def handle_starttag(self, tag, attrs):
            if tag == "section":
                self.count += 1
                if self.depth:
                    self.nested.append(dict(attrs).get("id"))
                self.depth += 1

        def handle_endtag(self, tag):
            if tag == "section":
                self.depth -= 1

    parser = Sections()
    parser.feed((STATIC_DIR / "index.html").read_text(encoding="utf-8"))
    assert parser.nested == [] and parser.depth == 0 and parser.count >= 10
