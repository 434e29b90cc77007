"""Hostile and unlucky inputs on the command line: named pipes, unreadable folders, symlink loops, control
characters in file names. Each case once hung, failed silently or split an error line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlens.errors import ImageLoadError
from artlens.files import sha256_file
from artlens.imageio import collect_inputs, load_image
from artlens.regular_files import NotRegularFileError, read_regular

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")


def _image(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path)
    return path


def artlens(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "artlens", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "x.jpg"
    os.mkfifo(path)
    return path


def test_a_named_pipe_is_refused_without_waiting(fifo: Path) -> None:
    with pytest.raises(NotRegularFileError, match="named pipe"):
        read_regular(fifo)
    with pytest.raises(OSError, match="named pipe"):  # callers that catch OSError report it too
        sha256_file(fifo)
    with pytest.raises(ImageLoadError, match=r"x\.jpg: not a regular file \(a named pipe\)"):
        load_image(fifo)
    with pytest.raises(ImageLoadError, match="character device"):
        load_image("/dev/zero")


@pytest.mark.parametrize("store", [True, False], ids=["store", "no-store"])
def test_assess_reports_a_named_pipe_on_one_line(fifo: Path, tmp_path: Path, store: bool) -> None:
    _image(fifo.parent / "good.png")
    db = ["--db", str(tmp_path / "r.db")] if store else ["--no-db"]
    result = artlens("assess", str(fifo.parent), "--technical", "--json", "--quiet", *db, timeout=120)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["assessed"] == 1
    assert [e["path"] for e in report["errors"]] == [str(fifo)]
    assert "named pipe" in report["errors"][0]["error"]


def _deny(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make ``folder`` unlistable (tests may run as root, for whom chmod 000 changes nothing)."""
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(os.fspath(path)) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_walks_report_unreadable_folders_and_symlink_loops(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "photos"
    (root / "locked").mkdir(parents=True)
    (root / "sub").mkdir()
    _image(root / "a.png")
    _image(root / "sub" / "b.png")
    (root / "sub" / "up").symlink_to("..")  # a loop
    (root / "self.jpg").symlink_to("self.jpg")  # a link to itself
    (tmp_path / "other").mkdir()
    (root / "again").symlink_to(root / "sub")  # the same folder twice: no error, no duplicate
    _deny(monkeypatch, root / "locked")
    files, errors = collect_inputs([root])
    assert sorted(f.name for f in files) == ["a.png", "b.png"]
    reasons = {Path(e.path).name: e.reason for e in errors}
    assert reasons == {"locked": "folder cannot be read (permission denied)",
                       "up": "symlink loop (links back to a folder above it)",
                       "self.jpg": "cannot be read (symlink loop)"}


def test_assess_and_index_build_exit_1_on_an_unreadable_folder(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from artlens.cli import app

    root = tmp_path / "photos"
    (root / "locked").mkdir(parents=True)
    _image(root / "a.png")
    _deny(monkeypatch, root / "locked")
    result = CliRunner().invoke(app, ["assess", str(root), "--technical", "--no-db", "--quiet",
                                      "--workers", "1"])
    assert result.exit_code == 1, result.output
    assert "folder cannot be read (permission denied)" in result.output

    import artlens.search.index as index_module

    seen: list[str] = []

    def index_batch(_self: object, batch: list, _report: object, _max_pixels: int) -> tuple[list, list]:
        seen.extend(str(item[0]) for item in batch)  # no embedding: only what the walk found matters here
        return [], []

    monkeypatch.setattr(index_module.SearchIndex, "_index_batch", index_batch)
    result = CliRunner().invoke(app, ["index", "build", str(root), "--index", str(tmp_path / "idx"),
                                      "--quiet"])
    assert result.exit_code == 1, result.output
    assert "folder cannot be read" in result.output
    assert seen == [str(root / "a.png")]


def test_a_newline_in_a_file_name_does_not_split_the_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "two\nlines.jpg"
    bad.write_bytes(b"not an image at all")
    result = artlens("assess", str(bad), "--technical", "--no-db", "--quiet")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "two\\nlines.jpg: not an image" in lines[0]


# -- damaged results store and index -------------------------------------------------------------------

def _overwrite_pages(db: Path, first_page: int = 2) -> None:
    """Write garbage over every page from ``first_page`` on (the header page stays, as after a bad sector)."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    rng = np.random.default_rng(1)
    start = (first_page - 1) * page
    data[start:] = rng.integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    db.write_bytes(bytes(data))


def test_a_damaged_results_store_is_one_line_and_rebuild_store_recovers(tmp_path: Path) -> None:
    from artlens.store import Store

    _image(tmp_path / "a.png")
    db = tmp_path / "results.db"
    with Store(db) as store:
        store.put_result("k", "0" * 64, {"x": 1})
    _overwrite_pages(db)
    args = ("assess", str(tmp_path / "a.png"), "--technical", "--workers", "1", "--db", str(db), "--quiet")
    result = artlens(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "results database is damaged" in result.stderr and "--rebuild-store" in result.stderr
    result = artlens(*args, "--rebuild-store")
    assert result.returncode == 0, result.stderr
    assert "was damaged: moved aside to" in result.stderr
    moved = [p for p in tmp_path.glob("results.db.damaged-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1
    with Store(db) as store:
        assert store.count_results() == 1


@pytest.mark.parametrize("record", ['{"measurements": ', '{"width": 10}', '[1, 2]', '{"measurements": 3}'],
                         ids=["not-json", "missing-fields", "not-an-object", "wrong-type"])
def test_a_bad_stored_record_is_a_cache_miss(tmp_path: Path, record: str) -> None:
    import sqlite3

    from artlens.assess.pipeline import assess

    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png", seed=1)
    db = tmp_path / "results.db"
    first = assess(tmp_path, learned=False, workers=1, db=db)
    assert first["summary"]["computed"] == 2
    sha = first["images"][0]["sha256"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE assess_results SET record=? WHERE sha256=?", (record, sha))
    conn.close()
    again = assess(tmp_path, learned=False, workers=1, db=db)
    assert (again["summary"]["computed"], again["summary"]["cached"], again["errors"]) == (1, 1, [])
    third = assess(tmp_path, learned=False, workers=1, db=db)  # the record was replaced by a good one
    assert third["summary"]["cached"] == 2


def test_a_damaged_index_is_one_line_for_similar_and_index_build(tmp_path: Path) -> None:
    from artlens.search.index import DB_NAME, SearchIndex

    index_dir = tmp_path / "idx"
    SearchIndex.create(index_dir).close()
    _overwrite_pages(index_dir / DB_NAME)
    query = _image(tmp_path / "q.png")
    for args in (("similar", str(index_dir), str(query)),
                 ("index", "build", str(query), "--index", str(index_dir), "--quiet")):
        result = artlens(*args)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "index database is damaged" in result.stderr and "artlens index build" in result.stderr
