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


def test_the_verdict_decides_before_quality_and_pixels() -> None:
    banner = _item(1, "banner.jpg", side=2000, size=300_000)  # bigger, sharper, but with a SALE banner
    clean = _item(2, "clean.jpg")
    assessed = {banner.path: Assessment("fail", 80.0, ("text, logo or watermark added over the image",)),
                clean.path: Assessment("pass", 60.0, ())}
    keep, why = choose_keeper([banner, clean], assessed, "amazon")
    assert keep is clean
    assert why == ("kept: passes the amazon policy; banner.jpg fails: text, logo or watermark added over the "
                   "image")


def test_then_quality_beyond_the_margin_then_pixels() -> None:
    small, large = _item(1, "small.jpg", side=800), _item(2, "large.jpg", side=1600)
    sharp = {small.path: Assessment("review", 70.0 + QUALITY_MARGIN + 1),
             large.path: Assessment("review", 70.0)}
    keep, why = choose_keeper([small, large], sharp, "general")
    assert keep is small and why.startswith("kept: same verdict (review), higher quality: 76/100 against 70")
    close = {small.path: Assessment("review", 70.0 + QUALITY_MARGIN - 1),
             large.path: Assessment("review", 70.0)}
    keep, why = choose_keeper([small, large], close, "general")
    assert keep is large
    assert why == ("kept: same verdict (review) and quality within 5 points; more pixels: 1600\u00d71600 "
                   "against 800\u00d7800 (small.jpg)")


def test_then_bytes_then_the_first_indexed() -> None:
    a, b = _item(1, "a.jpg", size=90_000), _item(2, "b.jpg", size=120_000)
    same = {a.path: Assessment("pass", 70.0), b.path: Assessment("pass", 70.0)}
    assert choose_keeper([a, b], same, "general")[0] is b
    twin = _item(3, "twin.jpg", size=90_000)
    keep, why = choose_keeper([twin, a], {}, None)  # not assessed: size alone
    assert keep is a and why == "kept: the copies are alike on every count; the first indexed is kept"


def test_a_copy_that_could_not_be_assessed_ranks_last() -> None:
    gone, fine = _item(1, "gone.jpg", side=3000), _item(2, "fine.jpg")
    assessed = {gone.path: Assessment(error="/shop/gone.jpg: no such file"),
                fine.path: Assessment("fail", 20.0, ("overall quality is 20/100, needs 35/100",))}
    keep, why = choose_keeper([gone, fine], assessed, "general")
    assert keep is fine and "gone.jpg could not be assessed (/shop/gone.jpg: no such file)" in why
    assert Assessment(error="x").to_dict() == {"error": "x"}


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
