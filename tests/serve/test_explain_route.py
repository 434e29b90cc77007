"""``POST /v1/explain``: the learned quality model's heat map of one image, answered as a JPEG with a colour
bar."""

from __future__ import annotations

import io
import threading

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens import weights

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from artlens.iqa.explain import BAR_HEIGHT, EXPLAIN_MAX_SIDE, Explanation

from .conftest import api_error as _error

needs_model = pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                                 reason="mobilenet_v2 weights not verified in the local cache")


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _resized(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


@pytest.fixture
def learned(make_client):
    """A server with the learned quality model, and its auth header."""
    c, token = make_client(technical=False)
    return c, {"Authorization": f"Bearer {token}"}


@needs_model
def test_upload_gives_a_bounded_jpeg_heat_map(learned, photos):
    c, auth = learned
    rgb = _resized(photos["astronaut"], 1800, 1000)
    response = c.post("/v1/explain", headers=auth, files=[("files", ("astro.jpg", _jpeg(rgb), "image/jpeg"))])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    assert len(response.content) < 400_000  # compact
    with Image.open(io.BytesIO(response.content)) as im:
        assert im.format == "JPEG"
        overlay = np.asarray(im.convert("RGB"))
    height = round(1000 * EXPLAIN_MAX_SIDE / 1800)
    assert overlay.shape == (height + BAR_HEIGHT, EXPLAIN_MAX_SIDE, 3)  # downscaled, the colour bar below
    plain = _resized(rgb, EXPLAIN_MAX_SIDE, height).astype(np.int16)
    assert np.abs(overlay[:height].astype(np.int16) - plain).mean() > 3.0  # tinted, not the image sent back
    low, mean = float(response.headers["x-quality-min"]), float(response.headers["x-quality-mean"])
    assert 0.0 <= low <= mean <= 100.0
    assert not any(c.app.state.settings.upload_dir.iterdir())  # the private copy is gone
    metrics = c.get("/metrics", headers=auth).text
    assert 'artlens_images_total{operation="explain",outcome="ok"} 1' in metrics


@needs_model
def test_a_path_under_the_root_is_explained_at_its_own_size(learned, root, photos):
    c, auth = learned
    (root / "cat.jpg").write_bytes(_jpeg(_resized(photos["chelsea"], 320, 240)))
    response = c.post("/v1/explain", headers=auth, json={"paths": ["cat.jpg"]})
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as im:
        assert im.size == (320, 240 + BAR_HEIGHT)  # never upscaled


def test_a_key_is_required(learned, client, photos):
    files = [("files", ("a.jpg", _jpeg(photos["coins"]), "image/jpeg"))]
    for c in (learned[0], client[0]):
        for headers in ({}, {"Authorization": "Bearer alk_00000000_nope"}):
            response = c.post("/v1/explain", headers=headers, files=files)
            _error(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"


def test_technical_server_answers_a_clear_409(client, auth, photos):
    response = client[0].post("/v1/explain", headers=auth,
                              files=[("files", ("a.jpg", _jpeg(photos["coins"]), "image/jpeg"))])
    error = _error(response, 409, "no_learned_model")
    assert "--technical" in error["message"]


def test_bad_inputs_are_4xx_json(learned, root, photos, monkeypatch):
    import artlens.serve.routes.explain as route

    def never(*_args, **_kwargs):
        raise AssertionError("no heat map may be computed for a refused request")

    monkeypatch.setattr(route, "explain_file", never)
    c, auth = learned
    small = _jpeg(_resized(photos["coins"], 64, 48))
    text = c.post("/v1/explain", headers=auth,
                  files=[("files", ("photo.jpg", b"plain text\n" * 20, "image/jpeg"))])
    assert "photo.jpg" in _error(text, 422, "not_an_image")["message"]
    two = [("files", (f"{i}.jpg", small, "image/jpeg")) for i in range(2)]
    _error(c.post("/v1/explain", headers=auth, files=two), 422, "one_image_only")
    _error(c.post("/v1/explain", headers=auth, files=two[:1], data={"policy": "general"}), 422,
           "invalid_input")
    (root / "d").mkdir()
    for i in range(2):
        (root / "d" / f"{i}.jpg").write_bytes(small)
    _error(c.post("/v1/explain", headers=auth, json={"paths": ["d"]}), 422, "one_image_only")
    _error(c.post("/v1/explain", headers=auth, json={"paths": ["../outside/x.jpg"]}), 403)
    _error(c.post("/v1/explain", headers=auth, json={"paths": ["missing.jpg"]}), 422, "bad_path")
    _error(c.post("/v1/explain", headers={**auth, "Content-Type": "text/plain"}, content=b"hi"), 415)
    _error(c.post("/v1/explain", headers=auth, files={"policy": (None, "general")}), 422, "no_files")


def test_undecodable_upload_names_the_clients_file(learned):
    c, auth = learned
    broken = _jpeg(np.full((64, 64, 3), 128, np.uint8))[:40]  # a JPEG header, then nothing
    response = c.post("/v1/explain", headers=auth, files=[("files", ("broken.jpg", broken, "image/jpeg"))])
    message = _error(response, 422, "bad_image")["message"]
    assert "broken.jpg" in message and "artlens-upload" not in message


def test_work_runs_off_the_event_loop(learned, photos, monkeypatch):
    import artlens.serve.routes.explain as route

    seen = []

    def fake(path, *, max_pixels):
        seen.append(threading.current_thread().name)
        return Explanation(b"\xff\xd8 fake", 10.0, 50.0, [0, 0, 1, 1])

    monkeypatch.setattr(route, "explain_file", fake)
    c, auth = learned
    response = c.post("/v1/explain", headers=auth,
                      files=[("files", ("a.jpg", _jpeg(photos["coins"]), "image/jpeg"))])
    assert response.status_code == 200 and response.content == b"\xff\xd8 fake"
    assert response.headers["x-quality-min"] == "10.0"
    assert seen == ["AnyIO worker thread"]  # a worker thread, not the event loop's


def test_route_is_in_the_schema(client, auth):
    spec = client[0].get("/openapi.json", headers=auth).json()
    op = spec["paths"]["/v1/explain"]["post"]
    assert op["tags"] == ["assess"]
    assert "image/jpeg" in op["responses"]["200"]["content"]
    assert {"401", "409", "413", "422"} <= set(op["responses"])
    assert "application/json" in op["responses"]["409"]["content"]
    assert set(op["requestBody"]["content"]) == {"multipart/form-data", "application/json"}
    assert op["security"] == [{"HTTPBearer": []}]
    assert "heat map" in op["description"]


@needs_model
def test_the_route_and_assess_explain_give_the_same_overlay(learned, root, photos, tmp_path):
    from typer.testing import CliRunner

    from artlens.cli import app

    c, auth = learned
    (root / "astro.jpg").write_bytes(_jpeg(_resized(photos["astronaut"], 1400, 1000)))
    result = CliRunner().invoke(app, ["assess", str(root / "astro.jpg"), "--no-db", "--workers", "1",
                                      "--quiet", "--explain", str(tmp_path / "maps"), "--json"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "maps" / "astro.quality-map.jpg"
    cli = cv2.cvtColor(cv2.imread(str(written)), cv2.COLOR_BGR2RGB).astype(np.int16)
    response = c.post("/v1/explain", headers=auth, json={"paths": ["astro.jpg"]})
    assert response.status_code == 200, response.text
    with Image.open(io.BytesIO(response.content)) as im:
        served = np.asarray(im.convert("RGB")).astype(np.int16)
    height = round(1000 * EXPLAIN_MAX_SIDE / 1400) + BAR_HEIGHT
    assert served.shape == cli.shape == (height, EXPLAIN_MAX_SIDE, 3)
    assert np.abs(served - cli).mean() < 1.0  # one renderer (up to float rounding of the model's threads)
    assert abs(float(response.headers["x-quality-mean"]) - _record_mean(result.stdout)) < 0.2


def _record_mean(stdout: str) -> float:
    import json

    start = stdout.index("{")
    return float(json.loads(stdout[start:])["images"][0]["explanation"]["mean"])
