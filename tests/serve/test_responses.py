"""Every JSON answer of the service validates against the response model the OpenAPI document lists for it,
and the reports' models are the shipped JSON Schemas of :mod:`artlens.schemas`."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlens import weights

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
jsonschema = pytest.importorskip("jsonschema")

from artlens.schemas import read_schema  # noqa: E402
from artlens.serve.responses import openapi_schema  # noqa: E402

from .conftest import wait_job  # noqa: E402

needs_model = pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                                 reason="mobilenet_v2 weights not verified in the local cache")

#: The model each JSON operation answers with, and the shipped schema behind it (None: the service's own).
MODELS = {
    ("get", "/healthz"): ("Health", None), ("get", "/v1/models"): ("ModelsList", None),
    ("post", "/v1/assess"): ("AssessReport", "assess"), ("post", "/v1/assess/jobs"): ("JobAnswer", None),
    ("post", "/v1/classify"): ("ClassifyReport", "classify"), ("post", "/v1/stylize"): ("JobAnswer", None),
    ("get", "/v1/style/presets"): ("PresetList", None), ("get", "/v1/jobs/{job_id}"): ("JobAnswer", None),
    ("post", "/v1/jobs/{job_id}/retry"): ("JobAnswer", None), ("get", "/v1/indexes"): ("IndexesList", None),
    ("get", "/v1/indexes/{name}/items"): ("IndexItems", None),
    ("post", "/v1/similar"): ("SimilarReport", "similar"),
    ("post", "/v1/duplicates"): ("DuplicatesReport", "duplicates"),
    ("post", "/v1/recommend"): ("RecommendReport", "recommend"),
    ("post", "/v1/compose"): ("JobAnswer", None), ("post", "/v1/harmonize"): ("JobAnswer", None),
    ("post", "/v1/market/value"): ("MarketValueReport", "market-value"),
    ("get", "/v1/market/trends"): ("MarketTrendsReport", "market-trends"),
    ("get", "/v1/market/status"): ("MarketStatus", None),
    ("get", "/v1/gans"): ("GansList", None), ("post", "/v1/generate"): ("JobAnswer", None),
    ("post", "/v1/tag"): ("TagReport", "tag"), ("post", "/v1/describe"): ("DescribeReport", "describe"),
    ("post", "/v1/search/text"): ("TextSearchReport", "textsearch"),
    ("post", "/v1/write"): ("JobAnswer", None)}
#: Operations whose success is not JSON (text, images, files).
NOT_JSON = {("get", "/metrics"), ("get", "/v1/results/{job_id}"), ("post", "/v1/explain"),
            ("get", "/v1/results/{job_id}/explanations/{name}"),
            ("get", "/v1/style/presets/{name}/preview"), ("get", "/v1/indexes/{name}/thumbnail"),
            ("get", "/v1/music/{job_id}/{name}"), ("get", "/v1/generate/{job_id}/grid")}


def _png(seed: int, size: tuple[int, int] = (96, 72)) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def _success(spec: dict, method: str, path: str) -> tuple[str, dict]:
    responses = spec["paths"][path][method]["responses"]
    status = next(code for code in responses if code.startswith("2"))
    return status, responses[status]


def _check(spec: dict, method: str, path: str, response) -> None:
    """The answer has the documented status and validates against the documented model (refs resolved)."""
    status, documented = _success(spec, method, path)
    assert str(response.status_code) == status, response.text
    schema = documented["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(response.json())
    shipped = MODELS[(method, path)][1]
    if shipped is not None:  # a report: also valid against the shipped schema itself ($defs and all)
        jsonschema.Draft202012Validator(read_schema(shipped)).validate(response.json())


@pytest.fixture
def spec(client, auth):
    return client[0].get("/openapi.json", headers=auth).json()


def test_the_openapi_document_lists_a_response_model_for_every_json_route(spec):
    operations = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert operations == set(MODELS) | NOT_JSON
    for (method, path), (model, shipped) in MODELS.items():
        _status, documented = _success(spec, method, path)
        schema = documented["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{model}"}
        if shipped is not None:
            assert spec["components"]["schemas"][model] == openapi_schema(shipped)
            assert spec["components"]["schemas"][model]["title"] == f"artlens.{shipped}/1"
    for method, path in NOT_JSON:
        _status, documented = _success(spec, method, path)
        assert "application/json" not in documented.get("content", {}) or path.startswith("/v1/results")


def test_inlined_schemas_have_no_references_left():
    for name in ("assess", "classify", "similar", "recommend", "duplicates"):
        assert "$ref" not in str(openapi_schema(name)) and "$defs" not in openapi_schema(name)


def test_service_answers_validate_against_their_models(client, auth, spec, root):
    c, _ = client
    _check(spec, "get", "/healthz", c.get("/healthz"))
    _check(spec, "get", "/v1/models", c.get("/v1/models", headers=auth))
    _check(spec, "get", "/v1/indexes", c.get("/v1/indexes", headers=auth))
    _check(spec, "get", "/v1/style/presets", c.get("/v1/style/presets", headers=auth))
    files = [("files", (f"{i}.png", _png(i), "image/png")) for i in range(2)]
    files.append(("files", ("bad.png", b"not an image at all", "image/png")))
    _check(spec, "post", "/v1/assess", c.post("/v1/assess", headers=auth, files=files))
    (root / "a.png").write_bytes(_png(7))
    queued = c.post("/v1/assess/jobs", headers=auth, json={"paths": ["a.png"], "policy": "amazon"})
    _check(spec, "post", "/v1/assess/jobs", queued)
    job = wait_job(c, auth, queued.json()["job"]["id"])
    assert job["status"] == "done", job
    _check(spec, "get", "/v1/jobs/{job_id}", c.get(f"/v1/jobs/{job['id']}", headers=auth))
    report = c.get(f"/v1/results/{job['id']}", headers=auth)
    jsonschema.Draft202012Validator(read_schema("assess")).validate(report.json())


def test_presets_list_every_preset_with_a_preview_url(client, auth):
    presets = client[0].get("/v1/style/presets", headers=auth).json()["presets"]
    assert [p["name"] for p in presets] == [f"preset_{i:02d}" for i in range(26)]
    assert presets[3]["preview"] == "/v1/style/presets/preset_03/preview"
    missing = client[0].get("/v1/style/presets/preset_99/preview", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_a_preset_preview_is_rendered_once_then_served_from_disk(make_client, monkeypatch, tmp_path):
    import artlens.style.transfer as transfer
    from artlens.serve.style_previews import preview_path

    calls = []

    def fake(content, style, method, *, size):
        calls.append((Path(content).name, style, method, size))
        return Image.new("RGB", (size, size * 3 // 4), (200, 80, 40))

    monkeypatch.setattr(transfer, "stylize", fake)
    monkeypatch.setenv("ARTLENS_CACHE", str(tmp_path / "cache"))
    c, token = make_client()
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        response = c.get("/v1/style/presets/preset_05/preview", headers=auth)
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(response.content)) as im:
            assert im.format == "JPEG" and im.size == (192, 144)
    assert calls == [("photo-chelsea.jpg", "preset:preset_05", "fast", 192)]  # once: then from the disk
    cached = preview_path("preset_05")
    assert cached.is_relative_to(tmp_path / "cache") and cached.read_bytes() == response.content
    again, token = make_client()  # another server (or process) on the machine: the file is reused
    assert again.get("/v1/style/presets/preset_05/preview",
                     headers={"Authorization": f"Bearer {token}"}).content == response.content
    assert len(calls) == 1
