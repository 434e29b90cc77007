"""POST /v1/write: a job with the shipped poetry LSTM, JSON or multipart with a picture; bad input is a
4xx."""

from __future__ import annotations

import io
import json

import jsonschema
import numpy as np
import pytest
from PIL import Image

from artlens.schemas import read_schema
from artlens.text import Grounding

pytest.importorskip("fastapi")


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def result(finished_job):
    """``result(client, auth, response)`` -> the finished job's record (the job must succeed)."""

    def get(client, auth, response) -> dict:
        assert response.status_code == 202, response.text
        job = finished_job(client, auth, response.json()["job"]["id"], timeout=120)
        assert job["status"] == "done", job
        return client.get(f"/v1/results/{job['id']}", headers=auth).json()

    return get


def test_write_a_poem_with_the_shipped_style_model(service, result) -> None:
    client, auth = service
    record = result(client, auth, client.post("/v1/write", headers=auth, json={
        "kind": "poem", "about": "the harbour", "style": "poetry", "lines": 3, "seed": 2}))
    jsonschema.validate(record, read_schema("write"))
    assert record["engine"] == "lstm" and record["text"].startswith("The harbour")


def test_write_about_an_uploaded_picture(service, result, monkeypatch) -> None:
    seen = Grounding(labels=[{"label": "boathouse", "p": 0.5}], palette=[])
    monkeypatch.setattr("artlens.text.writing.ground_image", lambda image: seen)
    buffer = io.BytesIO()
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(buffer, "PNG")
    client, auth = service
    record = result(client, auth, client.post(
        "/v1/write", headers=auth, data={"kind": "label", "style": "poetry", "lines": "2"},
        files={"image": ("boat.png", buffer.getvalue(), "image/png")}))
    assert record["kind"] == "label" and record["grounding"]["labels"][0]["label"] == "boathouse"
    assert record["text"].startswith("Boathouse")


def _events(response) -> list[tuple[str, dict]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.strip().split("\n\n"):
        if block.startswith(":"):  # an SSE comment: the stream's opening line
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_a_streamed_poem_by_the_lstm_arrives_piece_by_piece(service, tiny_text_model, monkeypatch) -> None:
    from artlens.text import WriteRequest, load_text_model, write

    model = load_text_model(tiny_text_model)
    monkeypatch.setattr("artlens.text.model.load_text_model", lambda style: model)
    client, auth = service
    body = {"kind": "poem", "about": "the harbour", "style": "poetry", "lines": 3, "seed": 2, "stream": True}
    events = _events(client.post("/v1/write", headers=auth, json=body))
    names = [name for name, _ in events]
    assert names[-1] == "record" and set(names[:-1]) == {"text"} and len(names) > 10
    record = events[-1][1]
    jsonschema.validate(record, read_schema("write"))
    streamed = "".join(data["text"] for name, data in events[:-1])
    assert streamed.startswith("The harbour\n") and record["text"] == streamed.strip()
    same = write(WriteRequest(kind="poem", about="the harbour", style="poetry", lines=3, seed=2))
    assert record["text"] == same["text"]


def test_a_streamed_text_by_the_prompted_model(service, tiny_llama, monkeypatch) -> None:
    from artlens.text import load_prompted

    monkeypatch.setattr("artlens.text.prompted.load_prompted", lambda path=None: load_prompted(tiny_llama))
    client, auth = service
    events = _events(client.post("/v1/write", headers=auth, json={"kind": "caption", "about": "a vase",
                                                                  "max_tokens": 12, "stream": True}))
    assert events[-1][0] == "record" and events[-1][1]["engine"] == "prompted"
    assert [name for name, _ in events[:-1]] == ["text"] * (len(events) - 1)
    streamed = "".join(data["text"] for _, data in events[:-1])
    assert events[-1][1]["text"] == streamed.strip()


def test_a_failure_inside_a_stream_is_an_error_event(service, monkeypatch) -> None:
    from artlens.text import TextModelError

    def broken(style):
        raise TextModelError("poetry: the model is damaged")

    monkeypatch.setattr("artlens.text.model.load_text_model", broken)
    client, auth = service
    events = _events(client.post("/v1/write", headers=auth, json={"style": "poetry", "stream": True}))
    assert events == [("error", {"message": "poetry: the model is damaged"})]
    # the slot is given back: the next stream runs
    events = _events(client.post("/v1/write", headers=auth, json={"style": "poetry", "stream": True}))
    assert events[0][0] == "error"


def test_bad_requests_are_4xx_naming_the_problem(service) -> None:
    client, auth = service
    assert client.post("/v1/write", headers=auth, json={"kind": "sonnet"}).status_code == 422
    assert client.post("/v1/write", headers=auth, json={"style": "/etc"}).status_code == 422
    bad = client.post("/v1/write", headers=auth, data={"kind": "poem"},
                      files={"image": ("x.png", b"not an image", "image/png")})
    assert bad.status_code == 422 and "x.png" in bad.json()["error"]["message"]


def test_a_stream_never_read_gives_its_slot_back() -> None:
    """A client that leaves before the first event: the server drops the stream unread, and the slot is
    free again (otherwise a few such clients would leave every later stream a 429)."""
    import gc

    from artlens.serve.text_jobs import WriteBody
    from artlens.serve.text_stream import MAX_STREAMS, open_write_stream

    body = WriteBody(style="poetry", stream=True)
    for _ in range(3 * MAX_STREAMS):
        stream = open_write_stream(body)
        del stream
        gc.collect()
    held = [open_write_stream(body) for _ in range(MAX_STREAMS)]
    assert all(next(s) == b": writing\n\n" for s in held)
    del held
    gc.collect()
