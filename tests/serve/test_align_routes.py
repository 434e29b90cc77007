"""POST /v1/tag and /v1/describe with the shipped alignment heads."""

from __future__ import annotations

import jsonschema
import numpy as np
import pytest

from artlens.schemas import read_schema

from .conftest import png

pytest.importorskip("fastapi")
pytestmark = [pytest.mark.weights, pytest.mark.slow]


def _image(colour) -> bytes:
    rgb = np.full((96, 128, 3), 255, np.uint8)
    rgb[24:72, 32:96] = colour
    return png(rgb)


def test_tag_uploads_and_a_bad_file(client, auth):
    http, _ = client
    files = [("files", ("red.png", _image((220, 30, 30)), "image/png")),
             ("files", ("broken.png", b"\x89PNG not really", "image/png"))]
    answer = http.post("/v1/tag", files=files, data={"top_k": "3", "vocabulary": "red, blue, green"},
                       headers=auth)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    jsonschema.validate(report, read_schema("tag"))
    assert [im["path"] for im in report["images"]] == ["red.png"]
    assert len(report["images"][0]["tags"]) == 3 and report["vocabulary_size"] == 3
    assert [e["path"] for e in report["errors"]] == ["broken.png"]


def test_tag_refuses_bad_fields(client, auth):
    http, _ = client
    files = [("files", ("red.png", _image((220, 30, 30)), "image/png"))]
    answer = http.post("/v1/tag", files=files, data={"threshold": "2"}, headers=auth)
    assert answer.status_code == 422 and "threshold" in answer.json()["error"]["message"]


def test_describe_one_upload(client, auth):
    http, _ = client
    files = [("files", ("blue.png", _image((40, 80, 210)), "image/png"))]
    answer = http.post("/v1/describe", files=files, headers=auth)
    assert answer.status_code == 200, answer.text
    record = answer.json()
    jsonschema.validate(record, read_schema("describe"))
    assert record["path"] == "blue.png"
    assert any(c["name"] == "blue" for c in record["palette"])
