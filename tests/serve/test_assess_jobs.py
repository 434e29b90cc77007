"""Assess batches as jobs (POST /v1/assess/jobs) and retries (POST /v1/jobs/{id}/retry)."""

from __future__ import annotations

import io
import os
import sqlite3
import threading
import time

import numpy as np
import pytest
from PIL import Image

from artlens import weights
from artlens.schemas import read_schema

from .conftest import api_error as _error
from .conftest import wait_job as wait

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
jsonschema = pytest.importorskip("jsonschema")


def jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def report_of(c, auth, job: dict) -> dict:
    assert job["status"] == "done", job
    assert job["results"] == [f"/v1/results/{job['id']}"]
    response = c.get(job["results"][0], headers=auth)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    report = response.json()
    jsonschema.Draft202012Validator(read_schema("assess")).validate(report)
    return report


@pytest.fixture
def uploads(photos):
    small = {name: np.asarray(Image.fromarray(photos[name]).resize((160, 120)))
             for name in ("chelsea", "coffee")}
    return [("files", ("shop/cat.jpg", jpeg(small["chelsea"]), "image/jpeg")),
            ("files", ("coffee.jpg", jpeg(small["coffee"]), "image/jpeg")),
            ("files", ("cut.jpg", jpeg(small["coffee"])[:400], "image/jpeg"))]


def occupy(app) -> threading.Event:
    """Keep the app's only job worker busy until the returned event is set."""
    release = threading.Event()
    app.state.jobs.submit("test", lambda job_id, report: (release.wait(30), [])[1])
    deadline = time.monotonic() + 10
    while app.state.jobs.running == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    return release


def test_upload_job_reports_json_and_cleans_up(client, auth, uploads, tmp_path):
    c, _ = client
    response = c.post("/v1/assess/jobs", headers=auth, files=uploads, data={"policy": "amazon"})
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert response.headers["location"] == f"/v1/jobs/{job['id']}" == job["links"]["self"]
    assert job["kind"] == "assess" and job["attempts"] == 1
    assert job["params"] == {"policy": "amazon", "images": 3, "source": "uploads"}

    job = wait(c, auth, job["id"])
    assert job["progress"] == 1 and job["error"] is None
    report = report_of(c, auth, job)
    assert report["policy"]["name"] == "amazon"
    assert sorted(im["path"] for im in report["images"]) == ["cat.jpg", "coffee.jpg"]  # client names
    assert [e["path"] for e in report["errors"]] == ["cut.jpg"]
    assert "artlens-upload" not in str(report) and "inputs" not in str(report)  # no private folder
    assert not any((tmp_path / "uploads").iterdir())  # the request's temporary files are gone
    assert not any((tmp_path / "serve-results" / "inputs").iterdir())  # and the job's copies too
    assert (tmp_path / "serve-results" / f"{job['id']}.json").is_file()
    metrics = c.get("/metrics", headers=auth).text
    assert 'artlens_jobs_total{kind="assess",status="done"} 1' in metrics


def test_paths_job_reports_missing_files(client, auth, root, photos):
    c, _ = client
    (root / "a").mkdir()
    (root / "a" / "cat.jpg").write_bytes(jpeg(photos["chelsea"][:120, :160]))
    (root / "a" / "coins.jpg").write_bytes(jpeg(photos["coins"][:120, :160]))
    response = c.post("/v1/assess/jobs", headers=auth, json={"paths": ["a", "gone.jpg"]})
    assert response.status_code == 202, response.text
    assert response.json()["job"]["params"] == {"policy": "general", "images": 2, "source": "paths"}
    report = report_of(c, auth, wait(c, auth, response.json()["job"]["id"]))
    assert sorted(os.path.basename(im["path"]) for im in report["images"]) == ["cat.jpg", "coins.jpg"]
    assert [e["path"] for e in report["errors"]] == ["gone.jpg"] and report["summary"]["total"] == 3


