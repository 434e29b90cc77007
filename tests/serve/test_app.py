"""The HTTP service end to end through FastAPI's test client: auth, limits, uploads, paths, metrics."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from PIL import Image

from artlens.assess.report import validate_report

from .conftest import api_error as _error

pytest.importorskip("fastapi")
pytest.importorskip("httpx")


def jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


# -- auth ----------------------------------------------------------------------------------------------------

GUARDED = [("get", "/metrics"), ("get", "/openapi.json"), ("get", "/v1/models"), ("post", "/v1/assess"),
           ("post", "/v1/classify"), ("post", "/v1/stylize"), ("get", "/v1/jobs/{job_id}"),
           ("get", "/v1/results/{job_id}"), ("post", "/v1/similar"), ("post", "/v1/recommend"),
           ("get", "/v1/indexes"), ("post", "/v1/explain"), ("post", "/v1/assess/jobs"),
           ("post", "/v1/jobs/{job_id}/retry"), ("post", "/v1/duplicates"), ("get", "/v1/style/presets"),
           ("get", "/v1/style/presets/{name}/preview"), ("get", "/v1/indexes/{name}/items"),
           ("get", "/v1/indexes/{name}/thumbnail"), ("get", "/v1/results/{job_id}/explanations/{name}"),
           ("post", "/v1/compose"), ("post", "/v1/harmonize"), ("get", "/v1/music/{job_id}/{name}"),
           ("get", "/v1/gans"), ("post", "/v1/generate"), ("get", "/v1/generate/{job_id}/grid"),
           ("post", "/v1/market/value"), ("get", "/v1/market/trends"), ("get", "/v1/market/status"),
           ("post", "/v1/tag"), ("post", "/v1/describe"), ("post", "/v1/search/text"), ("post", "/v1/write")]


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_every_route_but_healthz_needs_a_key(client, method, path):
    c, _token = client
    for headers in ({}, {"Authorization": "Bearer alk_00000000_nope"}, {"Authorization": "Basic abc"}):
        response = getattr(c, method)(path, headers=headers)
        _error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"


def test_guarded_list_covers_every_openapi_route(client, auth):
    c, _ = client
    spec = c.get("/openapi.json", headers=auth).json()
    listed = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert listed - {("get", "/healthz")} <= set(GUARDED)
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_healthz_is_open(client):
    response = client[0].get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_key_accepted_then_revoked(client, auth):
    c, token = client
    assert c.get("/v1/models", headers=auth).status_code == 200
    c.app.state.keys.revoke(token.split("_")[1])
    _error(c.get("/v1/models", headers=auth), 401, "unauthorized")


def test_no_auth_only_on_loopback(make_client):
    from artlens.errors import ConfigError
    from artlens.serve.settings import ServeSettings

    c, _ = make_client(auth=False)
    assert c.get("/v1/models").status_code == 200
    with pytest.raises(ConfigError, match="loopback"):
        ServeSettings(host="0.0.0.0", auth=False).check()


def test_keys_stored_hashed(client, tmp_path):
    _c, token = client
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("serve.db*"))
    assert token.encode() not in blob and token.split("_")[1].encode() in blob


# -- uploads -------------------------------------------------------------------------------------------------

def test_upload_gives_a_valid_report(client, auth, photos):
    c, _ = client
    files = [("files", ("shop/astronaut.jpg", jpeg(photos["astronaut"]), "image/jpeg")),
             ("files", ("broken.jpg", jpeg(photos["coffee"])[:3000], "image/jpeg"))]
    response = c.post("/v1/assess", headers=auth, files=files, data={"policy": "amazon"})
    assert response.status_code == 200, response.text
    report = response.json()
    validate_report(report)
    assert report["policy"]["name"] == "amazon"
    assert [im["path"] for im in report["images"]] == ["astronaut.jpg"]  # client's name, folders dropped
    assert report["images"][0]["verdict"] in {"pass", "review", "fail"}
    assert [e["path"] for e in report["errors"]] == ["broken.jpg"]  # per file, not a 500
    assert "artlens-upload" not in response.text  # the private folder is not revealed
    assert not any((c.app.state.settings.upload_dir).iterdir())  # and it is gone


def test_text_named_jpg_is_refused(client, auth):
    response = client[0].post("/v1/assess", headers=auth,
                              files=[("files", ("photo.jpg", b"just some text\n" * 20, "image/jpeg"))])
    assert "photo.jpg" in _error(response, 422, "not_an_image")["message"]


def test_policy_must_be_a_preset(client, auth, photos, tmp_path):
    files = [("files", ("a.jpg", jpeg(photos["coins"]), "image/jpeg"))]
    for policy in ("no-such-preset", str(tmp_path / "serve.db")):
        _error(client[0].post("/v1/assess", headers=auth, files=files, data={"policy": policy}), 422,
               "bad_policy")


def test_limits_answer_413(make_client, photos):
    c, token = make_client(max_file_bytes=20_000, max_files=2, max_pixels=100_000)
    auth = {"Authorization": f"Bearer {token}"}
    small = jpeg(np.zeros((64, 64, 3), np.uint8))
    big = jpeg(photos["astronaut"])  # 512 x 512, over 20 kB
    assert len(big) > 20_000
    _error(c.post("/v1/assess", headers=auth, files=[("files", ("a.jpg", big, "image/jpeg"))]), 413,
           "file_too_large")
    _error(c.post("/v1/assess", headers=auth, files=[("files", (f"{i}.jpg", small, "image/jpeg"))
                                                     for i in range(3)]), 413, "too_many_files")
    wide = jpeg(np.zeros((8, 20_000, 3), np.uint8))  # 160,000 pixels in a few kB
    _error(c.post("/v1/assess", headers=auth, files=[("files", ("w.jpg", wide, "image/jpeg"))]), 413,
           "too_many_pixels")
    _error(c.post("/v1/assess", headers={**auth, "Content-Type": "application/json"},
                  content=b"x" * (3 * 1024 * 1024)), 413, "request_too_large")


def test_malformed_bodies_are_4xx_json(client, auth):
    c, _ = client
    no_boundary = {**auth, "Content-Type": "multipart/form-data"}
    _error(c.post("/v1/assess", headers=no_boundary, content=b"--zz"), 400, "bad_multipart")
    garbage = c.post("/v1/assess", headers={**auth, "Content-Type": "multipart/form-data; boundary=zz"},
                     content=b"--zz\r\ngarbage")
    _error(garbage, garbage.status_code)
    assert 400 <= garbage.status_code < 500
    _error(c.post("/v1/assess", headers={**auth, "Content-Type": "application/json"}, content=b"{"), 422)
    _error(c.post("/v1/assess", headers={**auth, "Content-Type": "text/plain"}, content=b"hi"), 415)
    _error(c.post("/v1/assess", headers=auth, json={"paths": []}), 422)


# -- paths ---------------------------------------------------------------------------------------------------

def _write(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg(rgb))


def test_paths_inside_the_root_are_assessed(client, auth, root, photos):
    _write(root / "a" / "cat.jpg", photos["chelsea"])
    _write(root / "a" / "coins.jpg", photos["coins"])
    response = client[0].post("/v1/assess", headers=auth, json={"paths": ["a"], "policy": "general"})
    assert response.status_code == 200, response.text
    report = response.json()
    validate_report(report)
    assert sorted(os.path.basename(im["path"]) for im in report["images"]) == ["cat.jpg", "coins.jpg"]


def test_paths_escaping_the_root_are_refused(client, auth, root, photos):
    outside = root.parent / "outside"
    _write(outside / "secret.jpg", photos["rocket"])
    (root / "link.jpg").symlink_to(outside / "secret.jpg")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    c, _ = client
    for path in ("../outside/secret.jpg", str(root / ".." / "outside" / "secret.jpg"), "link.jpg",
                 str(outside / "secret.jpg"), "linkdir/secret.jpg", "/etc/passwd"):
        _error(c.post("/v1/assess", headers=auth, json={"paths": [path]}), 403)
    # a folder inside the root: the file behind the symlinked folder is left out and listed as refused
    _write(root / "ok.jpg", photos["coffee"])
    report = c.post("/v1/assess", headers=auth, json={"paths": ["."]}).json()
    validate_report(report)
    assert [os.path.basename(im["path"]) for im in report["images"]] == ["ok.jpg"]
    assert report["errors"] and all("outside" in e["error"] for e in report["errors"])


def test_paths_need_an_allowed_root(make_client):
    c, token = make_client(allow_roots=())
    _error(c.post("/v1/assess", headers={"Authorization": f"Bearer {token}"}, json={"paths": ["x.jpg"]}), 403,
           "paths_disabled")


# -- metrics and errors --------------------------------------------------------------------------------------

def test_metrics_count_requests(client, auth):
    c, _ = client
    c.get("/healthz")
    c.get("/v1/models")
    text = c.get("/metrics", headers=auth).text
    assert 'artlens_http_requests_total{method="GET",route="/healthz",status="200"} 1' in text
    assert 'artlens_http_requests_total{method="GET",route="/v1/models",status="401"} 1' in text
    assert 'artlens_http_errors_total{code="unauthorized"} 1' in text
    assert '# TYPE artlens_http_request_duration_seconds histogram' in text
    assert 'artlens_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 1' in text


def test_unexpected_errors_are_generic_500(client, auth, monkeypatch):
    import artlens.serve.work as work_module

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(work_module, "policy_named", boom)
    files = [("files", ("a.jpg", jpeg(np.zeros((32, 32, 3), np.uint8)), "image/jpeg"))]
    response = client[0].post("/v1/assess", headers=auth, files=files)
    assert "secret internal detail" not in _error(response, 500, "internal_error")["message"]


def test_no_cors_headers(client):
    response = client[0].get("/healthz", headers={"Origin": "https://evil.example"})
    assert not any(h.lower().startswith("access-control-") for h in response.headers)
