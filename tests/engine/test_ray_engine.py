"""The Ray engine gives what the local engine gives: assess reports and store, index vectors and neighbours,
classify predictions, on a local 2-CPU Ray cluster; a driver stopped part-way resumes without recomputing."""

from __future__ import annotations

import math
import os
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

from artlens.assess.analyse import AnalysisSettings
from artlens.assess.pipeline import AssessRun, run_assessment
from artlens.assess.policy import load_policy
from artlens.assess.report import validate_report
from artlens.engine.options import EngineOptions
from artlens.store import Store

from .conftest import crop_view

pytestmark = pytest.mark.slow

RAY = EngineOptions(kind="ray", actors=2, batch_size=2)


class _DriverKilled(Exception):
    pass


def _assert_same_images(ours: list[dict], theirs: list[dict]) -> None:
    assert [im["path"] for im in ours] == [im["path"] for im in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert a["verdict"] == b["verdict"] and a["reasons"] == b["reasons"], a["path"]
        assert a["sha256"] == b["sha256"]
        for key, value in a["scores"].items():
            other = b["scores"][key]
            if value is None or other is None:
                assert value is other, (a["path"], key)
            else:
                assert math.isclose(value, other, rel_tol=1e-4, abs_tol=1e-3), (a["path"], key)
        assert [c["id"] for c in a["checks"]] == [c["id"] for c in b["checks"]]


def _local(folder: Path, settings: AnalysisSettings) -> dict:
    policy = load_policy("general")
    return run_assessment([folder], AssessRun(policy=policy, settings=settings, workers=1, use_store=False))


def test_assess_on_ray_equals_local(small_set: Path, ray_session) -> None:
    """Same verdicts, reasons, scores and errors with the learned model; a report of the same form."""
    settings = AnalysisSettings.for_policy(load_policy("general"))
    local = _local(small_set, settings)
    assert local["summary"]["assessed"] == 7 and len(local["errors"]) == 1
    report = run_assessment([small_set], AssessRun(policy=load_policy("general"), settings=settings,
                                                   use_store=False, engine=RAY))
    validate_report(report)
    _assert_same_images(report["images"], local["images"])
    assert report["errors"] == local["errors"]
    assert "7-broken.jpg" in report["errors"][0]["path"] and "\n" not in report["errors"][0]["error"]
    assert report["settings"] == {**local["settings"], "workers": 2}
    assert set(report) == set(local) and set(report["summary"]) == set(local["summary"])


def test_assess_on_ray_resumes_after_the_driver_stops(small_set: Path, tmp_path: Path, ray_session) -> None:
    """Results are stored as they stream back: a driver stopped part-way loses none, and the next run
    computes only the rest (hand-made measures only, to keep the test short)."""
    policy = load_policy("general")
    settings = AnalysisSettings.for_policy(policy, learned=False)
    db = tmp_path / "results.db"
    run = AssessRun(policy=policy, settings=settings, db=db, engine=RAY)

    def stop_after_three(done: int, total: int) -> None:
        if done >= 3:
            raise _DriverKilled

    with pytest.raises(_DriverKilled):
        run_assessment([small_set], run, progress=stop_after_three)
    local = _local(small_set, settings)
    store = Store(db)
    try:
        kept = store.get_results(settings.key(), [im["sha256"] for im in local["images"]])
    finally:
        store.close()
    assert 2 <= len(kept) < 6  # what streamed back before the stop, and not the rest

    report = run_assessment([small_set], run)
    s = report["summary"]
    # the copy shares its bytes with an original: both are cached once the original is stored
    assert s["assessed"] == 7 and s["cached"] >= len(kept) and s["computed"] == 7 - s["cached"]
    _assert_same_images(report["images"], local["images"])
    assert report["errors"] == local["errors"]


def test_index_build_on_ray_stores_the_same_vectors_and_neighbours(small_set: Path, tmp_path: Path,
                                                                    ray_engine) -> None:
    from artlens.search.index import SearchIndex

    built = {}
    for name, engine in (("local", None), ("ray", ray_engine)):
        with SearchIndex.create(tmp_path / name, style=True) as index:
            report = index.update([small_set], prune=True, engine=engine, batch_size=3)
            ids, vectors = index.all_vectors("content")
            items = {it.id: it for it in index.items()}
            paths = [items[int(i)].path for i in ids]
            # every item's whole ranking (k = all of them: a cut at k could fall between a copy and its
            # original, which score alike), ties broken by path: the item ids, and so the order FAISS gives
            # tied hits in, depend on the order the files were added
            neighbours = {items[int(i)].path: sorted((-round(float(score), 3), items[j].path)
                                                     for j, score in hits)
                          for i, hits in zip(ids, index.search(vectors, k=len(ids)), strict=True)}
            style = index.all_vectors("style")[1]
            built[name] = (report, paths, vectors, style, neighbours,
                           {it.path: (it.sha256, it.width, it.height, it.phash) for it in items.values()})
    lr, lpaths, lvec, lstyle, lnb, lmeta = built["local"]
    rr, rpaths, rvec, rstyle, rnb, rmeta = built["ray"]
    assert (rr.added, rr.embedded, rr.reused) == (lr.added, lr.embedded, lr.reused) == (7, 6, 1)
    assert [str(e) for e in rr.errors] == [str(e) for e in lr.errors] and len(lr.errors) == 1
    assert rmeta == lmeta
    order = [rpaths.index(p) for p in lpaths]
    np.testing.assert_allclose(rvec[order], lvec, atol=1e-4)
    np.testing.assert_allclose(rstyle[order], lstyle, atol=1e-4)
    for path, near in lnb.items():
        assert [p for _, p in rnb[path]] == [p for _, p in near], path


def test_classify_on_ray_gives_the_local_predictions(small_set: Path, tmp_path: Path, photos,
                                                     ray_engine) -> None:
    from artlens.classify.data import load_dataset
    from artlens.classify.model import load_classifier
    from artlens.classify.predict import classify_paths, load_report_schema
    from artlens.classify.train.linear import train_linear

    train = tmp_path / "train"
    for name in ("astronaut", "coffee", "chelsea"):
        os.makedirs(train / name)
        for i, (y, x) in enumerate(((0.3, 0.6), (0.6, 0.3), (0.5, 0.5))):
            Image.fromarray(crop_view(photos[name], y, x, 96, 96)).save(train / name / f"{i}.png")
    model_dir = tmp_path / "model"
    train_linear(load_dataset(train), model_dir, epochs=20)
    clf = load_classifier(model_dir)
    local = classify_paths(clf, [small_set], top_k=2)
    remote = classify_paths(clf, [small_set], top_k=2, engine=ray_engine)
    jsonschema.validate(remote, load_report_schema())
    assert remote["errors"] == local["errors"] and len(local["errors"]) == 1
    assert [im["path"] for im in remote["images"]] == [im["path"] for im in local["images"]]
    for a, b in zip(remote["images"], local["images"], strict=True):
        assert a["label"] == b["label"] and [k for k, _ in a["topk"]] == [k for k, _ in b["topk"]]
        assert math.isclose(a["score"], b["score"], abs_tol=1e-4)


def test_doctor_reports_the_cluster(ray_session) -> None:
    from artlens.doctor import collect

    info = collect(address=ray_session.get_runtime_context().gcs_address)
    assert info["versions"]["ray"] == ray_session.__version__
    assert info["ray"]["nodes"] == 1 and info["ray"]["cpus"] == 2.0