@pytest.mark.parametrize(("kwargs", "status", "code"), [
    ({"json": {"paths": ["../outside"]}}, 403, "path_forbidden"),
    ({"json": {"paths": ["a.jpg"], "policy": "/etc/passwd"}}, 422, "bad_policy"),
    ({"json": {"paths": ["a.jpg"], "model": "x"}}, 422, "invalid_input"),
    ({"json": {"paths": []}}, 422, "invalid_input"),
    ({"content": b"paths=a", "headers": {"content-type": "text/plain"}}, 415, "unsupported_media_type"),
    ({"files": [("files", ("a.jpg", b"not an image", "image/jpeg"))]}, 422, "not_an_image"),
    ({"files": [("files", ("a.jpg", b"\xff\xd8\xff", "image/jpeg"))], "data": {"top_k": "3"}}, 422,
     "invalid_input"),
])
def test_bad_requests_queue_nothing(client, auth, tmp_path, kwargs, status, code):
    c, _ = client
    headers = auth | kwargs.pop("headers", {})
    _error(c.post("/v1/assess/jobs", headers=headers, **kwargs), status, code)
    assert c.app.state.jobs.store.list() == []
    assert not any((tmp_path / "serve-results" / "inputs").iterdir())


def test_full_queue_answers_429_and_keeps_nothing(make_client, uploads, tmp_path):
    c, token = make_client(job_workers=1, max_queued_jobs=0)
    auth = {"Authorization": f"Bearer {token}"}
    release = occupy(c.app)
    try:
        full = c.post("/v1/assess/jobs", headers=auth, files=uploads[:1])
        _error(full, 429, "queue_full")
        assert int(full.headers["retry-after"]) >= 1
        full = c.post("/v1/assess/jobs", headers=auth, json={"paths": ["x.jpg"]})
        _error(full, 429, "queue_full")
        assert not any((tmp_path / "serve-results" / "inputs").iterdir())
        assert not any((tmp_path / "uploads").iterdir())
    finally:
        release.set()


def _restart(tmp_path, root, **overrides):
    """A fresh app on the same database and results folder, as after a server restart."""
    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    options = {"db_path": tmp_path / "serve.db", "allow_roots": (root,), "technical": True,
               "upload_dir": tmp_path / "uploads"} | overrides
    return TestClient(create_app(ServeSettings(**options)), raise_server_exceptions=False)


def test_interrupted_job_is_retried_and_its_result_survives_restarts(make_client, uploads, tmp_path, root):
    c, token = make_client(job_workers=1)
    auth = {"Authorization": f"Bearer {token}"}
    release = occupy(c.app)
    try:
        response = c.post("/v1/assess/jobs", headers=auth, files=uploads[:2])
        job_id = response.json()["job"]["id"]
        assert c.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]["status"] == "queued"
        assert not any((tmp_path / "uploads").iterdir())  # the request's files went with the request
        inputs = list((tmp_path / "serve-results" / "inputs").iterdir())
        assert len(inputs) == 1 and sorted(p.name for p in inputs[0].iterdir()) == ["000.jpg", "001.jpg",
                                                                                  "job.json"]
        c.app.state.jobs.close()  # the server stops with the job still queued

        c = _restart(tmp_path, root)
        job = c.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]
        assert job["status"] == "failed" and job["retriable"] is True
        assert inputs[0].is_dir()  # kept for a retry
        response = c.post(f"/v1/jobs/{job_id}/retry", headers=auth)
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/v1/jobs/{job_id}"
        assert response.json()["job"]["attempts"] == 2 and response.json()["job"]["error"] is None
        job = wait(c, auth, job_id)
        report = report_of(c, auth, job)
        assert sorted(im["path"] for im in report["images"]) == ["cat.jpg", "coffee.jpg"]
        assert not inputs[0].exists()
        _error(c.post(f"/v1/jobs/{job_id}/retry", headers=auth), 409, "not_retriable")  # done: not again

        c = _restart(tmp_path, root)  # a finished result survives a restart
        assert c.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]["status"] == "done"
        assert report_of(c, auth, job) == report
    finally:
        release.set()


