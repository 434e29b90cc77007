"""Hostile uploads: parts over the limit stop being read at the limit, parsing is bounded, JSON bodies are
read bounded, decompression bombs of every size are 413, and a batch answers per file."""

from __future__ import annotations

import asyncio
import os
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

pytest.importorskip("fastapi")

from .conftest import api_error, png, wait_job

MB = 1024 * 1024


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with a few bytes of data (a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


def _stream(app, path: str, headers: dict[str, str], body) -> httpx.Response:
    """POST an async iterator ``body`` chunk by chunk (no Content-Length): the app reads it as it goes."""
    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.post(path, content=body, headers=headers)

    return _run(post())


def _run(coroutine):
    """Run ``coroutine`` to its end on a new event loop in another thread (the browser tests may leave one
    running in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=120)


def _image(seed: int = 0) -> bytes:
    return png(np.random.default_rng(seed).integers(0, 255, (128, 128, 3), dtype=np.uint8))


def test_an_oversize_part_is_refused_at_the_limit_not_after_spooling(make_client, tmp_path) -> None:
    c, token = make_client(max_file_bytes=1 * MB, max_files=16)
    sent = [0]

    async def body():
        yield (b'--B\r\nContent-Disposition: form-data; name="files"; filename="huge.jpg"\r\n'
               b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff")
        chunk = b"\0" * (256 * 1024)
        for _ in range(60):  # 15 MB offered, under the request's limit of 16 files x 1 MB
            sent[0] += len(chunk)
            yield chunk
        yield b"\r\n--B--\r\n"

    response = _stream(c.app, "/v1/assess", {"Authorization": f"Bearer {token}",
                                              "Content-Type": "multipart/form-data; boundary=B"}, body())
    error = api_error(response, 413, "file_too_large")
    assert error["message"].startswith("huge.jpg: more than the limit of 1048576 bytes")
    assert sent[0] <= 2 * MB  # reading stopped at the limit
    assert list((tmp_path / "uploads").iterdir()) == []  # nothing left spooled


def test_concurrent_upload_parsing_is_bounded(make_client) -> None:
    c, token = make_client(max_parallel_uploads=1, upload_wait_s=0.3)
    app = c.app
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=B"}
    image = _image()

    async def slow_body():
        yield b'--B\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n' + image[:100]
        await asyncio.sleep(1.0)  # holds the only parsing slot meanwhile
        yield image[100:] + b"\r\n--B--\r\n"

    async def fast_body():
        yield b'--B\r\nContent-Disposition: form-data; name="files"; filename="b.png"\r\n\r\n' + image
        yield b"\r\n--B--\r\n"

    async def both() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            slow = asyncio.create_task(client.post("/v1/assess", content=slow_body(), headers=headers))
            await asyncio.sleep(0.1)
            fast = await client.post("/v1/assess", content=fast_body(), headers=headers)
            return await slow, fast

    slow, fast = _run(both())
    assert slow.status_code == 200, slow.text
    api_error(fast, 429, "busy")
    assert fast.headers["Retry-After"] == "2"


def test_json_bodies_are_read_bounded(make_client, root) -> None:
    c, token = make_client(max_json_bytes=1000)
    auth = {"Authorization": f"Bearer {token}"}
    big = b'{"paths": ["' + b"a" * 2000 + b'"]}'
    api_error(c.post("/v1/assess", content=big, headers={**auth, "Content-Type": "application/json"}),
              413, "request_too_large")
    sent = [0]

    async def chunked():
        for _ in range(100):
            sent[0] += 100
            yield b" " * 100

    api_error(_stream(c.app, "/v1/assess", {**auth, "Content-Type": "application/json"}, chunked()),
              413, "request_too_large")
    assert sent[0] <= 1200
    (root / "a.png").write_bytes(_image())
    ok = c.post("/v1/assess", json={"paths": ["a.png"]}, headers=auth)
    assert ok.status_code == 200 and ok.json()["summary"]["assessed"] == 1


@pytest.mark.parametrize("side", [8_000, 14_000, 20_000, 60_000], ids=lambda s: f"{s}px")
def test_decompression_bombs_of_every_size_are_413(client, auth, side: int) -> None:
    c, _token = client
    response = c.post("/v1/assess", files={"files": ("bomb.png", png_header(side, side), "image/png")},
                      headers=auth)
    error = api_error(response, 413, "too_many_pixels")
    assert f"{side} x {side} pixels" in error["message"]


def test_a_batch_answers_per_file(client, auth) -> None:
    c, _token = client
    files = [("files", ("good.png", _image(), "image/png")),
             ("files", ("notes.jpg", b"just some text", "image/jpeg")),
             ("files", ("bomb.png", png_header(20_000, 20_000), "image/png")),
             ("files", ("other.png", _image(1), "image/png"))]
    response = c.post("/v1/assess", files=files, headers=auth)
    assert response.status_code == 200, response.text
    report = response.json()
    assert [im["path"] for im in report["images"]] == ["good.png", "other.png"]
    assert [e["path"] for e in report["errors"]] == ["notes.jpg", "bomb.png"]
    assert report["errors"][0]["error"].startswith("notes.jpg: not an image")
    assert "more than the limit" in report["errors"][1]["error"]
    assert report["summary"]["errors"] == 2 and report["summary"]["total"] == 4
    only_bad = c.post("/v1/assess", files=[files[1]], headers=auth)  # nothing to assess: the file's error
    api_error(only_bad, 422, "not_an_image")
    queued = c.post("/v1/assess/jobs", files=files, headers=auth)  # the same batch as a job
    assert queued.status_code == 202, queued.text
    assert wait_job(c, auth, queued.json()["job"]["id"])["status"] == "done"
    job_report = c.get(f"/v1/results/{queued.json()['job']['id']}", headers=auth).json()
    assert [e["path"] for e in job_report["errors"]] == ["notes.jpg", "bomb.png"]
    assert len(job_report["images"]) == 2


def test_the_pixels_of_one_request_have_a_budget(make_client) -> None:
    c, token = make_client(max_request_pixels=128 * 128 * 2)
    files = [("files", (f"{i}.png", _image(i), "image/png")) for i in range(3)]
    api_error(c.post("/v1/assess", files=files, headers={"Authorization": f"Bearer {token}"}),
              413, "too_many_pixels")
    assert c.post("/v1/assess", files=files[:2], headers={"Authorization": f"Bearer {token}"}
                  ).status_code == 200


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_under_an_allowed_root_is_an_error_not_a_hang(client, auth, root) -> None:
    c, _token = client
    (root / "a.png").write_bytes(_image())
    os.mkfifo(root / "x.jpg")
    result: list = []
    worker = threading.Thread(target=lambda: result.append(c.post("/v1/assess", json={"paths": ["."]},
                                                                  headers=auth)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # unblock the reader so the test run can end, then fail
        with open(root / "x.jpg", "wb"):
            pass
        pytest.fail("the request hung on a named pipe")
    report = result[0].json()
    assert result[0].status_code == 200
    assert report["summary"]["assessed"] == 1
    assert [e["path"] for e in report["errors"]] == [str(root / "x.jpg")]
    assert "named pipe" in report["errors"][0]["error"]
