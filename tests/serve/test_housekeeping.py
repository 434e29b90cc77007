"""Service loose ends: the page's icon, refused jobs' uploads, folders a killed server left, tiny images."""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from artlens.serve.app import STATIC_DIR

from .conftest import png


def test_page_declares_an_inline_icon_its_csp_allows(client):
    """Without a declared icon, browsers ask for /favicon.ico and log the 404 as a console error."""
    html = client[0].get("/")
    icon = re.search(r'<link rel="icon" href="([^"]+)">', html.text)
    assert icon is not None and icon.group(1).startswith("data:")
    assert "data:" in re.search(r"img-src ([^;]+)", html.headers["content-security-policy"]).group(1)
    assert (STATIC_DIR / "index.html").read_text(encoding="utf-8").count('rel="icon"') == 1


def test_refused_stylize_job_deletes_its_uploads_at_once(client, auth, photos, tmp_path, monkeypatch):
    """On 429 the request's upload folder is deleted then, not whenever the garbage collector runs."""
    from artlens.serve.jobs import JobQueue, QueueFull

    held = []

    def refuse(self, kind, work, *, cleanup=None, **options):
        held.append(cleanup)  # a reference kept alive, as a traceback or a debugger may keep one
        raise QueueFull(7)

    monkeypatch.setattr(JobQueue, "submit", refuse)
    files = {"content": ("a.png", png(photos["coffee"][:64, :64]), "image/png")}
    refused = client[0].post("/v1/stylize", headers=auth, files=files, data={"preset": "2"})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "queue_full"
    assert refused.headers["retry-after"] == "7"
    assert len(held) == 1
    assert not any((tmp_path / "uploads").iterdir())


def _aged(path, hours: float):
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_start_removes_old_upload_folders_no_job_refers_to(tmp_path, root):
    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.jobs import JobStore
    from artlens.serve.settings import ServeSettings

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    stale = uploads / "artlens-upload-stale"
    (stale / "sub").mkdir(parents=True)
    (stale / "000.jpg").write_bytes(b"x")
    _aged(stale, 2)
    fresh = uploads / "artlens-upload-fresh"  # maybe another server's request under way
    fresh.mkdir()
    _aged(fresh, 0.5)
    retriable = uploads / "artlens-upload-job"  # an interrupted job's inputs (recorded below)
    retriable.mkdir()
    _aged(retriable, 2)
    other = uploads / "someone-else"
    other.mkdir()
    _aged(other, 5)
    not_a_folder = uploads / "artlens-upload-file"
    not_a_folder.write_bytes(b"")
    _aged(not_a_folder, 5)

    db = tmp_path / "serve.db"
    store = JobStore(db)
    store.create("stylize", params={"preset": "preset_01"}, inputs=retriable)  # queued at a server's kill
    store.close()

    app = create_app(ServeSettings(db_path=db, allow_roots=(root,), technical=True, upload_dir=uploads))
    assert stale.exists()  # nothing is removed before the server starts
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
    assert not stale.exists()
    assert fresh.is_dir() and retriable.is_dir() and other.is_dir() and not_a_folder.is_file()


def test_remove_stale_uploads_spares_links_and_kept_folders(tmp_path):
    from artlens.serve.uploads import remove_stale_uploads

    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    link = tmp_path / "artlens-upload-link"
    link.symlink_to(target, target_is_directory=True)
    old = tmp_path / "artlens-upload-old"
    old.mkdir()
    kept = tmp_path / "artlens-upload-kept"
    kept.mkdir()
    for path in (old, kept, target):
        _aged(path, 3)
    assert remove_stale_uploads(tmp_path, keep={kept}) == [old]
    assert (target / "keep.txt").is_file() and link.is_symlink() and kept.is_dir()
    assert remove_stale_uploads(tmp_path, older_than=4 * 3600) == []


def test_tiny_upload_gets_a_verdict_not_an_error(client, auth, photos):
    c, _ = client
    tiny = np.asarray(Image.fromarray(photos["astronaut"]).resize((40, 30)))
    response = c.post("/v1/assess", headers=auth, files={"files": ("tiny.png", png(tiny), "image/png")})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["errors"] == []
    image = report["images"][0]
    assert image["path"] == "tiny.png" and image["verdict"] == "fail"
    assert any("40 px on its longest side" in reason for reason in image["reasons"])


def test_every_schema_route_is_documented(client, auth):
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "serve.md").read_text(encoding="utf-8")
    schema = client[0].get("/openapi.json", headers=auth).json()
    routes = [f"{method.upper()} {re.sub(r'{[a-z_]+}', '{id}', path)}"
              for path, operations in schema["paths"].items() for method in operations]
    assert len(routes) >= 14
    missing = [route for route in routes if f"`{route}`" not in docs]
    assert missing == [], f"routes missing from docs/serve.md: {missing}"
