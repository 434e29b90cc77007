"""Training on your own labels (``artlens train quality --labels``): held-out photos, independent labels.

A shop's good/bad judgement is stood in for by ImageNet-C corruptions (Hendrycks & Dietterich 2019, the
``imagecorruptions-imaug`` package: code artlens never trains on) of the pristine photos of
``.data/pristine/manifest.csv`` at the benchmark's 768-px size. Every photo gives its clean version and three
seeded corruptions at severities 1-5 (16 images). Two label files are written for each side:

* classes: ``good`` (clean or severity 1) and ``bad`` (severity 3-5; severity 2 is left out as borderline);
* scores: a 0-5 rating, ``5 - severity``.

Heads are trained (:func:`artlens.iqa.train.labels.train_from_labels`, frozen backbone) on the real ``train``
photos and judged (:func:`artlens.iqa.train.labels.evaluate_model`) on the ``heldout`` photos, so no photo is
on both sides. Compared in one run: the shipped model as it is (no labels; its 0-100 score), and heads on
the backbone's last convolution (mean, spread, max) or on six of its blocks (mean, spread; the shipped
model's embedding).

Needs ``imagecorruptions-imaug`` (see ``quality_accuracy.py``). Images and label files are written once to
``--data`` (about 1,500 PNGs) and reused.

``--native`` runs issue #24's scenario instead: the first 12 ``train`` photos of at least 2500 px (mate and
plasma wallpapers) labelled ``good``, and copies blurred with a Gaussian of sigma 3 and noisy at sigma 12 at
their full size labelled ``bad`` (JPEG quality 95, 36 images), 5-fold cross-validated with the default
settings: defects that only show at 100 %, which the labels trainer sees through native tiles.

    .venv/bin/python benchmarks/quality_labels.py [--data .data/bench-labels] [--json out.json] [--native]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from artlens.imageio import load_image
from artlens.iqa.config import QualityModelConfig, multi_level
from artlens.iqa.default import DEFAULT_MODEL_DIR
from artlens.iqa.train.labels import evaluate_model, read_labels, train_from_labels
from artlens.screening import metrics
from quality_accuracy import CORRUPTIONS, ROOT, SIDE, corruptor, manifest_rows

PER_PHOTO = 3  # corruptions per photo
EMBEDDINGS: dict[str, QualityModelConfig] = {
    "last conv": QualityModelConfig(),
    "six blocks": QualityModelConfig(**multi_level("mobilenet_v2")),
}


def photos(split: str) -> list[Path]:
    """The real photos (not the studio renders) of one split of the manifest."""
    return [Path(r["path"]) for r in manifest_rows(split) if r["source"] != "studio-renders"]


def write_side(split: str, out: Path, corrupt: Callable[..., np.ndarray], rng: np.random.Generator
               ) -> tuple[Path, Path]:
    """Corrupted copies of one split's photos as PNG, and its class and score label files."""
    folder = out / split
    folder.mkdir(parents=True, exist_ok=True)
    class_rows, score_rows = [], []
    for number, photo in enumerate(photos(split)):
        stem = f"{number:03d}-{photo.stem}"  # numbered: wallpapers of different packages share file names
        clean = metrics.working_image(load_image(photo).rgb, SIDE)
        series = [("clean", 0)]
        for c in rng.choice(len(CORRUPTIONS), PER_PHOTO, replace=False):
            series += [(CORRUPTIONS[c], s) for s in range(1, 6)]
        for corruption, severity in series:
            path = folder / (f"{stem}-clean.png" if severity == 0 else f"{stem}-{corruption}-{severity}.png")
            if not path.is_file():
                image = clean if severity == 0 else np.ascontiguousarray(
                    corrupt(clean, corruption_name=corruption, severity=severity)).astype(np.uint8)
                cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            score_rows.append((str(path), 5 - severity))
            if severity != 2:
                class_rows.append((str(path), "good" if severity <= 1 else "bad"))
    files = []
    for kind, rows in (("classes", class_rows), ("scores", score_rows)):
        file = out / f"{split}-{kind}.csv"
        with file.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "label" if kind == "classes" else "score"])
            writer.writerows(rows)
        files.append(file)
    return files[0], files[1]


NATIVE_SOURCES = ("mate-backgrounds", "plasma-workspace-wallpapers")
NATIVE_PHOTOS = 12
NATIVE_MIN_SIDE = 2500


