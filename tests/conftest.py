"""Shared fixtures: tests are offline and make their own images or use scikit-image's bundled photos."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """A few of scikit-image's bundled real photos (CC0 / public domain), as RGB uint8 arrays."""
    from skimage import data

    return {
        "astronaut": data.astronaut(),
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "rocket": data.rocket(),
        "coins": np.repeat(data.coins()[..., None], 3, axis=2),
    }


@pytest.fixture
def make_service(tmp_path):
    """``make_service(**settings)`` -> (TestClient, auth headers): the whole app on a fresh key database and
    upload folder under ``tmp_path``, rate limits off, the client open until the test ends.

    For the feature packages' route tests; tests/serve has its own ``make_client`` (allowed roots, fast
    technical scoring)."""
    import contextlib

    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    with contextlib.ExitStack() as stack:
        def make(**overrides):
            (tmp_path / "uploads").mkdir(exist_ok=True)
            options = {"db_path": tmp_path / "serve.db", "upload_dir": tmp_path / "uploads",
                       "rate_per_key": 0, "rate_per_address": 0, "auth_failures_per_minute": 0} | overrides
            app = create_app(ServeSettings(**options))
            token = app.state.keys.create("test")[0]
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            return client, {"Authorization": f"Bearer {token}"}

        yield make


@pytest.fixture
def finished_job():
    """``finished_job(client, auth, job_id, timeout=60)`` -> the job record once it is done or failed."""
    import time

    def wait(client, auth, job_id: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = client.get(f"/v1/jobs/{job_id}", headers=auth).json()["job"]
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    return wait