def test_retry_needs_inputs_on_disk(make_client, tmp_path, root, photos):
    import shutil

    c, token = make_client(job_workers=1)
    auth = {"Authorization": f"Bearer {token}"}
    (root / "cat.jpg").write_bytes(jpeg(photos["chelsea"][:120, :160]))
    release = occupy(c.app)
    try:
        first = c.post("/v1/assess/jobs", headers=auth, json={"paths": ["cat.jpg"]}).json()["job"]["id"]
        second = c.post("/v1/assess/jobs", headers=auth, json={"paths": ["cat.jpg"]}).json()["job"]["id"]
        c.app.state.jobs.close()
        c = _restart(tmp_path, root)
        folders = {job.id: c.app.state.jobs.store.inputs_of(job.id) for job in c.app.state.jobs.store.list()}
        shutil.rmtree(folders[first])  # the job's own folder is gone
        error = _error(c.post(f"/v1/jobs/{first}/retry", headers=auth), 409, "not_retriable")
        assert "no longer on the server" in error["message"]
        (root / "cat.jpg").unlink()  # the file a paths job named is gone
        _error(c.post(f"/v1/jobs/{second}/retry", headers=auth), 409, "not_retriable")
        _error(c.post("/v1/jobs/nope/retry", headers=auth), 404, "not_found")
        other = {"Authorization": f"Bearer {c.app.state.keys.create('other')[0]}"}
        _error(c.post(f"/v1/jobs/{second}/retry", headers=other), 404, "not_found")  # another key's job
    finally:
        release.set()


def test_interrupted_stylize_job_is_retried(tmp_path, root, monkeypatch):
    import artlens.style
    from artlens.serve.auth import KeyStore
    from artlens.serve.jobs import JobStore

    db = tmp_path / "serve.db"
    with KeyStore(db) as keys:
        token, key = keys.create("test")
    folder = tmp_path / "uploads" / "artlens-upload-x"  # as a stopped server left it
    folder.mkdir(parents=True)
    Image.new("RGB", (40, 30), (10, 120, 200)).save(folder / "000.png")
    params = {"method": "fast", "size": 32, "strength": 1.0, "preserve_color": False, "preset": "preset_03",
              "content_name": "photo.png"}
    with JobStore(db) as store:
        job_id = store.create("stylize", owner=key.id, params=params, inputs=folder).id
        store.start(job_id)
    seen = {}

    def fake(content, style, method="fast", **options):
        seen.update(content=content, style=style, size=options["size"])
        return Image.new("RGB", (32, 24), (1, 2, 3))

    monkeypatch.setattr(artlens.style, "stylize", fake)
    c, auth = _restart(tmp_path, root), {"Authorization": f"Bearer {token}"}
    assert c.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]["retriable"] is True
    assert c.post(f"/v1/jobs/{job_id}/retry", headers=auth).status_code == 202
    job = wait(c, auth, job_id)
    assert job["status"] == "done" and job["attempts"] == 2, job
    result = c.get(f"/v1/results/{job_id}", headers=auth)
    assert result.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(result.content)).size == (32, 24)
    assert seen == {"content": folder / "000.png", "style": "preset:preset_03", "size": 32}
    assert not folder.exists()  # the inputs went with the job


def test_routes_need_a_key(client, auth):
    c, _ = client
    for path in ("/v1/assess/jobs", "/v1/jobs/x/retry"):
        for headers in ({}, {"Authorization": "Bearer alk_00000000_nope"}):
            response = c.post(path, headers=headers, json={"paths": ["a.jpg"]})
            _error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_jobs_table_of_an_older_store_is_migrated(tmp_path, root):
    from artlens.serve.auth import KeyStore

    db = tmp_path / "serve.db"
    with KeyStore(db) as keys:
        token, key = keys.create("test")
    conn = sqlite3.connect(db)  # the table as the first release made it, with a finished style transfer
    conn.executescript("""
        CREATE TABLE serve_jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,
            progress REAL NOT NULL DEFAULT 0, created REAL NOT NULL, started REAL, finished REAL, error TEXT,
            results TEXT NOT NULL DEFAULT '[]', retriable INTEGER NOT NULL DEFAULT 0, owner TEXT,
            params TEXT NOT NULL DEFAULT '{}', inputs TEXT);""")
    conn.execute("INSERT INTO serve_jobs (id, kind, status, progress, created, started, finished, results, "
                 "owner) VALUES ('old', 'stylize', 'done', 1, 1, 2, 3, '[\"old.png\"]', ?)", (key.id,))
    conn.commit()
    conn.close()
    (tmp_path / "serve-results").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "serve-results" / "old.png")

    c, auth = _restart(tmp_path, root), {"Authorization": f"Bearer {token}"}
    job = c.get("/v1/jobs/old", headers=auth).json()["job"]
    assert job["status"] == "done" and job["attempts"] == 1
    result = c.get("/v1/results/old", headers=auth)
    assert result.status_code == 200 and result.headers["content-type"] == "image/png"
    _error(c.post("/v1/jobs/old/retry", headers=auth), 409, "not_retriable")


