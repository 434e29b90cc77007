"""Load and restart check of ``artlens serve``, on 127.0.0.1 only, bounded in count and time.

Starts ``artlens serve`` as a child process on a fresh temporary database (a new API key made with the key
store, never printed), then:

1. **Load**: ``--clients`` threads each POST ``/v1/assess`` uploads of 1080x800 JPEG photos for
   ``--duration`` seconds, one request after the other. Every upload's bytes are unique (a JPEG comment
   segment with a counter; the pixels are untouched), so the results store never answers from its cache
   unless ``--same-bytes`` is given. Reports requests/s, images/s, p50/p95/p99 latency and errors by
   status, and checks that the server's ``/metrics`` counters agree with what the clients saw.
2. **Hostile clients**: for ``--hostile-seconds``, the same assess clients run while an attacker connecting
   from 127.0.0.2 (its own address, so the per-address rate limit applies to it alone) with its own key
   sends, one thread each: requests with made-up HTTP methods to unknown paths, wrong tokens in bursts of 20,
   40 MB file parts (the limit is 25 MB), 100-byte PNG bombs claiming 30000 x 30000 pixels and a 12 MB JSON
   body (chunked). Reports what the attacker sent and got, any 5xx answer (to anyone), the assess clients'
   latency meanwhile, and the server's resident memory before and after (``VmRSS``).
3. **Restart**: queues fast style-transfer jobs (a preset), waits for a first wave to finish and keeps its
   result bytes (SHA-256), queues a second wave, and while assess clients keep posting and jobs are still
   queued or running, kills the server with SIGKILL and starts it again on the same database and port. Then
   checks that no job is missing, every job seen done before the kill is still done with the same PNG
   bytes, and the interrupted ones read failed with ``retriable: true``; then retries them
   (``POST /v1/jobs/{id}/retry``, when the server has that route) and checks they end done. Connection
   errors during the outage are counted, not hidden.

    .venv/bin/python benchmarks/serve_load.py [--clients 4] [--duration 60] [--hostile-seconds 30]
        [--technical] [--out r.json]

Every child process is killed (its whole process group) on exit, on an error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _photos import DATA, PACKAGES, benchmark_photos, crop_to

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
PHOTO_SIZE = (1080, 800)
START_TIMEOUT_S = 120.0  # model loading on a busy 2-core machine
REQUEST_TIMEOUT_S = 120.0


# -- images -------------------------------------------------------------------------------------------------

def load_photos(count: int) -> list[bytes]:
    """``count`` 1080x800 JPEG photos: Debian wallpapers from ``.data/`` (see ``_photos.py``) when they are
    there, otherwise scikit-image's photographs cropped to the same size."""
    width, height = PHOTO_SIZE
    cached = DATA / f"bench-{width}x{height}"
    made = sorted(cached.glob("*.jpg")) if cached.is_dir() else []
    if len(made) < count and all((DATA / p).is_dir() for p in PACKAGES):
        made = benchmark_photos(count, width, height)
    if made:
        return [made[i % len(made)].read_bytes() for i in range(count)]
    from skimage import data

    photos = []
    for name in ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field"):
        rgb = getattr(data, name)()
        rgb = rgb[..., :3] if rgb.ndim == 3 else np.dstack([rgb] * 3)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(crop_to(rgb, width, height), cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, 92])
        if ok:
            photos.append(buf.tobytes())
    return [photos[i % len(photos)] for i in range(count)]


def unique_jpeg(jpeg: bytes, tag: str) -> bytes:
    """The same picture with a JPEG comment (COM) segment after SOI, so its bytes (and SHA-256) differ."""
    text = f"artlens serve_load {tag}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


