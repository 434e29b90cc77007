"""Fixtures of the service tests: an app on a temporary key database and a key.

FastAPI is imported lazily: the test modules skip without it.
"""

from __future__ import annotations

import pytest


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
                   "upload_dir": tmp_path / "uploads"} | overrides
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
