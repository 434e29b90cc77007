"""Speed of ``artlens assess`` on real photos (1080x800, or 4000x3000 with ``--size``), with OpenCV's BRISQUE
measured in the same run.

Figures (images per second, 2 worker processes unless stated):
  1. technical metrics only (decode + ``technical.compute_all``),
  2. BRISQUE + NIQE (decode + both on the IQA working image),
  3. the full default run (``artlens assess --policy general``: the learned quality model included, store
     disabled), and the same with ``--technical`` (hand-made quality score only),
  4. the full Amazon run (adds background, borders, segmentation and the text detector),
  5. a cold ``artlens assess`` command on the photos (a new Python process: imports, worker start-up and
     model loading included, as a user running it once sees it);
and single-thread BRISQUE latency, ours against ``cv2.quality.QualityBRISQUE_compute`` on the same images
(with the LIVE model files of Debian's opencv-data), printed as a ratio.

    .venv/bin/python benchmarks/assess_speed.py [--images 32] [--repeat 2] [--workers 2] [--size 4000x3000]

The 4000x3000 set is cropped from the same wallpapers, most of them 2560 px wide, so it is upscaled (area
per pixel, not detail, is what the timings depend on); at that size every image gets 3 native tiles.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from artlens.assess.analyse import AnalysisSettings
from artlens.assess.pipeline import AssessRun, run_assessment
from artlens.assess.policy import load_policy
from artlens.imageio import load_image
from artlens.procpool import process_pool
from artlens.screening import metrics, technical
from artlens.screening.brisque import brisque
from artlens.screening.niqe import niqe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _photos import benchmark_photos

ROOT = Path(__file__).resolve().parents[1]
OPENCV_QUALITY = ROOT / ".data/opencv-data/usr/share/opencv4/quality"


def _one_thread() -> None:
    cv2.setNumThreads(1)


def _stage_metrics(path: str) -> float:
    return technical.compute_all(load_image(path).rgb)["sharpness"]


def _stage_iqa(path: str) -> float:
    work = metrics.working_image(load_image(path).rgb, AnalysisSettings().iqa_size)
    return brisque(work) + niqe(work)


def _throughput(fn, paths: list[str], workers: int) -> float:
    with process_pool(workers, initializer=_one_thread) as pool:  # the product's pool: never forks
        list(pool.map(fn, paths[:workers]))  # warm-up: imports and model loading
        start = time.perf_counter()
        list(pool.map(fn, paths, chunksize=1))
        return len(paths) / (time.perf_counter() - start)


def _full_run(policy: str, paths: list[str], workers: int, repeat: int, learned: bool = True) -> float:
    """One ``assess`` run over a catalogue of ``repeat`` linked copies of each photo (a run takes every file
    once, and a shop's batch is larger than the 32 photos), pool start-up and model loading included."""
    unique = sorted(set(paths))
    pol = load_policy(policy)
    settings = AnalysisSettings.for_policy(pol, learned=learned)
    run = AssessRun(policy=pol, settings=settings, workers=workers, use_store=False)
    with tempfile.TemporaryDirectory(dir=ROOT / ".data") as tmp:
        catalogue = []
        for copy in range(repeat):
            for path in unique:
                link = Path(tmp) / f"{copy}-{Path(path).name}"
                os.link(path, link)
                catalogue.append(str(link))
        run_assessment(unique[:workers], run)  # warm-up: imports, forkserver, ONNX export cache
        start = time.perf_counter()
        report = run_assessment(catalogue, run)
        elapsed = time.perf_counter() - start
    assert report["summary"]["assessed"] == len(catalogue), report["errors"]
    return len(catalogue) / elapsed


def _cold_command(paths: list[str], workers: int) -> float:
    """Images per second of one ``python -m artlens assess`` command, timed from process start to exit."""
    unique = sorted(set(paths))
    with tempfile.TemporaryDirectory(dir=ROOT / ".data") as tmp:
        report = Path(tmp) / "report.json"
        command = [sys.executable, "-m", "artlens", "assess", *unique, "--no-db", "--workers", str(workers),
                   "--out", str(report)]
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"artlens assess exited with {done.returncode}:\n{done.stderr}")
        assessed = json.loads(report.read_text())["summary"]["assessed"]
    assert assessed == len(unique), f"{assessed} of {len(unique)} assessed"
    return len(unique) / elapsed


def _brisque_latency(paths: list[str]) -> dict[str, float] | None:
    model, ranges = OPENCV_QUALITY / "brisque_model_live.yml", OPENCV_QUALITY / "brisque_range_live.yml"
    if not model.is_file():
        print(f"OpenCV BRISQUE model not found under {OPENCV_QUALITY}: run `make test-data`", file=sys.stderr)
        return None
    cv2.setNumThreads(1)
    images = [load_image(p).rgb for p in paths]
    bgr = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in images]
    brisque(images[0])
    cv2.quality.QualityBRISQUE_compute(bgr[0], str(model), str(ranges))
    ours, theirs = [], []
    for rgb, b in zip(images, bgr, strict=True):
        t = time.perf_counter()
        brisque(rgb)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        cv2.quality.QualityBRISQUE_compute(b, str(model), str(ranges))
        theirs.append(time.perf_counter() - t)
    ours_ms, theirs_ms = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
    return {"artlens_ms": ours_ms, "opencv_ms": theirs_ms, "opencv_over_artlens": theirs_ms / ours_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=2, help="pass over the photos this many times")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--size", default="1080x800", help="WIDTHxHEIGHT of the photos (JPEG quality 92)")
    args = parser.parse_args()

    width, height = (int(v) for v in args.size.lower().split("x"))
    photos = [str(p) for p in benchmark_photos(args.images, width, height)] * args.repeat
    h, w = load_image(photos[0]).rgb.shape[:2]
    results: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}",
        "images": len(photos), "size": f"{w}x{h}", "workers": args.workers,
    }
    print(f"{len(photos)} photos of {w}x{h}, {args.workers} workers", flush=True)
    for label, fn in (("technical_metrics", _stage_metrics), ("brisque_niqe", _stage_iqa)):
        results[f"{label}_images_per_s"] = round(_throughput(fn, photos, args.workers), 1)
        print(f"{label:>35}: {results[f'{label}_images_per_s']} images/s", flush=True)
    for policy, learned in (("general", True), ("general", False), ("amazon", True)):
        speed = _full_run(policy, photos, args.workers, args.repeat, learned)
        key = f"assess_{policy}{'' if learned else '_technical'}_images_per_s"
        results[key] = round(speed, 1)
        label = f"assess --policy {policy}{'' if learned else ' --technical'}"
        print(f"{label:>35}: {results[key]} images/s", flush=True)
    results["assess_cold_command_images_per_s"] = round(_cold_command(photos, args.workers), 1)
    print(f"{'cold command, assess --policy general':>35}: {results['assess_cold_command_images_per_s']} "
          f"images/s ({args.images} files, process start included)", flush=True)
    latency = _brisque_latency(photos[: args.images])
    if latency is not None:
        results["brisque_latency"] = {k: round(v, 2) for k, v in latency.items()}
        print(f"{'BRISQUE, one thread':>35}: artlens {latency['artlens_ms']:.1f} ms, "
              f"OpenCV {latency['opencv_ms']:.1f} ms per image -> OpenCV/artlens = "
              f"{latency['opencv_over_artlens']:.2f}x", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
