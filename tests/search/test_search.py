"""Similar images, duplicates, recommendation and the on-disk index, on a collection with known copies."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pytest

from artlens.errors import ArtlensError, ConfigError
from artlens.search import ann
from artlens.search.duplicates import find_duplicates
from artlens.search.index import SearchIndex
from artlens.search.keeper import KeepRule
from artlens.search.phash import hamming_distances, phash
from artlens.search.recommend import Profile, mmr, recommend
from artlens.search.report import render
from artlens.search.similar import find_similar


def _name(path: str) -> str:
    return Path(path).name


def _consistent(index: SearchIndex) -> None:
    """FAISS ids are exactly the SQLite row ids, for every vector field."""
    rows = {it.id for it in index.items()}
    assert len(rows) == len(index)
    for by in ("content", "style") if index.has_style else ("content",):
        faiss_index = index.faiss_index(by)
        assert faiss_index.ntotal == len(rows)
        ids, vectors = index.all_vectors(by)
        _, found = ann.search(faiss_index, vectors, 1)
        assert set(found[:, 0].tolist()) <= rows and set(ids.tolist()) == rows


# -- perceptual hash and MMR ---------------------------------------------------------------------------------

def test_phash_survives_resizing_not_other_images(photos: dict[str, np.ndarray]) -> None:
    astro = photos["astronaut"]
    same = phash(astro[::2, ::2])
    others = [phash(photos[name]) for name in ("coffee", "chelsea", "rocket", "coins")]
    assert hamming_distances(np.array([same]), phash(astro))[0] <= 4
    assert hamming_distances(np.array(others), phash(astro)).min() >= 16


def test_mmr_zero_diversity_is_relevance_order_and_high_diversity_spreads() -> None:
    rng = np.random.default_rng(0)
    centres = np.linalg.qr(rng.normal(size=(32, 3)))[0].T  # three orthogonal directions
    cluster = np.repeat(np.arange(3), 5)
    vectors = centres[cluster] + 0.05 * rng.normal(size=(15, 32))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.where(cluster == 0, 0.9, np.where(cluster == 1, 0.6, 0.5)) + 0.01 * rng.random(15)
    assert mmr(relevance, vectors, 5, 0.0) == list(np.argsort(-relevance)[:5])
    picked = mmr(relevance, vectors, 3, 0.7)
    assert sorted(cluster[picked].tolist()) == [0, 1, 2]
    with pytest.raises(ConfigError):
        mmr(relevance, vectors, 3, 1.5)


# -- duplicates ----------------------------------------------------------------------------------------------

def test_duplicates_groups_copies_and_nothing_else(built_index: Path, collection: dict) -> None:
    with SearchIndex.open(built_index) as index:
        report = find_duplicates(index, keep=KeepRule(policy=None))  # not assessed: size decides
    groups = {frozenset(_name(m["path"]) for m in g["members"]): g for g in report["groups"]}
    expected = {name: {f"{name}.jpg", *(p.name for p in copies)}
                for name, copies in collection["copies"].items()}
    assert set(groups) == {frozenset(v) for v in expected.values()}
    assert groups[frozenset(expected["chelsea"])]["kind"] == "exact"
    assert groups[frozenset(expected["astronaut"])]["kind"] == "near-identical"
    assert groups[frozenset(expected["coffee"])]["kind"] in {"visual", "near-identical"}
    assert groups[frozenset(expected["astronaut"])]["keep"].endswith("astronaut.jpg")  # most pixels
    assert groups[frozenset(expected["chelsea"])]["keep_reason"].startswith("kept: the copies are alike")
    assert all("assessment" not in m for g in report["groups"] for m in g["members"])
    assert report["summary"]["in_groups"] == 7
    # every file is still there: the finder reports, it never deletes
    assert all(p.exists() for p in collection["originals"].values())

    # a threshold far too loose groups unrelated pictures, the default does not
    with SearchIndex.open(built_index) as index:
        loose = find_duplicates(index, threshold=0.8, hash_threshold=-1, keep=KeepRule(policy=None))
    assert loose["summary"]["in_groups"] > report["summary"]["in_groups"]


def test_duplicate_reports_csv_and_html(built_index: Path, tmp_path: Path) -> None:
    with SearchIndex.open(built_index) as index:
        report = find_duplicates(index, keep=KeepRule(technical=True))  # general policy, hand-made quality
    text = render(report, "csv", tmp_path / "d.csv")
    lines = text.strip().splitlines()
    assert lines[0] == "group,kind,keep,path,width,height,bytes,sha256,verdict,quality,keep_reason"
    assert len(lines) == 1 + 7
    rows = list(csv.DictReader(io.StringIO(text)))
    assert all(r["verdict"] in {"pass", "review", "fail"} and float(r["quality"]) >= 0 for r in rows)
    assert [bool(r["keep_reason"]) for r in rows] == [r["keep"] == "1" for r in rows]  # said once a group
    html = render(report, "html", tmp_path / "d.html")
    assert html.count("data:image/jpeg;base64,") == 7
    assert all(html_escape(g["keep_reason"]) in html for g in report["groups"])
    assert "http://" not in html and "https://" not in html
    json.loads(render(report, "json"))


# -- similar -------------------------------------------------------------------------------------------------

def test_similar_returns_copies_first(built_index: Path, collection: dict) -> None:
    with SearchIndex.open(built_index) as index:
        report = find_similar(index, [collection["originals"]["astronaut"], collection["spare"]], k=4)
    by_path, by_file = report["queries"]
    assert by_path["indexed"] and not by_file["indexed"]
    top_path = [_name(r["path"]) for r in by_path["results"]]
    assert set(top_path[:2]) == {"astronaut-small.jpg", "astronaut-q30.jpg"}
    assert "astronaut.jpg" not in top_path  # the query itself is left out
    top_file = [_name(r["path"]) for r in by_file["results"]]
    assert set(top_file[:3]) == {"astronaut.jpg", "astronaut-small.jpg", "astronaut-q30.jpg"}
    scores = [r["score"] for r in by_file["results"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.85 > scores[3]


def test_similar_by_style_and_html(built_index: Path, collection: dict, tmp_path: Path) -> None:
    with SearchIndex.open(built_index) as index:
        report = find_similar(index, [collection["originals"]["coffee"]], k=3, by="style")
    assert report["queries"][0]["results"][0]["path"].endswith("coffee-crop.jpg")
    html = render(report, "html", tmp_path / "s.html")
    assert html.count("<figure") == 4 and "https://" not in html


def test_empty_index_and_unknown_query_give_clear_errors(tmp_path: Path, built_index: Path) -> None:
    with SearchIndex.create(tmp_path / "empty") as empty, pytest.raises(ArtlensError, match="is empty"):
        find_similar(empty, [str(tmp_path / "x.jpg")])
    with pytest.raises(ArtlensError, match="no artlens index here"):
        SearchIndex.open(tmp_path / "nowhere")
    with SearchIndex.open(built_index) as index:
        report = find_similar(index, [str(tmp_path / "missing.jpg")])
        assert report["queries"] == []
        message = report["errors"][0]["error"]
        assert "not in index" in message and "missing.jpg" in message
    with SearchIndex.create(tmp_path / "plain") as plain:
        plain.update([])
        with pytest.raises(ConfigError, match="no style features"):
            plain.search(np.ones(1280, np.float32), by="style")


# -- recommend -----------------------------------------------------------------------------------------------

def test_recommend_excludes_liked_and_respects_diversity(built_index: Path, collection: dict,
                                                        tmp_path: Path) -> None:
    liked = [collection["originals"]["astronaut"]]
    disliked = [collection["originals"]["synthetic0"]]
    with SearchIndex.open(built_index) as index:
        # without folding (the old behaviour) the liked image's near copies come first
        focused, profile = recommend(index, liked, disliked, k=4, diversity=0.0, fold=False)
        varied, _ = recommend(index, liked, disliked, k=4, diversity=0.8, fold=False)
        folded, _ = recommend(index, liked, disliked, k=4, diversity=0.0)
        names = [_name(r["path"]) for r in focused["results"]]
        # the liked image and its byte-identical copies are never recommended
        assert "astronaut.jpg" not in names and "synthetic0.jpg" not in names
        assert set(names[:2]) == {"astronaut-small.jpg", "astronaut-q30.jpg"}
        # folded (the default): its near copies are not recommended either
        near_copies = {"astronaut-small.jpg", "astronaut-q30.jpg"}
        assert not {_name(r["path"]) for r in folded["results"]} & near_copies
        assert folded["folded"]["near_rated"] == 2 and "folded" not in focused
        ids_f = [r["id"] for r in focused["results"]]
        ids_v = [r["id"] for r in varied["results"]]
        spread = [float(np.mean(index.vectors(ids) @ index.vectors(ids).T)) for ids in (ids_f, ids_v)]
        assert spread[1] < spread[0]  # more diverse list: lower mean pairwise similarity
        assert sum(_name(r["path"]).startswith("astronaut") for r in varied["results"]) == 1

        profile.save(tmp_path / "user.json")
        again, updated = recommend(index, [collection["originals"]["coffee"]], k=20,
                                   profile=Profile.load(tmp_path / "user.json"))
    assert len(updated.liked) == 2 and len(updated.disliked) == 1  # history accumulates
    names = {_name(r["path"]) for r in again["results"]}
    assert not names & {"astronaut.jpg", "coffee.jpg", "synthetic0.jpg"}
    # everything else once, but the near copies of the liked images (astronaut-small, astronaut-q30,
    # coffee-crop) are left out and the byte copy of chelsea is folded into whichever of the two comes first
    assert not names & {"astronaut-small.jpg", "astronaut-q30.jpg", "coffee-crop.jpg"}
    assert len(names) == 14 - 3 - 3 - 1 and again["folded"]["near_rated"] == 3
    chelsea = next(r for r in again["results"] if _name(r["path"]).startswith("chelsea"))
    pair = {_name(chelsea["path"]), *(_name(f) for f in chelsea["folded"])}
    assert pair == {"chelsea.jpg", "chelsea-copy.jpg"} and len(chelsea["folded"]) == 1


def test_recommend_folds_a_crop_of_a_liked_image(index_copy: Path, collection: dict, tmp_path: Path) -> None:
    """A 90 % crop of a liked picture is the same picture to a shopper: it must not come back first."""
    from PIL import Image

    rocket = np.asarray(Image.open(collection["originals"]["rocket"]).convert("RGB"))
    h, w = rocket.shape[:2]
    crop = tmp_path / "more" / "rocket-crop90.jpg"
    crop.parent.mkdir()
    Image.fromarray(rocket[h // 20: h - h // 20, w // 20: w - w // 20]).save(crop, quality=92)
    with SearchIndex.open(index_copy) as index:
        assert index.update([crop.parent]).added == 1
        plain, _ = recommend(index, [collection["originals"]["rocket"]], k=3, diversity=0.0, fold=False)
        folded, _ = recommend(index, [collection["originals"]["rocket"]], k=20, diversity=0.0)
    assert _name(plain["results"][0]["path"]) == "rocket-crop90.jpg"  # what the issue saw
    listed = [_name(r["path"]) for r in folded["results"]]
    under = [_name(f) for r in folded["results"] for f in r.get("folded", [])]
    assert "rocket-crop90.jpg" not in listed + under and folded["folded"]["near_rated"] == 1
    # 15 items - the liked one - its crop; each of the others once, as a result or folded into one
    assert sorted(listed + under) == sorted(set(listed + under)) and len(listed + under) == 13
    groups = [{"astronaut.jpg", "astronaut-small.jpg", "astronaut-q30.jpg"},
              {"coffee.jpg", "coffee-crop.jpg"}, {"chelsea.jpg", "chelsea-copy.jpg"}]
    page = render(folded, "html")
    assert page.count(" near copies)") == sum(1 for r in folded["results"] if r.get("folded")) == 3
    for r in folded["results"]:  # each fold is one of the collection's known copy groups, whole
        family = {_name(r["path"]), *(_name(f) for f in r.get("folded", []))}
        assert family in groups or len(family) == 1, family


# -- incremental updates, resume, kinds ----------------------------------------------------------------------

def test_incremental_add_remove_keeps_index_and_store_consistent(index_copy: Path, collection: dict,
                                                                 tmp_path: Path) -> None:
    folder = tmp_path / "more"
    folder.mkdir()
    extra = folder / "extra.jpg"
    shutil.copyfile(collection["extra"], extra)
    with SearchIndex.open(index_copy) as index:
        before = len(index)
        assert index.update([collection["folder"]]).unchanged == before  # nothing re-embedded
        added = index.update([folder])
        assert (added.added, added.embedded) == (1, 1)
        _consistent(index)
        # a byte copy under a new name reuses the stored vectors
        shutil.copyfile(extra, folder / "extra-copy.jpg")
        copied = index.update([folder])
        assert (copied.added, copied.embedded, copied.reused, copied.unchanged) == (1, 0, 1, 1)
        # a changed file is embedded again under the same id
        old = index.item_by_path(extra)
        shutil.copyfile(collection["originals"]["coins"], extra)
        os.utime(extra, ns=(old.mtime_ns + 10**9, old.mtime_ns + 10**9))
        changed = index.update([folder])
        assert (changed.updated, changed.embedded) == (1, 0)  # same bytes as coins.jpg: vectors reused
        assert index.item_by_path(extra).id == old.id
        hit = index.search(index.vectors([old.id])[0], 2, exclude=[old.id])[0][0]
        assert _name(index.items([hit[0]])[0].path) == "coins.jpg"
        _consistent(index)
        removed = index.remove([folder])
        assert removed.removed == 2 and len(index) == before
        assert index.remove([folder / "nothing.jpg"]).errors
        _consistent(index)
    with SearchIndex.open(index_copy) as reopened:  # the FAISS files on disk agree with the database
        _consistent(reopened)
        assert reopened.info()["items"] == before


def test_build_prunes_vanished_files_and_reports_bad_images(tmp_path: Path, collection: dict) -> None:
    folder = tmp_path / "imgs"
    shutil.copytree(collection["folder"], folder)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with SearchIndex.create(tmp_path / "idx", backbone="mobilenet_v2") as index:
        first = index.update([folder], prune=True)
        assert len(first.errors) == 1 and "broken.jpg" in str(first.errors[0])
        assert first.added == 14
        (folder / "rocket.jpg").unlink()
        second = index.update([folder], prune=True)
        assert second.removed == 1 and len(index) == 13
        _consistent(index)
    with pytest.raises(ConfigError, match="built with backbone"):
        SearchIndex.create(tmp_path / "idx", backbone="efficientnet_lite0")


def test_killed_build_resumes_without_duplicates(tmp_path: Path, collection: dict) -> None:
    class Killed(BaseException):
        pass

    def die_after_two_batches(done: int, total: int) -> None:
        if done >= 8:
            raise Killed

    with SearchIndex.create(tmp_path / "idx") as index, pytest.raises(Killed):
        index.update([collection["folder"]], batch_size=4, progress=die_after_two_batches)
    with SearchIndex.open(tmp_path / "idx") as index:
        assert len(index) == 8  # the committed batches survived
        resumed = index.update([collection["folder"]], batch_size=4)
        assert (resumed.unchanged, resumed.added) == (8, 6)
        assert len(index) == 14
        paths = [it.path for it in index.items()]
        assert len(paths) == len(set(paths))
        _consistent(index)


def test_index_kinds_auto_and_forced(index_copy: Path, collection: dict) -> None:
    assert ann.choose_kind(100) == "flat" and ann.choose_kind(ann.FLAT_MAX + 1) == "ivf"
    with pytest.raises(ConfigError):
        ann.choose_kind(10, "lsh")
    with SearchIndex.create(index_copy, kind="hnsw") as index:
        index.update([collection["folder"]])  # nothing changed, but the kind did: rebuilt
        assert ann.index_kind(index.faiss_index()) == "hnsw"
        index.remove([collection["copies"]["chelsea"][0]])  # HNSW cannot remove: rebuilt
        _consistent(index)
        result = find_similar(index, [collection["spare"]], k=1)
        assert result["queries"][0]["results"][0]["path"].endswith("astronaut.jpg")


def test_ivf_recall_on_clustered_vectors() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(50, 64))
    data = centres[rng.integers(0, 50, 6000)] + 0.6 * rng.normal(size=(6000, 64))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(6000, dtype=np.int64) * 3 + 7
    flat, _ = ann.build_index(data, ids, "flat")
    ivf, params = ann.build_index(data, ids, "ivf")
    assert params.nlist > 1 and 1 <= params.nprobe <= params.nlist
    _, truth = ann.search(flat, data[:200], 10)
    _, found = ann.search(ivf, data[:200], 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.9


def test_ivf_with_pca_for_long_vectors_removes_reloads_and_rescores() -> None:
    """Vectors longer than IVF_PCA_DIM go through a PCA; ids, removal and saving work as for the plain IVF."""
    import faiss

    rng = np.random.default_rng(2)
    dim = ann.IVF_PCA_DIM + 144
    centres = rng.normal(size=(60, dim))
    data = centres[rng.integers(0, 60, 5000)] + 0.7 * rng.normal(size=(5000, dim))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(5000, dtype=np.int64) + 100
    ivf, _ = ann.build_index(data, ids, "ivf")
    assert ann.index_kind(ivf) == "ivf" and isinstance(ivf, faiss.IndexPreTransform)
    assert ann.supports_remove(ivf)
    queries = data[:100]
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :10] + 100
    _, found = ann.search(ivf, queries, ann.fetch_size(ivf, 10))
    hits = 0
    for q, row, t in zip(queries, found, truth, strict=True):
        cand = row[row >= 0]
        best = cand[np.argsort(-(data[cand - 100] @ q))[:10]]  # the library's exact re-scoring
        hits += len(set(best.tolist()) & set(t.tolist()))
    assert hits / 1000 >= 0.95
    ivf.remove_ids(np.asarray([100, 101], np.int64))
    copy = faiss.deserialize_index(faiss.serialize_index(ivf))
    assert copy.ntotal == 4998 and faiss.extract_index_ivf(copy).nprobe == faiss.extract_index_ivf(ivf).nprobe
    _, again = ann.search(copy, data[:1], 5)
    assert 100 not in again[0] and 101 not in again[0]


def test_sigkilled_build_resumes_without_duplicates(tmp_path: Path, collection: dict) -> None:
    """A build process killed with SIGKILL after two batches: what it committed stays, the rest follows."""
    import signal
    import subprocess
    import sys

    code = (
        "import os, signal, sys\n"
        "from artlens.search.index import SearchIndex\n"
        "def die(done, total):\n"
        "    if done >= 8:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "with SearchIndex.create(sys.argv[1]) as index:\n"
        "    index.update([sys.argv[2]], batch_size=4, progress=die)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "idx"), str(collection["folder"])],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with SearchIndex.open(tmp_path / "idx") as index:
        assert len(index) == 8
        resumed = index.update([collection["folder"]], batch_size=4)
        assert (resumed.unchanged, resumed.added) == (8, 6) and len(index) == 14
        _consistent(index)