# -- the server ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``artlens serve`` child process in its own process group, logging to a file."""

    workdir: Path
    port: int
    technical: bool
    max_queued_jobs: int
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)  # seconds from spawn to a healthy /healthz

    @property
    def db(self) -> Path:
        return self.workdir / "artlens.db"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> float:
        exe = Path(sys.executable).with_name("artlens")
        cmd = [str(exe) if exe.is_file() else sys.executable, *([] if exe.is_file() else ["-m", "artlens"]),
               "serve", "--host", HOST, "--port", str(self.port), "--db", str(self.db),
               "--job-workers", "1", "--max-queued-jobs", str(self.max_queued_jobs),
               *(["--technical"] if self.technical else [])]
        uploads = self.workdir / "uploads"
        uploads.mkdir(exist_ok=True)
        env = {**os.environ, "TMPDIR": str(uploads), "PYTHONUNBUFFERED": "1"}
        log = (self.workdir / "server.log").open("ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir,
                                     start_new_session=True)
        log.close()
        deadline = started + START_TIMEOUT_S
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"artlens serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    self.starts.append(time.perf_counter() - started)
                    return self.starts[-1]
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"artlens serve did not answer /healthz in {START_TIMEOUT_S:.0f} s:\n"
                           f"{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the whole process group, then reap it."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "server.log"
        text = path.read_text(errors="replace") if path.is_file() else ""
        return "\n".join(text.splitlines()[-lines:])


def make_key(db: Path) -> str:
    """A fresh API key in the server's database (the token stays in this process; never printed)."""
    from artlens.serve.auth import KeyStore

    with KeyStore(db) as keys:
        token, _key = keys.create("serve_load benchmark")
    return token


