"""End-to-end ``artlens assess``: a folder of good and bad files, the store, resume after SIGKILL, sorting."""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens.assess.analyse import AnalysisSettings
from artlens.assess.pipeline import AssessRun, assess, run_assessment
from artlens.assess.policy import load_policy
from artlens.assess.report import validate_report
from artlens.assess.sorting import sort_into


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png_bomb(path: Path, side: int = 20000) -> None:
    """A tiny PNG whose header claims side x side pixels (refused before any decoding)."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
                     + _png_chunk(b"IEND", b""))


def product_shot(size: int = 1200, fill: float = 0.9) -> np.ndarray:
    """A shaded box with a real stone texture (scikit-image's gravel) on pure white; its longest side spans
    ``fill`` of the frame."""
    from skimage import data

    img = np.full((size, size, 3), 255, np.uint8)
    side = int(size * fill)
    x0 = y0 = (size - side) // 2
    gravel = np.tile(data.gravel(), (3, 3))[:side, :side].astype(np.float32) / 255  # native resolution
    shade = np.linspace(0.55, 1.0, side)[None, :, None]
    colour = np.array([210, 70, 60], np.float32) * shade * (0.4 + 1.0 * gravel[..., None])
    img[y0:y0 + side, x0:x0 + side] = np.clip(colour, 0, 255).astype(np.uint8)
    return img


@pytest.fixture()
def catalogue(tmp_path: Path, photos: dict[str, np.ndarray]) -> Path:
    folder = tmp_path / "catalogue"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(photos["astronaut"]).save(folder / "astronaut.jpg", quality=92)
    Image.fromarray(photos["chelsea"]).save(folder / "sub" / "chelsea.png")
    blurred = cv2.GaussianBlur(photos["astronaut"], (0, 0), 6)
    Image.fromarray(blurred).save(folder / "astronaut-blurred.jpg", quality=92)
    Image.fromarray(product_shot()).save(folder / "product.png")
    (folder / "notes.jpg").write_text("this is not an image\n")
    (folder / "empty.png").write_bytes(b"")
    good = (folder / "astronaut.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(good[: len(good) // 2])
    write_png_bomb(folder / "bomb.png")
    return folder


GOOD = {"astronaut.jpg", "chelsea.png", "astronaut-blurred.jpg", "product.png"}
BAD = {"notes.jpg", "empty.png", "truncated.jpg", "bomb.png"}


def _run(paths, policy="general", workers=1, db=None) -> dict:
    pol = load_policy(policy)
    run = AssessRun(policy=pol, settings=AnalysisSettings.for_policy(pol), workers=workers,
                    db=db, use_store=db is not None)
    return run_assessment(paths, run)


def test_folder_with_bad_files_assesses_the_rest(catalogue: Path) -> None:
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in catalogue.rglob("*") if p.is_file()}
    report = _run([catalogue])
    validate_report(report)
    assert {Path(im["path"]).name for im in report["images"]} == GOOD
    errors = {Path(e["path"]).name: e["error"] for e in report["errors"]}
    assert set(errors) == BAD
    for name, message in errors.items():
        assert name in message and "\n" not in message
    assert "20000x20000" in errors["bomb.png"]
    assert report["summary"]["total"] == 8 and report["summary"]["assessed"] == 4
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in catalogue.rglob("*") if p.is_file()}
    assert before == after  # inputs are never modified


def test_scores_and_verdicts_follow_quality(catalogue: Path) -> None:
    report = _run([catalogue])
    by_name = {Path(im["path"]).name: im for im in report["images"]}
    sharp, blurred = by_name["astronaut.jpg"], by_name["astronaut-blurred.jpg"]
    assert sharp["scores"]["quality"] > blurred["scores"]["quality"] + 15
    assert sharp["subscores"]["sharpness"] > blurred["subscores"]["sharpness"]
    assert blurred["verdict"] in {"review", "fail"}
    assert any("blurry" in r for r in blurred["reasons"])
    assert sharp["verdict"] == "review"  # 512 px: below the general preset's 800 px review size
    for image in report["images"]:
        assert 0 <= image["scores"]["quality"] <= 100
        assert image["verdict"] in {"pass", "review", "fail"}
        assert len(image["sha256"]) == 64


def test_amazon_policy_checks_background_and_fill(catalogue: Path, tmp_path: Path) -> None:
    Image.fromarray(product_shot(fill=0.5)).save(tmp_path / "small-product.png")
    report = _run([catalogue / "product.png", catalogue / "astronaut.jpg", tmp_path / "small-product.png"],
                  policy="amazon")
    by_name = {Path(im["path"]).name: im for im in report["images"]}
    checks = {name: {c["id"]: c for c in im["checks"]} for name, im in by_name.items()}
    assert checks["product.png"]["background_white"]["status"] == "pass"
    assert checks["product.png"]["product_fill"]["status"] == "pass"
    assert checks["astronaut.jpg"]["background_white"]["status"] == "fail"
    assert by_name["astronaut.jpg"]["verdict"] == "fail"
    assert checks["small-product.png"]["product_fill"]["status"] == "fail"
    assert any("product fills" in r for r in by_name["small-product.png"]["reasons"])
    # segmentation ran: the report says where the product is (the shaded box, 60..1140 and 300..900 px)
    validate_report(report)
    for name, (lo, hi) in {"product.png": (60, 1140), "small-product.png": (300, 900)}.items():
        box = by_name[name]["product_box"]
        assert np.allclose(box, [lo, lo, hi, hi], atol=12), (name, box)


def test_no_product_box_without_segmentation(catalogue: Path) -> None:
    report = _run([catalogue / "product.png"], policy="general")  # the general preset does not segment
    assert "product_box" not in report["images"][0]


def test_parallel_run_matches_serial(catalogue: Path) -> None:
    serial = _run([catalogue], workers=1)
    parallel = _run([catalogue], workers=2)
    assert [im["path"] for im in serial["images"]] == [im["path"] for im in parallel["images"]]
    for a, b in zip(serial["images"], parallel["images"], strict=True):
        assert a["scores"] == b["scores"] and a["verdict"] == b["verdict"]
    assert {e["path"] for e in serial["errors"]} == {e["path"] for e in parallel["errors"]}


def test_store_skips_images_already_measured(catalogue: Path, tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    first = _run([catalogue], db=db)
    assert first["summary"]["computed"] == 4 and first["summary"]["cached"] == 0
    second = _run([catalogue], db=db)
    assert second["summary"]["computed"] == 0 and second["summary"]["cached"] == 4
    assert [im["scores"] for im in first["images"]] == [im["scores"] for im in second["images"]]
    # thresholds change the verdicts without recomputing: measurements are stored, policies applied after
    strict = tmp_path / "strict.yaml"
    strict.write_text("extends: general\nrules:\n  quality: {min: 99}\n")
    third = _run([catalogue], policy=str(strict), db=db)
    assert third["summary"]["cached"] == 4 and all(im["verdict"] == "fail" for im in third["images"])
    # a changed file is measured again
    Image.fromarray(np.full((600, 800, 3), 128, np.uint8)).save(catalogue / "astronaut.jpg")
    fourth = _run([catalogue], db=db)
    assert fourth["summary"]["computed"] == 1 and fourth["summary"]["cached"] == 3


def test_killed_run_resumes_without_loss_or_duplicates(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    rng = np.random.default_rng(1)
    n = 14
    for i in range(n):
        base = photos[("astronaut", "coffee", "chelsea", "rocket")[i % 4]]
        big = cv2.resize(base, (1080, 800), interpolation=cv2.INTER_CUBIC)
        noisy = np.clip(big + rng.normal(0, 2 + i, big.shape), 0, 255).astype(np.uint8)
        Image.fromarray(noisy).save(folder / f"img{i:02d}.jpg", quality=90)
    db = tmp_path / "resume.db"
    cmd = [sys.executable, "-m", "artlens", "assess", str(folder), "--db", str(db), "--workers", "1",
           "--quiet", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stored = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    stored = conn.execute("SELECT COUNT(*) FROM assess_results").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
            if stored >= 3:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the run finished before it could be killed; make the images slower"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM assess_results").fetchone()[0]
    assert 3 <= stored < n

    report = _run([folder], db=db)
    assert report["summary"]["assessed"] == n and not report["errors"]
    assert report["summary"]["cached"] == stored
    assert report["summary"]["computed"] == n - stored
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT sha256, COUNT(*) FROM assess_results GROUP BY sha256").fetchall()
    assert len(rows) == n and all(count == 1 for _, count in rows)
    assert {im["sha256"] for im in report["images"]} == {sha for sha, _ in rows}


def test_sort_into_copies_or_links_and_never_moves(catalogue: Path, tmp_path: Path) -> None:
    report = _run([catalogue])
    copies = sort_into(report, tmp_path / "sorted", roots=[catalogue])
    assert sum(copies[v] for v in ("pass", "review", "fail")) == 4
    assert copies["unreadable"] == len(BAD) and copies["not_placed"] == 0
    for image in report["images"]:
        src = Path(image["path"])
        dest = tmp_path / "sorted" / image["verdict"] / src.relative_to(catalogue)  # sub/ kept
        assert src.exists() and dest.read_bytes() == src.read_bytes()
        assert not dest.samefile(src)
    assert {p.name for p in (tmp_path / "sorted" / "unreadable").iterdir()} == BAD
    notes = (catalogue / "notes.jpg").read_bytes()
    assert (tmp_path / "sorted" / "unreadable" / "notes.jpg").read_bytes() == notes
    links = sort_into(report, tmp_path / "linked", roots=[catalogue], link=True)
    assert links == copies
    for image in report["images"]:
        src = Path(image["path"])
        assert (tmp_path / "linked" / image["verdict"] / src.relative_to(catalogue)).samefile(src)
    assert sort_into(report, tmp_path / "sorted", roots=[catalogue]) == copies  # idempotent
    assert len([p for p in (tmp_path / "sorted").rglob("*") if p.is_file()]) == 4 + len(BAD)
    flat = sort_into(report, tmp_path / "flat")  # no roots: every file at the top of its folder
    assert sum(1 for p in (tmp_path / "flat").rglob("chelsea.png")) == 1
    assert next((tmp_path / "flat").rglob("chelsea.png")).parent.name in {"pass", "review", "fail"}
    assert flat == copies


def test_sort_into_names_clashing_files_apart_and_skips_what_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"one")
    (tmp_path / "b" / "x.jpg").write_bytes(b"two")
    report = {"images": [{"path": str(tmp_path / d / "x.jpg"), "verdict": "pass", "sha256": sha * 8}
                         for d, sha in (("a", "1"), ("b", "2"))],
              "errors": [{"path": str(tmp_path / "gone.jpg"), "error": "gone.jpg: no such file or folder"},
                         {"path": str(tmp_path / "a"), "error": "a: cannot list folder"}]}
    counts = sort_into(report, tmp_path / "out", roots=[tmp_path / "a", tmp_path / "b"])
    assert counts == {"pass": 2, "review": 0, "fail": 0, "unreadable": 0, "not_placed": 2}
    assert (tmp_path / "out" / "pass" / "x.jpg").read_bytes() == b"one"
    assert (tmp_path / "out" / "pass" / "x-22222222.jpg").read_bytes() == b"two"


def test_python_api(catalogue: Path) -> None:
    report = assess(catalogue / "product.png", policy="amazon")
    assert report["schema"] == "artlens.assess/1"
    assert report["images"][0]["verdict"] in {"pass", "review"}
    assert report["policy"]["name"] == "amazon"


def test_main_process_does_not_import_torch_to_key_a_run(tmp_path: Path) -> None:
    """The parent of the worker pool only names and hashes the model's files: PyTorch (seconds to import)
    is loaded by the workers, not by the process that hands out the images."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    code = ("import sys\n"
            "from artlens.assess.analyse import AnalysisSettings\n"
            "AnalysisSettings().key()\n"
            f"AnalysisSettings(quality_model={str(model)!r}).key()\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_pool_worker_runs_the_model_on_one_thread() -> None:
    """Each worker of the pool keeps to one thread in PyTorch and in ONNX Runtime (the pool is the
    parallelism), even though loading the backbone applies artlens's default thread count."""
    code = ("import torch\n"
            "from artlens.assess.analyse import AnalysisSettings\n"
            "from artlens.engine.assess_job import AssessJob\n"
            "from artlens.iqa.default import load_quality_model\n"
            "AssessJob(AnalysisSettings()).setup()\n"
            "assert torch.get_num_threads() == 1, torch.get_num_threads()\n"
            "trunk = load_quality_model()._onnx\n"
            "assert trunk is None or trunk.session.get_session_options().intra_op_num_threads == 1\n")
    env = {**os.environ, "ARTLENS_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
