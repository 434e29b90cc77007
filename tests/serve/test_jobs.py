"""Jobs of the service: POST /v1/stylize, GET /v1/jobs/{id}, GET /v1/results/{id}, back-pressure, restarts."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
from PIL import Image

from .conftest import api_error as _error
from .conftest import png
from .conftest import wait_job as wait

pytest.importorskip("fastapi")
pytest.importorskip("httpx")


@pytest.fixture
def images(photos):
    """A 96 x 64 content and a 48 x 48 style, as PNG bytes."""
    content = np.asarray(Image.fromarray(photos["chelsea"]).resize((96, 64)))
    style = np.asarray(Image.fromarray(photos["coffee"]).resize((48, 48)))
    return png(content), png(style)


@pytest.mark.parametrize("with_preset", [False, True])
def test_fast_stylize_job_completes(client, auth, images, tmp_path, with_preset):
    c, _ = client
    content, style = images
    files = {"content": ("cat.png", content, "image/png")}
    data = {"size": "64", "strength": "0.8"}
    if with_preset:
        data["preset"] = "7"
    else:
        files["style"] = ("coffee.png", style, "image/png")
    response = c.post("/v1/stylize", headers=auth, files=files, data=data)
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert response.headers["location"] == f"/v1/jobs/{job['id']}" == job["links"]["self"]
    assert job["kind"] == "stylize" and job["status"] in ("queued", "running", "done")
    assert job["params"]["content_name"] == "cat.png"

    job = wait(c, auth, job["id"])
    assert job["status"] == "done", job
    assert job["progress"] == 1 and job["error"] is None and job["finished"] >= job["started"]
    assert job["results"] == [f"/v1/results/{job['id']}"]
    result = c.get(job["results"][0], headers=auth)
    assert result.status_code == 200 and result.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(result.content))
    assert image.format == "PNG" and image.size == (64, 43)
    assert np.asarray(image.convert("RGB")).std() > 1  # an image, not a blank
    assert not any((tmp_path / "uploads").iterdir())  # the uploaded inputs went with the job
    assert (tmp_path / "serve-results" / f"{job['id']}.png").is_file()  # not under the allowed root
    metrics = c.get("/metrics", headers=auth).text
    assert 'artlens_jobs_total{kind="stylize",status="done"} 1' in metrics
    assert "artlens_jobs_queued 0" in metrics


@pytest.fixture
def blocked(monkeypatch):
    """Style transfer that waits until the test sets the event."""
    import artlens.style

    release = threading.Event()

    def slow(content, style, method="fast", **options):
        release.wait(20)
        return Image.new("RGB", (32, 16), (200, 10, 10))

    monkeypatch.setattr(artlens.style, "stylize", slow)
    yield release
    release.set()


def test_full_queue_answers_429_with_retry_after(make_client, images, blocked):
    c, token = make_client(job_workers=1, max_queued_jobs=1)
    auth = {"Authorization": f"Bearer {token}"}
    files = {"content": ("a.png", images[0], "image/png")}
    first = c.post("/v1/stylize", headers=auth, files=files, data={"preset": "preset_01"})
    second = c.post("/v1/stylize", headers=auth, files=files, data={"preset": "preset_02"})
    assert first.status_code == second.status_code == 202
    first_id = first.json()["job"]["id"]
    _error(c.get(f"/v1/results/{first_id}", headers=auth), 404, "no_result")  # not done yet

    full = c.post("/v1/stylize", headers=auth, files=files, data={"preset": "preset_03"})
    _error(full, 429, "queue_full")
    assert int(full.headers["retry-after"]) >= 1
    metrics = c.get("/metrics", headers=auth).text
    assert "artlens_jobs_queued 1" in metrics and "artlens_jobs_running 1" in metrics

    blocked.set()
    for response in (first, second):
        job = wait(c, auth, response.json()["job"]["id"])
        assert job["status"] == "done", job
    result = c.get(f"/v1/results/{first_id}", headers=auth)
    assert Image.open(io.BytesIO(result.content)).size == (32, 16)
    assert c.post("/v1/stylize", headers=auth, files=files, data={"preset": "3"}).status_code == 202


def test_restart_fails_interrupted_jobs_as_retriable(tmp_path, root):
    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.auth import KeyStore
    from artlens.serve.jobs import INTERRUPTED, JobStore
    from artlens.serve.settings import ServeSettings

    db = tmp_path / "serve.db"
    with KeyStore(db) as keys:
        token, key = keys.create("test")
    with JobStore(db) as store:
        running = store.create("stylize", owner=key.id)
        store.start(running.id)
        store.set_progress(running.id, 0.4)
        queued = store.create("stylize", owner=key.id)
        done = store.create("stylize", owner=key.id)
        store.start(done.id)
        store.finish(done.id, [f"{done.id}.png"])
    results = tmp_path / "serve-results"
    results.mkdir()
    Image.new("RGB", (8, 8)).save(results / f"{done.id}.png")

    app = create_app(ServeSettings(db_path=db, allow_roots=(root,), upload_dir=tmp_path))
    c, auth = TestClient(app), {"Authorization": f"Bearer {token}"}
    for job_id in (running.id, queued.id):
        job = c.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]
        assert job["status"] == "failed" and job["retriable"] is True and job["error"] == INTERRUPTED
        _error(c.get(f"/v1/results/{job_id}", headers=auth), 404, "no_result")
    job = c.get(f"/v1/jobs/{done.id}", headers=auth).json()["job"]
    assert job["status"] == "done" and job["retriable"] is False  # finished results survive restarts
    assert c.get(f"/v1/results/{done.id}", headers=auth).status_code == 200


def test_job_routes_need_a_key_and_jobs_belong_to_theirs(client, auth, images, blocked):
    c, _ = client
    files = {"content": ("a.png", images[0], "image/png")}
    for method, path in (("post", "/v1/stylize"), ("get", "/v1/jobs/x"), ("get", "/v1/results/x")):
        _error(getattr(c, method)(path), 401, "unauthorized")
    job_id = c.post("/v1/stylize", headers=auth, files=files, data={"preset": "1"}).json()["job"]["id"]
    other = {"Authorization": f"Bearer {c.app.state.keys.create('other')[0]}"}
    _error(c.get(f"/v1/jobs/{job_id}", headers=other), 404, "not_found")
    _error(c.get(f"/v1/results/{job_id}", headers=other), 404, "not_found")
    _error(c.get("/v1/jobs/no-such-job", headers=auth), 404, "not_found")


@pytest.mark.parametrize(("fields", "code"), [
    ({}, "invalid_input"),  # neither style nor preset
    ({"preset": "99"}, "bad_preset"),
    ({"preset": "1", "size": "4096"}, "invalid_input"),
    ({"preset": "1", "method": "gatys"}, "invalid_input"),
    ({"preset": "1", "strength": "2"}, "invalid_input"),
    ({"preset": "1", "preserve_color": "maybe"}, "invalid_input"),
    ({"preset": "1", "colour": "red"}, "invalid_input"),
])
def test_bad_stylize_fields_give_422(client, auth, images, fields, code):
    c, _ = client
    response = c.post("/v1/stylize", headers=auth, files={"content": ("a.png", images[0], "image/png")},
                      data=fields)
    _error(response, 422, code)


def test_bad_content_gives_422_and_a_broken_image_a_failed_job(client, auth, images, tmp_path):
    c, _ = client
    text = {"content": ("a.png", b"hello, not an image", "image/png")}
    _error(c.post("/v1/stylize", headers=auth, files=text, data={"preset": "1"}), 422, "not_an_image")
    _error(c.post("/v1/stylize", headers=auth, files={"style": ("s.png", images[1], "image/png")}),
           422, "no_files")
    _error(c.post("/v1/stylize", headers=auth, json={"content": "x"}), 415, "unsupported_media_type")

    broken = images[0][:60]  # a PNG signature and header, then nothing
    response = c.post("/v1/stylize", headers=auth, files={"content": ("cut.png", broken, "image/png")},
                      data={"preset": "1"})
    assert response.status_code == 202, response.text
    job = wait(c, auth, response.json()["job"]["id"])
    assert job["status"] == "failed" and job["retriable"] is False
    assert "cut.png" in job["error"] and str(tmp_path) not in job["error"]  # no private server path