# -- metrics ------------------------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` as ``{(name, labels): value}``."""
    response = polite(client, "GET", "/metrics")
    response.raise_for_status()
    samples = {}
    for line in response.text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = frozenset(_LABEL.findall(match.group(2) or ""))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def metric(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


# -- assess clients -----------------------------------------------------------------------------------------

@dataclass
class Outcome:
    started: float  # perf_counter
    latency: float
    status: str  # an HTTP status ("200") or a transport error's class name
    images: int = 0


class AssessClients:
    """``n`` threads posting ``/v1/assess`` one request after another until :meth:`stop` or a deadline."""

    def __init__(self, url: str, token: str, photos: list[bytes], n: int, batch: int, same_bytes: bool,
                 name: str) -> None:
        self.url, self.token, self.photos, self.n, self.batch = url, token, photos, n, batch
        self.same_bytes, self.name = same_bytes, name
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counter = 0

    def _next_files(self) -> list[tuple[str, tuple[str, bytes, str]]]:
        with self._lock:
            first = self._counter
            self._counter += self.batch
        files = []
        for i in range(first, first + self.batch):
            jpeg = self.photos[i % len(self.photos)]
            data = jpeg if self.same_bytes else unique_jpeg(jpeg, f"{self.name}-{i}")
            files.append(("files", (f"photo-{i:05d}.jpg", data, "image/jpeg")))
        return files

    def _loop(self, deadline: float) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
            while not self._stop.is_set() and time.perf_counter() < deadline:
                files = self._next_files()
                started = time.perf_counter()
                try:
                    response = client.post("/v1/assess", files=files)
                    status = str(response.status_code)
                    images = len(response.json().get("images", [])) if response.status_code == 200 else 0
                except httpx.TransportError as exc:
                    status, images = type(exc).__name__, 0
                outcome = Outcome(started, time.perf_counter() - started, status, images)
                with self._lock:
                    self.outcomes.append(outcome)
                if status != "200":
                    time.sleep(0.05)  # a refused connection fails at once: do not spin

    def start(self, seconds: float) -> AssessClients:
        deadline = time.perf_counter() + seconds
        self._threads = [threading.Thread(target=self._loop, args=(deadline,), daemon=True,
                                          name=f"{self.name}-{i}") for i in range(self.n)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.join()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_s": None, "p95_s": None, "p99_s": None, "mean_s": None, "max_s": None}
    arr = np.asarray(latencies)
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"p50_s": round(float(p50), 3), "p95_s": round(float(p95), 3), "p99_s": round(float(p99), 3),
            "mean_s": round(float(arr.mean()), 3), "max_s": round(float(arr.max()), 3)}


# -- phase 1: load ------------------------------------------------------------------------------------------

def load_phase(server: Server, token: str, photos: list[bytes], args: argparse.Namespace,
               client: httpx.Client) -> dict[str, Any]:
    for i in range(2):  # imports and model loading, outside the figures
        data = unique_jpeg(photos[i % len(photos)], f"warm-{i}")
        client.post("/v1/assess", files=[("files", (f"warm-{i}.jpg", data, "image/jpeg"))])
    before = scrape(client)
    clients = AssessClients(server.url, token, photos, args.clients, args.batch, args.same_bytes, "load")
    started = time.perf_counter()
    clients.start(args.duration).join()
    elapsed = time.perf_counter() - started
    after = scrape(client)
    outcomes = clients.outcomes
    ok = [o for o in outcomes if o.status == "200"]
    by_status = Counter(o.status for o in outcomes)
    statuses = {ls_value(k, "status") for k in after
                if k[0] == "artlens_http_requests_total" and ("route", "/v1/assess") in k[1]}
    server_counts = {s: n for s in sorted(x for x in statuses if x)
                     if (n := int(metric(after, "artlens_http_requests_total", route="/v1/assess", status=s)
                                  - metric(before, "artlens_http_requests_total", route="/v1/assess",
                                           status=s)))}
    server_images = int(metric(after, "artlens_images_total", operation="assess", outcome="ok")
                        - metric(before, "artlens_images_total", operation="assess", outcome="ok"))
    client_counts = {s: n for s, n in by_status.items() if s.isdigit()}
    return {
        "clients": args.clients, "batch": args.batch, "duration_s": round(elapsed, 1),
        "requests": len(outcomes), "ok": len(ok), "images": sum(o.images for o in ok),
        "requests_per_s": round(len(ok) / elapsed, 2),
        "images_per_s": round(sum(o.images for o in ok) / elapsed, 2),
        "latency": percentiles([o.latency for o in ok]),
        "errors": {s: n for s, n in sorted(by_status.items()) if s != "200"},
        "server_requests_by_status": server_counts, "server_images_ok": server_images,
        "metrics_agree": server_counts == client_counts and server_images == sum(o.images for o in ok),
    }


# -- phase 2: hostile clients alongside the load ------------------------------------------------------------

ATTACKER = "127.0.0.2"  # another loopback address: the per-address limit tells attacker and clients apart
MB = 1024 * 1024


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def png_bomb(side: int) -> bytes:
    """A 100-byte PNG whose header claims ``side`` x ``side`` pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def _oversize_part(megabytes: int):
    """A multipart body whose one file part is ``megabytes`` long, made as it is sent (chunked)."""
    yield (b'--B\r\nContent-Disposition: form-data; name="files"; filename="huge.jpg"\r\n\r\n'
           b"\xff\xd8\xff")
    for _ in range(megabytes):
        yield b"\0" * MB
    yield b"\r\n--B--\r\n"


def _big_json(megabytes: int):
    yield b'{"paths": ["'
    for _ in range(megabytes):
        yield b"a" * MB
    yield b'"]}'


def _attack(kind: str, client: httpx.Client, token: str, i: int) -> list[str]:
    """One round of attack ``kind``; the statuses (or transport errors) it got."""
    auth = {"Authorization": f"Bearer {token}"}
    if kind == "bad methods":
        requests = [client.build_request(f"X{i}Q{j}", f"/nope/{i}-{j}") for j in range(5)]
    elif kind == "wrong tokens (bursts of 20)":
        requests = [client.build_request("GET", "/v1/models", headers={"Authorization": f"Bearer alk_{i}_{j}"
                                                                        }) for j in range(20)]
    elif kind == "oversize parts (40 MB)":
        requests = [client.build_request("POST", "/v1/assess", content=_oversize_part(40), headers={
            **auth, "Content-Type": "multipart/form-data; boundary=B"})]
    elif kind == "bombs (30000 x 30000 PNG)":
        requests = [client.build_request("POST", "/v1/assess", headers=auth,
                                         files={"files": ("bomb.png", png_bomb(30_000), "image/png")})]
    else:  # oversize JSON, sent chunked
        requests = [client.build_request("POST", "/v1/assess", content=_big_json(12), headers={
            **auth, "Content-Type": "application/json"})]
    statuses = []
    for request in requests:
        try:
            statuses.append(str(client.send(request).status_code))
        except httpx.TransportError as exc:  # e.g. the server closed an oversize upload at the limit
            statuses.append(type(exc).__name__)
    return statuses


ATTACKS = ("bad methods", "wrong tokens (bursts of 20)", "oversize parts (40 MB)",
           "bombs (30000 x 30000 PNG)", "oversize JSON (12 MB)")


def hostile_phase(server: Server, token: str, attacker_token: str, photos: list[bytes],
                  args: argparse.Namespace) -> dict[str, Any]:
    """``--clients`` assess clients and one attacker thread per kind of attack, for ``--hostile-seconds``.

    The attacker connects from 127.0.0.2 with its own key. Reports what it sent and got, 5xx answers (to
    anyone), the normal clients' latency meanwhile and the server's resident memory before and after.
    """
    assert server.proc is not None
    rss_before = rss_mb(server.proc.pid)
    normal = AssessClients(server.url, token, photos, args.clients, args.batch, args.same_bytes, "hostile")
    got: dict[str, Counter[str]] = {kind: Counter() for kind in ATTACKS}
    deadline = time.perf_counter() + args.hostile_seconds

    def attacker(kind: str) -> None:
        transport = httpx.HTTPTransport(local_address=ATTACKER)
        with httpx.Client(base_url=server.url, transport=transport, timeout=REQUEST_TIMEOUT_S) as client:
            i = 0
            while time.perf_counter() < deadline:
                got[kind].update(_attack(kind, client, attacker_token, i))
                i += 1
                time.sleep(0.2 if kind.startswith("wrong tokens") else 0.0)

    threads = [threading.Thread(target=attacker, args=(kind,), daemon=True) for kind in ATTACKS]
    normal.start(args.hostile_seconds)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.hostile_seconds + REQUEST_TIMEOUT_S)
    normal.join()
    time.sleep(2.0)  # let the last requests' memory go back
    rss_after = rss_mb(server.proc.pid)
    outcomes = normal.outcomes
    by_status = Counter(o.status for o in outcomes)
    five_xx = sum(n for c in got.values() for s, n in c.items() if s.startswith("5")) + \
        sum(n for s, n in by_status.items() if s.startswith("5"))
    problems = []
    if five_xx:
        problems.append(f"{five_xx} answers were 5xx")
    if rss_after - rss_before >= 100:
        problems.append(f"server memory grew by {rss_after - rss_before:.0f} MB")
    if set(by_status) - {"200"}:
        problems.append(f"normal clients got {dict(by_status)}")
    return {
        "seconds": args.hostile_seconds,
        "attacker_requests": sum(sum(c.values()) for c in got.values()),
        "attacks": {kind: dict(sorted(c.items())) for kind, c in got.items()},
        "five_xx": five_xx,
        "normal": {"requests": len(outcomes), "by_status": dict(sorted(by_status.items())),
                   "latency": percentiles([o.latency for o in outcomes if o.status == "200"])},
        "rss_mb": {"before": rss_before, "after": rss_after, "growth": round(rss_after - rss_before, 1)},
        "problems": problems,
    }


def ls_value(key: tuple[str, frozenset[tuple[str, str]]], label: str) -> str | None:
    return next((v for n, v in key[1] if n == label), None)


# -- phase 3: kill and restart ------------------------------------------------------------------------------

def upload_folders(server: Server) -> list[str]:
    """The service's private upload folders in its temporary folder (requests' and jobs' inputs)."""
    return sorted(p.name for p in (server.workdir / "uploads").glob("artlens-upload-*"))


def submit_jobs(client: httpx.Client, photos: list[bytes], count: int, size: int, wave: str,
                refused: Counter[str]) -> list[str]:
    ids = []
    for i in range(count):
        content = unique_jpeg(photos[i % len(photos)], f"{wave}-{i}")
        response = polite(client, "POST", "/v1/stylize",
                          files={"content": (f"{wave}-{i}.jpg", content, "image/jpeg")},
                          data={"preset": f"preset_{i % 26:02d}", "size": str(size)})
        if response.status_code == 202:
            ids.append(response.json()["job"]["id"])
        else:
            refused[str(response.status_code)] += 1
    return ids


def polite(client: httpx.Client, method: str, path: str, tries: int = 20, **kwargs: Any) -> httpx.Response:
    """``method path``, waiting out the server's rate limit: a 429 ``rate_limited`` is sent again after its
    ``Retry-After`` (a full job queue's 429 is an answer, returned)."""
    for _ in range(tries - 1):
        response = client.request(method, path, **kwargs)
        if response.status_code != 429 or "rate_limited" not in response.text:
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))
    return client.request(method, path, **kwargs)