def test_inputs_of_interrupted_jobs_expire_and_orphans_go(tmp_path):
    from artlens.serve.jobs import JobQueue, JobStore

    results = tmp_path / "results"
    kept, orphan = results / "inputs" / "assess-a", results / "inputs" / "assess-b"
    kept.mkdir(parents=True)
    orphan.mkdir()
    with JobStore(tmp_path / "jobs.db") as store:
        job = store.create("assess", inputs=kept)
        store.start(job.id)
        JobQueue(store, results).close()  # a start: the running job is failed-retriable, its inputs kept
        assert kept.is_dir() and not orphan.exists()  # no job refers to the orphan
        assert store.get(job.id).retriable and store.inputs_of(job.id) == kept
        JobQueue(store, results, keep_inputs=-1).close()  # a start after they expired
        assert not kept.exists() and store.inputs_of(job.id) is None and not store.get(job.id).retriable


@pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                    reason="mobilenet_v2 weights not verified in the local cache")
def test_an_assess_job_can_draw_the_heat_maps(make_client, uploads, root):
    from artlens.iqa.explain import BAR_HEIGHT

    c, token = make_client(technical=False)
    auth = {"Authorization": f"Bearer {token}"}
    response = c.post("/v1/assess/jobs", headers=auth, files=uploads[:2], data={"explain": "true"})
    assert response.status_code == 202, response.text
    job = wait(c, auth, response.json()["job"]["id"], timeout=180)
    assert job["status"] == "done" and job["params"]["explain"] is True, job
    report = report_of(c, auth, job)
    for image in report["images"]:
        url = image["explanation"]["path"]
        assert url.startswith(f"/v1/results/{job['id']}/explanations/") and url.endswith(".quality-map.jpg")
        heat = c.get(url, headers=auth)
        assert heat.status_code == 200 and heat.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(heat.content)) as im:
            assert im.size == (image["width"], image["height"] + BAR_HEIGHT)  # small images: their own size
    prefix = f"/v1/results/{job['id']}/explanations/"
    for name in ("nothing.quality-map.jpg", "..%2F..%2Fserve.db", "job.json"):
        assert c.get(prefix + name, headers=auth).status_code == 404
    other_key = c.app.state.keys.create("other")[0]  # another key: not its job, so not found
    assert c.get(report["images"][0]["explanation"]["path"],
                 headers={"Authorization": f"Bearer {other_key}"}).status_code == 404


def test_heat_maps_need_the_learned_model_and_a_job(client, auth, uploads):
    c, _ = client  # a --technical server
    _error(c.post("/v1/assess/jobs", headers=auth, files=uploads[:1], data={"explain": "true"}), 409,
           "no_learned_model")
    _error(c.post("/v1/assess/jobs", headers=auth, json={"paths": ["a.png"], "explain": True}), 409,
           "no_learned_model")
    _error(c.post("/v1/assess/jobs", headers=auth, files=uploads[:1], data={"explain": "maybe"}), 422,
           "invalid_input")
    _error(c.post("/v1/assess", headers=auth, files=uploads[:1], data={"explain": "true"}), 422,
           "invalid_input")  # heat maps come with jobs (their files outlive the request)
