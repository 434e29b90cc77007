from pathlib import Path

import numpy as np
from PIL import Image

from artlens.align.train.pairs import (
    HOLDOUT_CATEGORIES,
    Pair,
    add_extra_pairs,
    assign_roles,
    clean_title,
    openclipart_pairs,
    scratch_costume_pairs,
)


def test_clean_title_drops_authors_digits_and_separators():
    assert clean_title("apple_bitten_dan_gerhard_01") == "apple bitten"
    assert clean_title("RedVase") == "red vase"
    assert clean_title("carnegie_library_building_01") == "carnegie library building"


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(path)


def test_openclipart_folders_give_titles_and_categories(tmp_path):
    _png(tmp_path / "animals" / "mammals" / "brown_bear_ganson.png")
    _png(tmp_path / "office" / "blue_stamper_orbu_.png")
    _png(tmp_path / "logos" / "debian_01.png")  # a poor class: left out
    pairs = {Path(p.path).name: p for p in openclipart_pairs(tmp_path)}
    assert set(pairs) == {"brown_bear_ganson.png", "blue_stamper_orbu_.png"}
    bear = pairs["brown_bear_ganson.png"]
    assert bear.title == "brown bear" and bear.category == "animals" and bear.group == "animals/mammals"
    assert any("mammals" in c for c in bear.captions)


def test_scratch_costumes_take_their_names(tmp_path):
    _png(tmp_path / "Costumes" / "Animals" / "bat1-a.png")
    _png(tmp_path / "Costumes" / "Letters" / "a.png")
    pairs = scratch_costume_pairs(tmp_path)
    assert [(p.title, p.category) for p in pairs] == [("bat", "animals")]


def test_roles_hold_out_categories_and_a_retrieval_pool():
    pairs = [Pair(f"/x/{i}.png", f"thing number{chr(97 + i % 26)}{i}", ("t",), "openclipart",
                  HOLDOUT_CATEGORIES[0] if i % 5 == 0 else "office", f"g{i % 7}") for i in range(200)]
    out = assign_roles(pairs, pool=30, val_share=0.2)
    roles = {p.role for p in out}
    assert roles <= {"train", "val", "zeroshot", "retrieval", "excluded"}
    assert all(p.role == "zeroshot" for p in out if p.category == HOLDOUT_CATEGORIES[0])
    assert sum(p.role == "retrieval" for p in out) == 30
    retrieval_titles = {p.title for p in out if p.role == "retrieval"}
    assert not any(p.title in retrieval_titles for p in out if p.role in ("train", "val"))
    assert any(p.role == "val" for p in out)


def test_extra_pairs_keep_the_held_out_sets_and_the_split():
    pairs = [Pair(f"/x/{i}.png", f"thing number{chr(97 + i % 26)}{i}", ("t",), "openclipart",
                  HOLDOUT_CATEGORIES[0] if i % 5 == 0 else "office", f"g{i % 7}") for i in range(200)]
    out = assign_roles(pairs, pool=30, val_share=0.2)
    query = next(p.title for p in out if p.role == "retrieval")
    val_group = next(p.group for p in out if p.role == "val")
    train_group = next(p.group for p in out if p.role == "train")
    extra = [Pair("/x/0.png", "dup", ("t",), "openclipart", "office", "g0"),  # already there
             Pair("/y/held.png", "new thing", ("t",), "openclipart", HOLDOUT_CATEGORIES[0], "g1"),
             Pair("/y/q.png", query, ("t",), "openclipart", "office", train_group),
             Pair("/y/v.png", "new thing", ("t",), "openclipart", "office", val_group),
             Pair("/y/t.png", "new thing", ("t",), "openclipart", "office", train_group)]
    more = add_extra_pairs(out, extra)
    assert more[:len(out)] == out  # the first round's roles are untouched
    assert [(p.path, p.role) for p in more[len(out):]] == [("/y/q.png", "excluded"), ("/y/v.png", "val"),
                                                          ("/y/t.png", "train")]