def job_status(client: httpx.Client, job_id: str) -> dict[str, Any] | None:
    response = polite(client, "GET", f"/v1/jobs/{job_id}")
    return response.json()["job"] if response.status_code == 200 else None


def result_sha(client: httpx.Client, job_id: str) -> str | None:
    response = polite(client, "GET", f"/v1/results/{job_id}")
    if response.status_code != 200 or response.headers.get("content-type") != "image/png":
        return None
    return hashlib.sha256(response.content).hexdigest()


def wait_done(client: httpx.Client, ids: list[str], timeout: float) -> dict[str, dict[str, Any] | None]:
    deadline = time.perf_counter() + timeout
    while True:
        seen = {i: job_status(client, i) for i in ids}
        if all(s is not None and s["status"] in ("done", "failed") for s in seen.values()) \
                or time.perf_counter() > deadline:
            return seen
        time.sleep(0.2)


def fault_phase(server: Server, token: str, photos: list[bytes], args: argparse.Namespace,
                client: httpx.Client) -> dict[str, Any]:
    refused: Counter[str] = Counter()
    first = submit_jobs(client, photos, args.jobs_before, 256, "before", refused)
    first_seen = wait_done(client, first, 60.0)
    load = AssessClients(server.url, token, photos, args.clients, 1, args.same_bytes, "fault")
    load.start(args.fault_seconds + START_TIMEOUT_S)
    time.sleep(1.0)
    second = submit_jobs(client, photos, args.jobs_during, args.job_size, "during", refused)
    time.sleep(args.kill_after)
    seen = {**first_seen, **{i: job_status(client, i) for i in second}}  # the last look before the kill
    done_before = {i: result_sha(client, i) for i, s in seen.items()
                   if s is not None and s["status"] == "done"}
    seen_status = {i: (s["status"] if s is not None else "missing") for i, s in seen.items()}
    killed = time.perf_counter()
    server.kill()
    uploads_at_kill = upload_folders(server)
    restart_s = server.start()
    outage_s = time.perf_counter() - killed
    time.sleep(args.fault_seconds)
    load.stop()

    after = {i: job_status(client, i) for i in seen}
    checks: Counter[str] = Counter()
    problems: list[str] = []
    for job_id, before in seen_status.items():
        now = after[job_id]
        if now is None:
            checks["missing"] += 1
            problems.append(f"job {job_id} ({before} before the kill) is missing after the restart")
        elif before == "done":
            same = (now["status"] == "done" and done_before[job_id] is not None
                    and result_sha(client, job_id) == done_before[job_id])
            checks["done, same PNG bytes" if same else "done before, changed or lost"] += 1
            if not same:
                problems.append(f"job {job_id}: done before the kill, now {now['status']} or other bytes")
        elif now["status"] == "failed" and now["retriable"] and "restart" in (now["error"] or ""):
            checks["interrupted -> failed, retriable"] += 1
        elif now["status"] == "done" and result_sha(client, job_id) is not None:
            checks["finished between last look and kill -> done"] += 1
        else:
            checks[f"{before} -> {now['status']} (unexpected)"] += 1
            problems.append(f"job {job_id}: {before} before the kill, {now} after")
    new_job = submit_jobs(client, photos, 1, 256, "after", refused)
    new_seen = wait_done(client, new_job, 60.0)
    interrupted = [i for i, s in after.items()
                   if s is not None and s["status"] == "failed" and s["retriable"]]
    retried = retry_jobs(client, interrupted)
    leftover_uploads = upload_folders(server)

    ok_before = [o for o in load.outcomes if o.status == "200" and o.started + o.latency < killed]
    ok_after = [o for o in load.outcomes if o.status == "200" and o.started > killed]
    return {
        "jobs_submitted": len(seen), "jobs_refused": dict(refused),
        "status_at_last_look": dict(Counter(seen_status.values())),
        "after_restart": dict(checks), "problems": problems,
        "new_job_after_restart": next(iter(new_seen.values()))["status"] if new_seen else "not queued",
        "retried": retried,
        "restart_s": round(restart_s, 1), "outage_s": round(outage_s, 1),
        "assess_during_fault": {
            "ok_before_kill": len(ok_before), "ok_after_restart": len(ok_after),
            "by_status": dict(sorted(Counter(o.status for o in load.outcomes).items())),
            "latency_after_restart": percentiles([o.latency for o in ok_after]),
        },
        "upload_folders_at_kill": len(uploads_at_kill),
        "upload_folders_left_after_restart": len(leftover_uploads),
    }