def write_native(out: Path) -> Path:
    """Issue #24's label file: full-size photos ``good``, their native blur-3 and noise-12 copies ``bad``."""
    chosen = [Path(r["path"]) for r in manifest_rows("train") if r["source"] in NATIVE_SOURCES
              and max(int(r["width"]), int(r["height"])) >= NATIVE_MIN_SIDE][:NATIVE_PHOTOS]
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, photo in enumerate(chosen):
        rgb = load_image(photo).rgb
        noisy = rgb + np.random.default_rng(number).normal(0, 12, rgb.shape)
        cases = {"orig": (rgb, "good"), "blur3": (cv2.GaussianBlur(rgb, (0, 0), 3), "bad"),
                 "noise12": (np.clip(noisy, 0, 255).astype(np.uint8), "bad")}
        for case, (pixels, label) in cases.items():
            path = out / f"{number:02d}-{case}.jpg"
            if not path.is_file():
                bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
                cv2.imwrite(str(path), bgr, [cv2.IMWRITE_JPEG_QUALITY, 95])
            rows.append((path.name, label))
    file = out / "labels.csv"
    with file.open("w", newline="") as handle:
        csv.writer(handle).writerows([("path", "label"), *rows])
    return file


def run_native(data: Path, seed: int) -> dict:
    """5-fold figures of the default labels trainer on :func:`write_native`'s label file."""
    labels = write_native(data / "native")
    summary = train_from_labels(labels, data / "models" / f"native-seed{seed}", kfold=5, seed=seed)
    mean = summary["evaluation"]["mean"]
    print(f"{summary['n_used']} images, {summary['views']['tiles']} native tiles: 5-fold accuracy "
          f"{_fmt(mean['accuracy'])}, ROC-AUC {_fmt(mean['roc_auc'])}; warnings: {summary['warnings']}")
    return {"accuracy": mean["accuracy"], "roc_auc": mean["roc_auc"], "warnings": summary["warnings"],
            "views": summary["views"], "seconds": summary["seconds"]["total"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".data/bench-labels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the heads' training")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--native", action="store_true", help="issue #24's native blur/noise scenario only")
    args = parser.parse_args()
    if args.native:
        result = run_native(args.data, args.seed)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        return
    corrupt = corruptor()
    np.random.seed(0)  # imagecorruptions draws its noise from NumPy's global generator
    rng = np.random.default_rng(0)
    train = dict(zip(("classes", "scores"), write_side("train", args.data, corrupt, rng), strict=True))
    test = dict(zip(("classes", "scores"), write_side("heldout", args.data, corrupt, rng), strict=True))
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "seed": args.seed,
                                  "train_images": len(read_labels(train["scores"])),
                                  "test_images": len(read_labels(test["scores"])), "methods": {}}
    rows = {"shipped model, no labels": {kind: evaluate_model(DEFAULT_MODEL_DIR, test[kind])["metrics"]
                                         for kind in ("classes", "scores")}}
    for name, config in EMBEDDINGS.items():
        rows[f"labels, {name}"] = {}
        for kind in ("classes", "scores"):
            start = time.perf_counter()
            folder = args.data / "models" / f"{name.replace(' ', '-')}-{kind}-seed{args.seed}"
            train_from_labels(train[kind], folder, config=config, seed=args.seed)
            rows[f"labels, {name}"][kind] = evaluate_model(folder, test[kind])["metrics"]
            print(f"{name}, {kind}: trained and evaluated in {time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{results['train_images']} training images ({len(photos('train'))} photos), "
          f"{results['test_images']} test images ({len(photos('heldout'))} other photos)")
    print(f"{'method':>28}  accuracy  macro F1  ROC-AUC  | SRCC (scores)  PLCC")
    for name, row in rows.items():
        c, s = row["classes"], row["scores"]
        f1 = c.get("macro", {}).get("f1")
        print(f"{name:>28}  {_fmt(c.get('accuracy'))}  {_fmt(f1)}  {_fmt(c.get('roc_auc'))}"
              f"  | {_fmt(s.get('srcc'))}  {_fmt(s.get('plcc'))}")
        results["methods"][name] = {
            "accuracy": c.get("accuracy"), "macro_f1": f1, "roc_auc": c.get("roc_auc"),
            "class_srcc": c.get("srcc"), "srcc": s.get("srcc"), "plcc": s.get("plcc"), "rmse": s.get("rmse")}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _fmt(value: float | None) -> str:
    return f"{value:8.3f}" if value is not None else f"{'-':>8}"


if __name__ == "__main__":
    main()
