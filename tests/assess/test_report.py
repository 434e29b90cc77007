"""The ``artlens.assess/1`` schema and the JSON / CSV / HTML report writers."""

from __future__ import annotations

import base64
import copy
import csv
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from artlens.assess import report as rep
from artlens.assess.report import (
    SCHEMA_ID,
    load_schema,
    render,
    validate_report,
    write_csv,
    write_html,
    write_json,
)
from artlens.errors import ArtlensError, ConfigError

SRC_REPORT = Path(rep.__file__).parent
EVIL_NAME = 'shop <script>alert("x") & co.jpg'  # a legal file name on POSIX


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _save(path: Path, rgb: np.ndarray, fmt: str = "JPEG", **kwargs: Any) -> dict[str, Any]:
    Image.fromarray(rgb).save(path, format=fmt, **kwargs)
    data = path.read_bytes()
    return {"path": str(path), "width": rgb.shape[1], "height": rgb.shape[0], "format": fmt,
            "file_size": len(data), "sha256": _sha(data)}


def _check(check_id: str, status: str, value: Any, threshold: Any, message: str) -> dict[str, Any]:
    return {"id": check_id, "status": status, "passed": status == "pass", "value": value,
            "threshold": threshold, "message": message}


@pytest.fixture
def report(tmp_path: Path, photos: dict[str, np.ndarray]) -> dict[str, Any]:
    """A hand-made report over three real files (one per verdict) and one unreadable file."""
    folder = tmp_path / "photos"
    folder.mkdir()
    good = _save(folder / "vase & bowl.jpg", photos["coffee"], quality=92)
    borderline = _save(folder / EVIL_NAME, photos["chelsea"], quality=90)
    bad = _save(folder / "rocket.png", photos["rocket"][::2, ::2], fmt="PNG")
    (folder / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")

    fmt_ok = _check("file_format", "pass", "JPEG", ["JPEG", "PNG"], "format JPEG is accepted")
    images = [
        {**good,
         "scores": {"quality": 81.4, "sharpness": 412.5, "noise_sigma": 1.9, "brisque": 21.3, "niqe": 3.9},
         "subscores": {"sharpness": 88.0, "noise": 95.0, "exposure": 90.0},
         "checks": [_check("quality", "pass", 81.4, 50.0, "quality 81 is fine"), fmt_ok,
                    _check("background_white", "pass", 0.97, 0.95, "background is 97% white")],
         "verdict": "pass", "reasons": []},
        {**borderline,
         "scores": {"quality": 58.0, "sharpness": 95.1, "noise_sigma": 3.2, "brisque": 38.0, "niqe": 5.1,
                    "text_boxes": 0.0},
         "subscores": {"sharpness": 55.0, "noise": 80.0, "exposure": None},
         "checks": [_check("quality", "review", 58.0, 60.0, "quality 58 is below 60"), fmt_ok],
         "verdict": "review", "reasons": ["quality 58 is below 60"]},
        {**bad,
         "scores": {"quality": 23.0, "sharpness": 12.0, "noise_sigma": 7.5, "brisque": 61.2, "niqe": None},
         "subscores": {"sharpness": 10.0, "noise": 40.0, "exposure": 70.0},
         "checks": [_check("quality", "fail", 23.0, 50.0, "quality 23 is below 50"),
                    _check("file_format", "pass", "PNG", ["JPEG", "PNG"], "format PNG is accepted"),
                    _check("background_white", "fail", 0.71, 0.95, "background is 71% white, needs 95%"),
                    _check("border", "review", True, False, "a thin frame runs along 2 sides")],
         "verdict": "fail",
         "reasons": ["quality 23 is below 50", "background is 71% white, needs 95%",
                     "a thin frame runs along 2 sides"]},
    ]
    bad_path = str(folder / "bad.jpg")
    return {
        "schema": SCHEMA_ID,
        "artlens_version": "0.1.0",
        "created": "2026-11-22T23:00:00Z",
        "policy": {"name": "amazon", "sha256": _sha(b"amazon policy")},
        "settings": {"iqa_size": 512, "workers": 2, "analysis_key": "abc"},
        "images": images,
        "errors": [{"path": bad_path, "error": f"{bad_path}: file is truncated"}],
        "summary": {"total": 4, "assessed": 3, "errors": 1, "pass": 1, "review": 1, "fail": 1,
                    "computed": 1, "cached": 2, "elapsed_s": 1.23, "images_per_s": 0.81},
    }


@pytest.fixture(params=["jsonschema", "builtin"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a validation test with jsonschema and again with the built-in fallback."""
    if request.param == "builtin":
        monkeypatch.setitem(sys.modules, "jsonschema", None)  # `import jsonschema` now raises ImportError
    return request.param


# -- schema ------------------------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    import jsonschema

    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"]["const"] == SCHEMA_ID
    assert schema["$schema"].endswith("/draft/2020-12/schema")


def test_realistic_report_is_valid(report: dict[str, Any], engine: str) -> None:
    validate_report(report)
    if engine == "jsonschema":
        import jsonschema

        jsonschema.validate(report, load_schema(), cls=jsonschema.Draft202012Validator)


def test_report_with_zero_images_is_valid(report: dict[str, Any], engine: str) -> None:
    empty = {**report, "images": [], "errors": [],
             "summary": {**report["summary"], "total": 0, "assessed": 0, "errors": 0, "pass": 0, "review": 0,
                         "fail": 0, "computed": 0, "cached": 0, "images_per_s": 0.0}}
    validate_report(empty)


def _drop_quality(r: dict) -> None:
    del r["images"][0]["scores"]["quality"]


def _bad_verdict(r: dict) -> None:
    r["images"][1]["verdict"] = "great"


def _extra_top(r: dict) -> None:
    r["extra"] = 1


def _extra_image(r: dict) -> None:
    r["images"][2]["thumbnail"] = "x"


def _extra_check(r: dict) -> None:
    r["images"][2]["checks"][1]["note"] = "x"


def _bad_status(r: dict) -> None:
    r["images"][0]["checks"][0]["status"] = "ok"


def _string_score(r: dict) -> None:
    r["images"][0]["scores"]["sharpness"] = "high"


def _short_sha(r: dict) -> None:
    r["images"][0]["sha256"] = "abc"


def _bool_width(r: dict) -> None:
    r["images"][0]["width"] = True


def _missing_summary_key(r: dict) -> None:
    del r["summary"]["cached"]


def _bad_date(r: dict) -> None:
    r["created"] = "22/11/2026"


def _wrong_schema(r: dict) -> None:
    r["schema"] = "artlens.assess/2"


def _count_mismatch(r: dict) -> None:
    r["summary"]["fail"] = 2


def _passed_mismatch(r: dict) -> None:
    r["images"][2]["checks"][0]["passed"] = True


@pytest.mark.parametrize(("spoil", "where", "words"), [
    (_drop_quality, "$.images[0].scores", "'quality' is a required property"),
    (_bad_verdict, "$.images[1].verdict", "'great'"),
    (_extra_top, "$:", "'extra' was unexpected"),
    (_extra_image, "$.images[2]:", "'thumbnail' was unexpected"),
    (_extra_check, "$.images[2].checks[1]:", "'note' was unexpected"),
    (_bad_status, "$.images[0].checks[0].status", "'ok'"),
    (_string_score, "$.images[0].scores.sharpness", "'high'"),
    (_short_sha, "$.images[0].sha256", "'abc'"),
    (_bool_width, "$.images[0].width", "True"),
    (_missing_summary_key, "$.summary", "'cached' is a required property"),
    (_bad_date, "$.created", "22/11/2026"),
    (_wrong_schema, "$.schema", "artlens.assess/1"),
    (_count_mismatch, "$.summary.fail", "has 1"),
    (_passed_mismatch, "$.images[2].checks[0].passed", "'fail'"),
])
def test_invalid_reports_are_rejected_with_the_json_path(report: dict[str, Any], engine: str, spoil: Any,
                                                          where: str, words: str) -> None:
    bad = copy.deepcopy(report)
    spoil(bad)
    with pytest.raises(ArtlensError) as info:
        validate_report(bad)
    message = str(info.value)
    assert message.startswith(f"invalid {SCHEMA_ID} report at {where}")
    assert words in message


# -- render and JSON ---------------------------------------------------------------------------------------


def test_json_round_trip(report: dict[str, Any], tmp_path: Path) -> None:
    out = render(report, "json", tmp_path / "out" / "report.json")  # the folder is created
    text = out.read_text(encoding="utf-8")
    assert json.loads(text) == report
    assert text.endswith("\n") and "shop <script>alert" in text  # UTF-8, not \u-escaped ASCII
    assert [p.name for p in out.parent.iterdir()] == ["report.json"]  # no temporary file left behind


def test_json_is_strict_numpy_and_nan_become_plain_values(report: dict[str, Any], tmp_path: Path) -> None:
    report["images"][0]["scores"]["niqe"] = float("nan")
    report["images"][0]["scores"]["brisque"] = np.float32(21.5)
    report["images"][0]["width"] = np.int64(report["images"][0]["width"])
    out = render(report, "json", tmp_path / "r.json")
    back = json.loads(out.read_text(encoding="utf-8"), parse_constant=lambda c: pytest.fail(f"wrote {c}"))
    assert back["images"][0]["scores"]["niqe"] is None
    assert back["images"][0]["scores"]["brisque"] == 21.5
    validate_report(back)
    with write_csv(report, tmp_path / "r.csv").open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["verdict"] == "pass")
    assert row["score_niqe"] == "" and row["score_brisque"] == "21.5"


def test_render_rejects_unknown_format_and_invalid_report(report: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown report format 'pdf'"):
        render(report, "pdf", tmp_path / "r.pdf")
    with pytest.raises(ConfigError, match="takes no options"):
        render(report, "csv", tmp_path / "r.csv", thumbnails=False)
    report["images"][0]["verdict"] = "maybe"
    with pytest.raises(ArtlensError, match=r"\$\.images\[0\]\.verdict"):
        render(report, "html", tmp_path / "r.html")
    assert not list(tmp_path.glob("r.*")) and not list(tmp_path.glob(".r.*"))


def test_a_failed_write_keeps_the_old_file_and_says_why(report: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(ArtlensError, match="cannot be written as JSON"):
        write_json({**report, "settings": {"odd": object()}}, target)
    assert target.read_text(encoding="utf-8") == "old"
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ArtlensError, match="cannot write report to"):
        write_json(report, blocker / "report.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "photos", "report.json"]


# -- CSV ---------------------------------------------------------------------------------------------------


def test_csv_header_and_rows(report: dict[str, Any], tmp_path: Path) -> None:
    report["errors"][0]["path"] = "=1+1.jpg"  # a file name a spreadsheet would run as a formula
    out = write_csv(report, tmp_path / "report.csv")
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header == [
        "path", "verdict", "width", "height", "format", "file_size", "sha256", "quality",
        "score_brisque", "score_niqe", "score_noise_sigma", "score_sharpness", "score_text_boxes",
        "sub_exposure", "sub_noise", "sub_sharpness",
        "reasons", "check_quality", "check_file_format", "check_background_white", "check_border",
    ]
    assert len(rows) == 1 + 3 + 1 and all(len(r) == len(header) for r in rows)
    by_path = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    images = report["images"]

    good = by_path[images[0]["path"]]
    assert good["verdict"] == "pass" and good["width"] == str(images[0]["width"])
    assert good["quality"] == "81.4" and good["score_sharpness"] == "412.5" and good["sub_noise"] == "95.0"
    assert good["score_text_boxes"] == "" and good["reasons"] == "" and good["check_border"] == ""
    assert good["check_background_white"] == "pass"

    assert by_path[images[1]["path"]]["sub_exposure"] == ""  # null subscore -> empty cell
    assert EVIL_NAME in by_path[images[1]["path"]]["path"]

    bad = by_path[images[2]["path"]]
    assert bad["verdict"] == "fail" and bad["score_niqe"] == ""
    assert bad["check_background_white"] == "fail" and bad["check_border"] == "review"
    assert bad["reasons"] == ("quality 23 is below 50 | background is 71% white, needs 95% | "
                              "a thin frame runs along 2 sides")

    error = rows[-1]
    assert error[0] == "'=1+1.jpg" and error[1] == "error"  # defused with a leading apostrophe
    assert error[header.index("reasons")] == report["errors"][0]["error"]
    assert set(error[2:header.index("reasons")]) == {""}


# -- HTML --------------------------------------------------------------------------------------------------


def _html(report: dict[str, Any], tmp_path: Path, **options: Any) -> str:
    return render(report, "html", tmp_path / "report.html", **options).read_text(encoding="utf-8")


def _embedded(page: str) -> Any:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_html_is_self_contained_and_escapes_every_path(report: dict[str, Any], tmp_path: Path) -> None:
    page = _html(report, tmp_path)
    # nothing is fetched: no external src/href/url(), no @import
    assert not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"url\(|@import", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert page.count("<script") == 2  # the data block and the page script; the path's <script> is text
    for image in report["images"]:
        assert html.escape(image["path"]) in page
    assert "shop &lt;script&gt;alert(&quot;x&quot;) &amp; co.jpg" in page
    assert "vase &amp; bowl.jpg" in page and "vase & bowl" not in page
    assert _embedded(page) == report
    # the verdict filter, search and sort controls exist, the sort list is built from the score keys
    for verdict in ("all", "pass", "review", "fail", "errors"):
        assert f'data-filter="{verdict}"' in page
    assert 'id="search"' in page
    assert {'value="s:quality"', 'value="s:brisque"', 'value="s:text_boxes"', 'value="u:noise"'} <= set(
        re.findall(r'value="[su]:\w+"', page))
    # summary counts, the key histograms (quality, three subscores, resolution), reasons, errors
    assert "Pass <b>1</b>" in page and "Review <b>1</b>" in page and "Fail <b>1</b>" in page
    assert page.count('<figure class="hist">') == 5
    assert "Background is 71% white, needs 95%" in page
    assert "File is truncated" in page and "Files that could not be assessed (1)" in page


def test_html_embeds_thumbnails_as_jpeg_data_uris(report: dict[str, Any], tmp_path: Path) -> None:
    page = _html(report, tmp_path, thumb_size=64)
    uris = re.findall(r'<img src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(uris) == 3
    for uri, image in zip(uris, report["images"], strict=True):
        thumb = Image.open(io.BytesIO(base64.b64decode(uri)))
        assert thumb.format == "JPEG" and max(thumb.size) == 64
        wide = image["width"] >= image["height"]
        assert (thumb.width >= thumb.height) == wide
    assert "No preview" not in page
    assert "data:image" not in _html(report, tmp_path, thumbnails=False)


def test_html_missing_or_huge_files_get_a_placeholder(report: dict[str, Any], tmp_path: Path) -> None:
    Path(report["images"][0]["path"]).unlink()
    page = _html(report, tmp_path, max_pixels=100_000)  # coffee is gone, chelsea (451x300) is too big
    assert page.count("data:image/jpeg;base64,") == 1  # the 214x320 rocket
    assert page.count("No preview") == 2


def test_html_thumbnail_fallback_without_imageio(report: dict[str, Any], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Without artlens.imageio, Pillow decodes, turns the image upright (EXIF) and flattens transparency."""
    monkeypatch.setitem(sys.modules, "artlens.imageio", None)
    portrait = tmp_path / "photos" / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    Image.new("RGB", (120, 60), (200, 30, 30)).save(portrait, exif=exif)
    cutout = tmp_path / "photos" / "cutout.png"
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 10:30] = (0, 0, 255, 255)  # a blue square on a transparent background
    Image.fromarray(rgba, "RGBA").save(cutout)
    first = report["images"][0]
    report["images"] = [{**first, "path": str(portrait)}, {**first, "path": str(cutout)}]
    report["summary"].update({"assessed": 2, "pass": 2, "review": 0, "fail": 0})
    page = _html(report, tmp_path, thumb_size=32)
    uris = re.findall(r'data:image/jpeg;base64,([A-Za-z0-9+/=]+)', page)
    upright, flat = (Image.open(io.BytesIO(base64.b64decode(u))).convert("RGB") for u in uris)
    assert upright.size == (16, 32)
    assert np.asarray(flat)[1, 1].min() > 240  # transparent corner shown white, not black


def test_html_content_security_policy_matches_the_inline_code(report: dict[str, Any], tmp_path: Path) -> None:
    """The page forbids every load except its own script and style sheet, named by hash."""
    page = _html(report, tmp_path, thumbnails=False)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert "default-src 'none'" in csp
    assert f"style-src 'sha256-{digest(style)}'" in csp
    assert f"script-src 'sha256-{digest(script)}'" in csp
    assert " style=" not in page  # inline style attributes would be blocked by the policy


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_html_script_is_valid_javascript(tmp_path: Path) -> None:
    script = tmp_path / "page.js"
    script.write_text((SRC_REPORT / "report.js").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_html_for_an_empty_report(report: dict[str, Any], tmp_path: Path) -> None:
    report["images"], report["errors"] = [], []
    report["summary"].update({"total": 0, "assessed": 0, "errors": 0, "pass": 0, "review": 0, "fail": 0})
    page = _html(report, tmp_path)
    assert "No images were assessed." in page and "<figure" not in page
    assert _embedded(page)["images"] == []


def test_html_thumb_size_must_be_sensible(report: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="thumb_size"):
        write_html(report, tmp_path / "r.html", thumb_size=4)


def test_explain_heat_map_validates_and_shows_in_the_card(report: dict[str, Any], tmp_path: Path) -> None:
    heat = tmp_path / "coffee.quality-map.png"
    Image.new("RGB", (60, 40), (220, 40, 30)).save(heat)
    report = copy.deepcopy(report)
    report["images"][0]["explanation"] = {"path": str(heat), "min": 12.5, "mean": 48.0,
                                          "worst_region": [0, 0, 30, 20]}
    validate_report(report)
    page = tmp_path / "r.html"
    rep.render(report, "html", page)
    text = page.read_text()
    card = _card_of(text, "vase &amp; bowl.jpg")
    # the map is an overlay of the thumbnail, off at first, with its weakest area outlined
    assert card.count('<img class="heat" src="data:image/jpeg;base64,') == 1
    assert '<input type="checkbox" class="ov ov-heat" id="ov0-heat">' in card
    assert '<rect class="wr" x="0" y="0" width="30" height="20"' in card
    assert "0,0\u201330,20 px (dashed), local quality 12/100, mean 48/100" in card
    assert text.count('class="heat"') == 1  # only the card that has a map
    broken = copy.deepcopy(report)
    broken["images"][0]["explanation"]["worst_region"] = [0, 0]
    with pytest.raises(ArtlensError):
        validate_report(broken)


# -- text boxes and each reason's own status ----------------------------------------------------------------


def _with_text_and_reason_checks(report: dict[str, Any]) -> dict[str, Any]:
    """The failing image also has a text check (review) with a box, and reason_checks beside its reasons."""
    bad = report["images"][2]
    text = _check("text_overlay", "review", 0.012, 0.01, "text, logo or watermark added over the image "
                  "(covers 1.2% of the frame)")
    text["boxes"] = [{"box": [20, 300, 180, 340], "text": "SALE -50%", "score": 0.97}]
    bad["checks"].append(text)
    bad["reasons"].append(text["message"])
    statuses = {c["message"]: (c["id"], c["status"]) for c in bad["checks"]}
    bad["reason_checks"] = [{"id": statuses[r][0], "status": statuses[r][1], "message": r}
                            for r in bad["reasons"]]
    return report


def test_report_with_text_boxes_and_reason_checks_is_valid(report: dict[str, Any], engine: str) -> None:
    validate_report(_with_text_and_reason_checks(report))


@pytest.mark.parametrize(("spoil", "where"), [
    (lambda im: im["checks"][-1]["boxes"][0].update(box=[20, 300, 180]), "boxes[0].box"),
    (lambda im: im["checks"][-1]["boxes"][0].update(score=1.5), "boxes[0].score"),
    (lambda im: im["reason_checks"][0].update(status="pass"), "reason_checks[0].status"),
    (lambda im: im["reason_checks"].reverse(), "reason_checks"),
])
def test_bad_boxes_or_reason_checks_are_rejected(report: dict[str, Any], engine: str, spoil: Any,
                                                 where: str) -> None:
    report = _with_text_and_reason_checks(report)
    spoil(report["images"][2])
    with pytest.raises(ArtlensError, match=re.escape(where)):
        validate_report(report)


def _card_of(page: str, name: str) -> str:
    start = page.index(f">{name}</h3>")
    return page[page.rindex("<article", 0, start):page.index("</article>", start)]


def test_html_fail_card_says_which_reasons_failed_and_which_ask_for_review(report: dict[str, Any],
                                                                             tmp_path: Path) -> None:
    card = _card_of(_html(_with_text_and_reason_checks(report), tmp_path), "rocket.png")
    items = re.findall(r'<li class="rs-(\w+)">.*?</span> (.*?)</li>', card)
    assert items == [("fail", "Quality 23 is below 50"), ("fail", "Background is 71% white, needs 95%"),
                     ("review", "A thin frame runs along 2 sides"),
                     ("review", "Text, logo or watermark added over the image (covers 1.2% of the frame)")]
    reasons = re.search(r'<ul class="reasons r-fail">(.*?)</ul>', card).group(1)
    assert reasons.count("\u2717 Fail</span>") == 2 and reasons.count("! Review</span>") == 2


def test_html_colours_reasons_of_an_older_report_by_the_verdict(report: dict[str, Any],
                                                                tmp_path: Path) -> None:
    card = _card_of(_html(report, tmp_path), "rocket.png")  # no reason_checks: each in the verdict's colour
    assert re.findall(r'<li class="rs-(\w+)">', card) == ["fail", "fail", "fail"]


def test_html_draws_text_boxes_over_the_thumbnail_in_image_coordinates(report: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    report = _with_text_and_reason_checks(report)
    bad = report["images"][2]
    card = _card_of(_html(report, tmp_path), "rocket.png")
    svg = re.search(r'<div class="thumb has-boxes"><img [^>]+><svg class="boxes" viewBox="0 0 (\d+) (\d+)"'
                    r' preserveAspectRatio="xMidYMid meet"', card)
    # a ticked checkbox before the picture switches them; its label says how many there are
    assert '<input type="checkbox" class="ov ov-text" id="ov2-text" checked>' in card
    assert '<label for="ov2-text" class="ol ol-text">Text (1)</label>' in card
    assert svg and (int(svg.group(1)), int(svg.group(2))) == (bad["width"], bad["height"])
    assert '<rect class="tb tb-review" x="20" y="300" width="160" height="40"' in card
    assert "\u201cSALE -50%\u201d" in card  # the text read, under the check's finding
    other = _card_of(_html(report, tmp_path), "vase &amp; bowl.jpg")
    assert 'class="boxes"' not in other and "has-boxes" not in other


# -- the page opens on the images: summary bar, key histograms, errors once, overlays ------------------------


def test_html_summary_bar_comes_before_the_cards(report: dict[str, Any], tmp_path: Path) -> None:
    page = _html(_with_text_and_reason_checks(report), tmp_path)
    summary = page.index('<section class="panel summary"')
    assert summary < page.index('<nav class="toolbar"') < page.index('<section id="cards"')
    assert page.index('<figure class="hist">') > summary  # the histograms are inside the summary...
    folded = re.search(r'<details class="dist">(.*?)</details>', page, re.S)
    assert folded and "<details class=\"dist\" open" not in page  # ...folded by default
    assert folded.group(1).count('<figure class="hist">') == 5
    # counts per verdict with their share of the files (3 images and 1 error)
    tallies = re.search(r'<ul class="tallies"[^>]*>(.*?)</ul>', page).group(1)
    assert re.findall(r"(Pass|Review|Fail|Error) <b>(\d+)</b>", tallies) == [
        ("Pass", "1"), ("Review", "1"), ("Fail", "1"), ("Error", "1")]
    assert tallies.count('<span class="pct">25%</span>') == 3


def test_html_summary_names_the_most_common_reasons_in_words(report: dict[str, Any], tmp_path: Path) -> None:
    report = _with_text_and_reason_checks(report)
    review = report["images"][1]
    review["reason_checks"] = [{"id": "quality", "status": "review", "message": review["reasons"][0]}]
    page = _html(report, tmp_path)
    rows = re.findall(r'<li class="rs-(\w+)"><span class="st s-\w+">.</span> (.*?) <span class="muted">'
                      r"\u2014 (.*?)</span></li>", page)
    # by rule, in the rule's words (not one image's numbers), most frequent first, coloured by the worst
    assert rows[0] == ("fail", "Overall quality", "2 images (1 fail, 1 review)")
    assert ("review", "Text or watermark", "1 image (1 review)") in rows
    assert len(rows) == 4


def test_html_summary_of_an_older_report_counts_reasons_by_their_words(report: dict[str, Any],
                                                                       tmp_path: Path) -> None:
    page = _html(report, tmp_path)  # no reason_checks: each reason is its own row, in the verdict's status
    rows = re.findall(r'<ol class="top-reasons">(.*?)</ol>', page)[0]
    assert "Quality 23 is below 50" in rows and "Quality 58 is below 60" in rows
    assert rows.count('<li class="rs-fail">') == 3 and rows.count('<li class="rs-review">') == 1


def test_html_histograms_say_their_unit_and_which_way_is_better(report: dict[str, Any],
                                                               tmp_path: Path) -> None:
    page = _html(report, tmp_path)
    captions = re.findall(r'<span class="hk">(.*?)</span>.*?<span class="hu">(.*?) \u00b7 <b>(.*?)</b>', page)
    assert captions == [("Quality", "score 0\u2013100", "higher is better"),
                        ("Sharpness", "subscore 0\u2013100", "higher is better"),
                        ("Low noise", "subscore 0\u2013100", "higher is better"),
                        ("Exposure", "subscore 0\u2013100", "higher is better"),
                        ("Resolution", "megapixels", "higher is better")]
    # scores and subscores are drawn on their whole 0-100 scale (the axis reads 0 and 100)
    quality = re.search(r'<figure class="hist"><figcaption><span class="hk">Quality</span>.*?</figure>', page)
    assert re.findall(r"<text [^>]*>([\d.]+)</text>", quality.group(0)) == ["0", "100"]
    # the resolution histogram reads width x height: 0.1 to 0.24 megapixels here
    resolution = re.search(r'aria-label="Histogram of Resolution \(megapixels, higher is better\): 3 images '
                           r'from ([\d.]+) to ([\d.]+)"', page)
    sizes = [im["width"] * im["height"] / 1e6 for im in report["images"]]
    assert resolution and float(resolution.group(1)) == pytest.approx(min(sizes), rel=0.01)
    assert float(resolution.group(2)) == pytest.approx(max(sizes), rel=0.01)


def test_html_error_lines_give_the_path_once(report: dict[str, Any], tmp_path: Path) -> None:
    odd = str(tmp_path / "line\nbreak.jpg")  # the message names it printable(path): with a visible \n
    shown = odd.replace("\n", "\\n")
    report["errors"].append({"path": odd, "error": f"{shown}: empty file (0 bytes)"})
    report["errors"].append({"path": "gone.jpg", "error": "no such file or folder"})
    report["summary"].update({"total": 6, "errors": 3})
    page = _html(report, tmp_path)
    items = re.findall(r"<li data-path=[^>]*><code>(.*?)</code><span>(.*?)</span></li>", page, re.S)
    assert [reason for _, reason in items] == ["File is truncated", "Empty file (0 bytes)",
                                               "No such file or folder"]
    assert items[0][0] == html.escape(report["errors"][0]["path"])


def _with_product_box(report: dict[str, Any]) -> dict[str, Any]:
    report["images"][0]["product_box"] = [40, 30, 380, 260]
    return report


def test_product_box_validates_and_is_a_switchable_overlay(report: dict[str, Any], engine: str,
                                                           tmp_path: Path) -> None:
    report = _with_product_box(report)
    validate_report(report)
    card = _card_of(_html(report, tmp_path), "vase &amp; bowl.jpg")
    assert '<rect class="pb" x="40" y="30" width="340" height="230"' in card
    assert '<input type="checkbox" class="ov ov-product" id="ov0-product">' in card  # off at first
    assert '<label for="ov0-product" class="ol ol-product">Product</label>' in card
    assert "ov-text" not in card and "ov-heat" not in card  # no text found, no heat map: no switch
    for bad in ([40, 30, 380], [-1, 0, 10, 10], [0, 0, 1.5, 2]):
        spoilt = copy.deepcopy(report)
        spoilt["images"][0]["product_box"] = bad
        with pytest.raises(ArtlensError, match=re.escape("$.images[0].product_box")):
            validate_report(spoilt)


def test_overlays_switch_without_javascript(report: dict[str, Any], tmp_path: Path) -> None:
    """Each switch is a checkbox before the picture; the style sheet hides an overlay while it is unticked."""
    css = (SRC_REPORT / "report.css").read_text(encoding="utf-8")
    for kind, shape in (("text", ".tb"), ("product", ".pb"), ("heat", ".heat"), ("heat", ".wr")):
        assert f".ov-{kind}:not(:checked)~.thumb {shape}" in css
    page = _html(_with_product_box(_with_text_and_reason_checks(report)), tmp_path, thumbnails=False)
    assert 'class="ov-bar"' not in page and 'type="checkbox"' not in page  # no pictures: nothing to draw on
    card = _card_of(_html(_with_product_box(report), tmp_path), "vase &amp; bowl.jpg")
    order = [card.index(part) for part in ('class="ov ov-product"', '<div class="thumb', 'class="ov-bar"')]
    assert order == sorted(order)