def retry_jobs(client: httpx.Client, ids: list[str]) -> dict[str, int] | None:
    """``POST /v1/jobs/{id}/retry`` each interrupted job and wait for the attempts to end; None when the
    server has no retry route."""
    if "/v1/jobs/{job_id}/retry" not in polite(client, "GET", "/openapi.json").json().get("paths", {}):
        return None
    outcome: Counter[str] = Counter()
    queued = []
    for job_id in ids:
        response = polite(client, "POST", f"/v1/jobs/{job_id}/retry")
        if response.status_code == 202:
            queued.append(job_id)
        else:
            outcome[f"refused {response.status_code}"] += 1
    for job_id, job in wait_done(client, queued, 120.0).items():
        fine = (job is not None and job["status"] == "done" and job.get("attempts") == 2
                and result_sha(client, job_id) is not None)
        status = job["status"] if job is not None else "missing"
        outcome["done on the 2nd attempt, PNG served" if fine else f"{status} (unexpected)"] += 1
    return dict(outcome)


# -- report -------------------------------------------------------------------------------------------------

def print_report(results: dict[str, Any]) -> None:
    load, fault = results["load"], results["fault"]
    lat = load["latency"]
    rows = [
        ("mode", results["mode"]),
        ("machine load average before / after", f"{results['loadavg_1_5_15_min']['before'][0]} / "
                                                f"{results['loadavg_1_5_15_min']['after'][0]}"),
        ("clients x images per request", f"{load['clients']} x {load['batch']}"),
        ("duration", f"{load['duration_s']} s"),
        ("requests ok / sent", f"{load['ok']} / {load['requests']}"),
        ("throughput", f"{load['requests_per_s']} requests/s, {load['images_per_s']} images/s"),
        ("latency p50 / p95 / p99", f"{lat['p50_s']} / {lat['p95_s']} / {lat['p99_s']} s"),
        ("errors by status", json.dumps(load["errors"]) if load["errors"] else "none"),
        ("/metrics agrees with the clients", f"{load['metrics_agree']} (server: "
                                             f"{json.dumps(load['server_requests_by_status'])}, "
                                             f"{load['server_images_ok']} images)"),
        ("server start / restart to healthy", f"{results['first_start_s']} s / {fault['restart_s']} s"),
        ("jobs at the last look before SIGKILL", json.dumps(fault["status_at_last_look"])),
        ("jobs after the restart", json.dumps(fault["after_restart"])),
        ("a new job after the restart", fault["new_job_after_restart"]),
        ("interrupted jobs retried (POST .../retry)", json.dumps(fault["retried"]) if fault["retried"]
         is not None else "no retry route"),
        ("assess during the fault", json.dumps(fault["assess_during_fault"]["by_status"])),
        ("upload folders", f"{fault['upload_folders_at_kill']} at the kill, "
         f"{fault['upload_folders_left_after_restart']} left at the end"),
    ]
    hostile = results.get("hostile")
    if hostile is not None:
        normal = hostile["normal"]
        rows += [
            ("hostile phase", f"{hostile['seconds']:.0f} s, attacker on {ATTACKER}: "
                              f"{hostile['attacker_requests']} requests"),
            *((f"  {kind}", json.dumps(statuses)) for kind, statuses in hostile["attacks"].items()),
            ("  5xx answers (attacker and clients)", str(hostile["five_xx"])),
            ("  normal clients meanwhile: by status", json.dumps(normal["by_status"])),
            ("  normal clients meanwhile: p50 / p95", f"{normal['latency']['p50_s']} / "
                                                     f"{normal['latency']['p95_s']} s"),
            ("  server RSS before / after / growth", f"{hostile['rss_mb']['before']} / "
                                                   f"{hostile['rss_mb']['after']} / "
                                                   f"{hostile['rss_mb']['growth']} MB"),
        ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for problem in fault["problems"] + (hostile["problems"] if hostile else []):
        print(f"PROBLEM: {problem}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent assess clients (1-64)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (1-600)")
    parser.add_argument("--images", type=int, default=16, help="distinct photos to cycle through")
    parser.add_argument("--batch", type=int, default=1, help="images per assess request (1-16)")
    parser.add_argument("--host", default=HOST, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument("--technical", action="store_true", help="serve with --technical (no learned model)")
    parser.add_argument("--same-bytes", action="store_true",
                        help="send identical bytes again (lets the results store answer from its cache)")
    parser.add_argument("--jobs-before", type=int, default=8, help="jobs finished before the kill (<= 100)")
    parser.add_argument("--jobs-during", type=int, default=24, help="jobs queued before the kill (<= 100)")
    parser.add_argument("--job-size", type=int, default=768, help="output side of the second wave's jobs")
    parser.add_argument("--kill-after", type=float, default=2.0, help="seconds from the second wave to kill")
    parser.add_argument("--fault-seconds", type=float, default=5.0, help="load kept on after the restart")
    parser.add_argument("--hostile-seconds", type=float, default=30.0,
                        help="seconds of attack alongside the assess clients (0: no hostile phase)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (database, log)")
    args = parser.parse_args()
    if args.host != HOST:
        parser.error(f"--host must be {HOST}: this benchmark loads a local server only")
    for name, low, high in (("clients", 1, 64), ("duration", 1, 600), ("images", 1, 64), ("batch", 1, 16),
                            ("jobs_before", 0, 100), ("jobs_during", 1, 100), ("job_size", 16, 2048),
                            ("kill_after", 0, 60), ("fault_seconds", 0, 60), ("hostile_seconds", 0, 600)):
        if not low <= getattr(args, name) <= high:
            parser.error(f"--{name.replace('_', '-')} must be between {low} and {high}")
    return args


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally below runs
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    photos = load_photos(args.images)
    load_before = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(tempfile.mkdtemp(prefix="artlens-serve-load-"))
    server = Server(workdir, args.port or free_port(), args.technical,
                    max_queued_jobs=args.jobs_before + args.jobs_during + 1)
    try:
        token = make_key(server.db)
        first = server.start()
        print(f"artlens serve on {server.url} ({'technical' if args.technical else 'learned model'}) healthy "
              f"after {first:.1f} s; {args.clients} clients for {args.duration:.0f} s ...", flush=True)
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                          timeout=REQUEST_TIMEOUT_S) as client:
            load = load_phase(server, token, photos, args, client)
            hostile = None
            if args.hostile_seconds:
                print(f"load phase done; {args.hostile_seconds:.0f} s of attacks alongside the clients ...",
                      flush=True)
                hostile = hostile_phase(server, token, make_key(server.db), photos, args)
            print("queueing jobs, then SIGKILL and restart ...", flush=True)
            fault = fault_phase(server, token, photos, args, client)
        results = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, Python "
                       f"{platform.python_version()}",
            "mode": "technical" if args.technical else "learned model (default)",
            "photos": f"{len(photos)} x {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG",
            "unique_bytes": not args.same_bytes,
            "loadavg_1_5_15_min": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
            "first_start_s": round(first, 1), "load": load, "hostile": hostile, "fault": fault,
        }
        print_report(results)
        if args.out:
            args.out.write_text(json.dumps(results, indent=2) + "\n")
        return 1 if fault["problems"] or load["errors"] or (hostile and hostile["problems"]) else 0
    except BaseException:
        print(f"server log (last lines):\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        server.stop()
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
