"""Hostile clients against the service: metrics labels from a closed set, rate limits, tokens kept out of the
access log, client disconnects logged without a traceback."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("fastapi")

from artlens.serve.access_log import RedactTokens, redact_target
from artlens.serve.ratelimit import TokenBuckets

from .conftest import api_error


def test_unknown_methods_and_routes_add_no_metric_series(make_client) -> None:
    c, token = make_client()
    auth = {"Authorization": f"Bearer {token}"}
    for i in range(200):
        c.request(f"X{i}QQ", f"/nope/{i}")
        c.request(f"M{i}", "/v1/assess")
    text = c.get("/metrics", headers=auth).text
    series = [line for line in text.splitlines() if line.startswith("artlens_http_requests_total{")]
    methods = {re.search(r'method="([^"]*)"', line).group(1) for line in series}
    routes = {re.search(r'route="([^"]*)"', line).group(1) for line in series}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in methods and "unmatched" in routes
    assert len(series) < 10 and len(text) < 20_000


def test_token_buckets_refill_and_forget_the_oldest() -> None:
    buckets = TokenBuckets(rate=2.0, burst=3.0, max_keys=2)
    assert [buckets.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", now=0.0) == pytest.approx(0.5)
    assert buckets.take("a", now=0.5) == 0.0  # one token back after 1/rate seconds
    buckets.take("b", now=0.5)
    buckets.take("c", now=0.5)  # "a" is the least recently used: forgotten, so full again
    assert [buckets.take("a", now=0.5) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert TokenBuckets(rate=0, burst=1).take("x") == 0.0  # off


def test_rate_limit_per_key_with_retry_after(make_client) -> None:
    c, token = make_client(rate_per_key=1.0)  # bursts of 2
    auth = {"Authorization": f"Bearer {token}"}
    assert [c.get("/v1/models", headers=auth).status_code for _ in range(2)] == [200, 200]
    response = c.get("/v1/models", headers=auth)
    api_error(response, 429, "rate_limited")
    assert response.headers["Retry-After"] == "1"
    assert "with this API key" in response.json()["error"]["message"]
    other = c.app.state.keys.create("other")[0]  # another key has its own bucket
    assert c.get("/v1/models", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_rate_limit_per_address(make_client) -> None:
    c, _token = make_client(rate_per_address=2.0)  # bursts of 4
    statuses = [c.get("/healthz").status_code for _ in range(6)]
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429, 429]
    api_error(c.get("/healthz"), 429, "rate_limited")


def test_failed_authentication_is_limited_harder_and_valid_keys_still_pass(make_client) -> None:
    c, token = make_client(auth_failures_per_minute=5)
    wrong = {"Authorization": "Bearer alk_nope_nope"}
    statuses = [c.get("/v1/models", headers=wrong).status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    response = c.get("/v1/models")
    api_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 10  # 5 per minute: 12 s for the next attempt
    assert c.get("/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_access_log_filter_redacts_tokens() -> None:
    assert redact_target("/v1/models?token=alk_a_b&x=1") == "/v1/models?token=REDACTED&x=1"
    assert redact_target("/v1/jobs/1?API-Key=s3cret&access_token=t") == \
        "/v1/jobs/1?API-Key=REDACTED&access_token=REDACTED"
    assert redact_target("/v1/alk_abc_def") == "/v1/REDACTED"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/x?key=alk_1_2", "1.1", 200), None)
    assert RedactTokens().filter(record) and "alk_" not in record.getMessage()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_real_server_logs_no_token_and_no_traceback_on_a_disconnect(tmp_path) -> None:
    import httpx

    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "artlens", "serve", "--port", str(port), "--technical",
                               "--no-auth", "--db", str(tmp_path / "s.db")], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        httpx.get(f"{url}/v1/models?token=alk_abc_SECRET1&api_key=SECRET2")
        with socket.create_connection(("127.0.0.1", port)) as sock:  # leaves half-way through its upload
            sock.sendall(b"POST /v1/assess HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                         b"Content-Type: multipart/form-data; boundary=B\r\n\r\n--B\r\nContent-Disposition: "
                         b'form-data; name="files"; filename="a.jpg"\r\n\r\n' + b"\xff\xd8\xff" * 100)
            time.sleep(0.5)
        time.sleep(1.0)
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert "/v1/models?token=REDACTED&api_key=REDACTED" in log, log
    assert "SECRET" not in log
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log
