"""Worker pools die with their parent: no fork server, worker or resource tracker outlives a killed command,
and SIGTERM shuts the pool down with every finished result in the store."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlens.procpool import pool_context

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

_POOL_SCRIPT = """
import time
from artlens.procpool import process_pool
with process_pool(2) as pool:
    futures = [pool.submit(time.sleep, 120) for _ in range(4)]
    print("ready", flush=True)
    futures[0].result()
"""


def _session(sid: int) -> list[str]:
    """Command lines of the live processes in session ``sid`` (zombies left out)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "))
        except (OSError, ValueError):
            continue
    return found


def _wait_until_gone(sid: int, timeout: float = 20.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := _session(sid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def _kill_session(sid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(sid, signal.SIGKILL)


def test_the_start_method_never_forks() -> None:
    assert pool_context().get_start_method() in {"forkserver", "spawn"}


def test_sigkill_of_the_parent_leaves_no_worker_fork_server_or_resource_tracker() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _POOL_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while len(_session(proc.pid)) < 5 and time.monotonic() < deadline:  # owner, tracker, server, workers
            time.sleep(0.1)
        started = _session(proc.pid)
        assert any("forkserver" in c for c in started) and any("resource_tracker" in c for c in started)
        proc.kill()
        proc.wait(timeout=10)
        assert _wait_until_gone(proc.pid) == []
    finally:
        _kill_session(proc.pid)


def test_sigterm_shuts_the_pool_down_and_keeps_finished_results(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 255, (900, 1200, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    db = tmp_path / "results.db"
    command = [sys.executable, "-m", "artlens", "assess", str(folder), "--technical", "--workers", "2",
               "--db", str(db), "--quiet", "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)

    def stored() -> int:
        try:
            with sqlite3.connect(db) as conn:
                return conn.execute("SELECT COUNT(*) FROM assess_results").fetchone()[0]
        except sqlite3.Error:
            return 0

    try:
        deadline = time.monotonic() + 120
        while stored() < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + signal.SIGTERM
        assert err.strip().splitlines() == ["artlens: interrupted by SIGTERM: finished results are kept; "
                                            "run the same command again to resume"]
        assert _wait_until_gone(proc.pid) == []
        kept = stored()
        assert 2 <= kept < 40
    finally:
        _kill_session(proc.pid)
    again = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)["summary"]
    assert (summary["cached"], summary["computed"]) == (kept, 40 - kept)
