"""Fixtures of the service tests: an app on a temporary key database and a key.

FastAPI is imported lazily: the test modules skip without it.
"""

from __future__ import annotations

import pytest

#: Rate limits off: the tests send many requests (and failed keys) from one address in a burst;
#: tests/serve/test_limits.py turns them on.
NO_RATE_LIMITS = {"rate_per_key": 0, "rate_per_address": 0, "auth_failures_per_minute": 0}


@pytest.fixture
def root(tmp_path):
    """An allowed root folder, and next to it a folder the server must not read."""
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path / "root"


@pytest.fixture
def make_client(tmp_path, root):
    """``make_client(**settings)`` -> (TestClient, token) on a fresh key database; fast technical scoring."""

    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    def make(**overrides):
        options = {"db_path": tmp_path / "serve.db", "allow_roots": (root,), "technical": True,
                   "upload_dir": tmp_path / "uploads", **NO_RATE_LIMITS} | overrides
        (tmp_path / "uploads").mkdir(exist_ok=True)
        app = create_app(ServeSettings(**options))
        token = app.state.keys.create("test")[0] if app.state.keys is not None else ""
        return TestClient(app, raise_server_exceptions=False), token

    return make


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture
def auth(client):
    return {"Authorization": f"Bearer {client[1]}"}


# -- helpers shared by the test modules (imported with ``from .conftest import ...``) ------------------------

def png(rgb) -> bytes:
    """An RGB array as PNG bytes."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def api_error(response, status: int, code: str | None = None) -> dict:
    """Check the service's JSON error body (``{"error": {"code", "message"}}``, no traceback); return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert "Traceback" not in response.text
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def wait_job(c, auth, job_id: str, timeout: float = 60.0) -> dict:
    """Poll ``GET /v1/jobs/{id}`` until the job is done or failed (or ``timeout`` seconds pass)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        response = c.get(f"/v1/jobs/{job_id}", headers=auth)
        assert response.status_code == 200, response.text
        job = response.json()["job"]
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)
