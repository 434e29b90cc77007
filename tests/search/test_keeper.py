"""Which copy of a duplicate group to keep: verdict, then quality, then resolution, then bytes; and why."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from artlens.search.duplicates import find_duplicates
from artlens.search.index import IndexedItem, SearchIndex
from artlens.search.keeper import QUALITY_MARGIN, Assessment, KeepRule, choose_keeper
from artlens.search.report import load_schema


def _item(i: int, name: str, side: int = 1000, size: int = 100_000) -> IndexedItem:
    return IndexedItem(id=i, path=f"/shop/{name}", sha256=f"{i:064x}", size=size, mtime_ns=0, width=side,
                       height=side, phash=0)


_BANNER = "text, logo or watermark added over the image"
_MARGIN = QUALITY_MARGIN

# (members as (name, side, bytes), their assessments by name, policy, the copy kept, the reason given)
CASES = {
    "the verdict before quality and pixels": (
        [("banner.jpg", 2000, 300_000), ("clean.jpg", 1000, 100_000)],
        {"banner.jpg": Assessment("fail", 80.0, (_BANNER,)), "clean.jpg": Assessment("pass", 60.0)}, "amazon",
        "clean.jpg", f"kept: passes the amazon policy; banner.jpg fails: {_BANNER}"),
    "then quality beyond the margin": (
        [("small.jpg", 800, 100_000), ("large.jpg", 1600, 100_000)],
        {"small.jpg": Assessment("review", 70.0 + _MARGIN + 1), "large.jpg": Assessment("review", 70.0)},
        "general", "small.jpg", "kept: same verdict (review), higher quality: 76/100 against 70 (large.jpg)"),
    "quality within the margin: pixels": (
        [("small.jpg", 800, 100_000), ("large.jpg", 1600, 100_000)],
        {"small.jpg": Assessment("review", 70.0 + _MARGIN - 1), "large.jpg": Assessment("review", 70.0)},
        "general", "large.jpg", "kept: same verdict (review) and quality within 5 points; more pixels: "
        "1600\u00d71600 against 800\u00d7800 (small.jpg)"),
    "then bytes": (
        [("a.jpg", 1000, 90_000), ("b.jpg", 1000, 120_000)],
        {"a.jpg": Assessment("pass", 70.0), "b.jpg": Assessment("pass", 70.0)}, "general",
        "b.jpg", "kept: same verdict (pass) and quality within 5 points; larger file: 120 KB against 90 KB "
        "(a.jpg)"),
    "not assessed: size alone, then the first indexed": (
        [("twin.jpg", 1000, 90_000), ("a.jpg", 1000, 90_000)], {}, None,
        "twin.jpg", "kept: the copies are alike on every count; the first indexed is kept"),
    "a copy that could not be assessed ranks last": (
        [("gone.jpg", 3000, 100_000), ("fine.jpg", 1000, 100_000)],
        {"gone.jpg": Assessment(error="/shop/gone.jpg: no such file"),
         "fine.jpg": Assessment("fail", 20.0, ("overall quality is 20/100, needs 35/100",))}, "general",
        "fine.jpg", "kept: fails the general policy; gone.jpg could not be assessed (/shop/gone.jpg: no such "
        "file)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_rule_and_its_reason(case: str) -> None:
    members, by_name, policy, kept, reason = CASES[case]
    items = [_item(i, name, side, size) for i, (name, side, size) in enumerate(members, start=1)]
    assessed = {f"/shop/{name}": a for name, a in by_name.items()}
    keep, why = choose_keeper(items, assessed, policy)
    assert (keep.path, why) == (f"/shop/{kept}", reason)


def test_an_assessment_as_json() -> None:
    assert Assessment(error="x").to_dict() == {"error": "x"}
    assert Assessment("review", 61.5, ("small",)).to_dict() == {"verdict": "review", "quality": 61.5,
                                                                "reasons": ["small"]}


@pytest.fixture(scope="module")
def banner_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped clean product shot and the same shot with a SALE banner (more bytes), indexed."""
    folder = tmp_path_factory.mktemp("shop")
    samples = resources.files("artlens.samples")
    for name in ("product-vase-white.jpg", "product-vase-sale-banner.jpg"):
        with resources.as_file(samples.joinpath(name)) as src:
            shutil.copyfile(src, folder / name)
    index_dir = folder.parent / f"{folder.name}-idx"
    with SearchIndex.create(index_dir) as index:
        assert not index.update([folder]).errors
    return index_dir


def test_duplicates_keep_the_clean_copy_and_reuse_the_store(banner_index: Path, tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    with SearchIndex.open(banner_index) as index:
        plain = find_duplicates(index, keep=KeepRule(policy=None))
        first = find_duplicates(index, keep=KeepRule(policy="amazon", db=db))
        again = find_duplicates(index, keep=KeepRule(policy="amazon", db=db))
    assert Path(plain["groups"][0]["keep"]).name == "product-vase-sale-banner.jpg"  # the old rule: bytes
    group = first["groups"][0]
    assert Path(group["keep"]).name == "product-vase-white.jpg"
    assert group["keep_reason"].startswith("kept: passes the amazon policy; product-vase-sale-banner.jpg "
                                           "fails: ")
    assert "text, logo or watermark" in group["keep_reason"]
    verdicts = {Path(m["path"]).name: m["assessment"]["verdict"] for m in group["members"]}
    assert verdicts == {"product-vase-white.jpg": "pass", "product-vase-sale-banner.jpg": "fail"}
    assert (first["summary"]["assessed_computed"], first["summary"]["assessed_cached"]) == (2, 0)
    assert (again["summary"]["assessed_computed"], again["summary"]["assessed_cached"]) == (0, 2)
    assert again["groups"] == first["groups"]
    assert first["settings"]["policy"] == "amazon" and plain["settings"]["policy"] is None
    for report in (plain, first):
        jsonschema.validate(report, load_schema("duplicates"))
