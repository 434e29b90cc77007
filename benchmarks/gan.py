"""GAN training on a few hundred public-domain drawings: FastGAN against DCGAN, with and without DiffAugment.

One invocation trains every configuration on the same images (one openclipart category, made square at
``--size``) and scores each at every budget from the same run (a budget is reached by resuming the run's
checkpoint, which continues bit-identically): KID and the Fréchet distance on EfficientNet-Lite0 features
(``kid_efflite0``, ``fd_efflite0``; not Inception, so not comparable with published FID), against all the
training images, with as many samples as there are training images; the memorisation check (near copies:
samples closer to a training image than half the median training-to-training nearest distance); and the
training speed (images/s wall, CPU-seconds per image) of each segment.

Configurations: ``fastgan`` (the default recipe: FastGAN, DiffAugment, hinge loss, EMA), ``fastgan-noaug``
(the same without DiffAugment), ``dcgan`` (Radford et al. 2016, ngf = ndf = 64, cross-entropy, no
augmentation, no EMA) and ``projected`` (FastGAN's generator against the Projected-GAN discriminator on frozen
EfficientNet-Lite0 features, Sauer et al. 2021), all at batch 16 and Adam 2e-4 (0.5, 0.999). Every row is
also scored on MobileNetV2 features (``kid_mnv2``, ``fd_mnv2``): a discriminator that looked at
EfficientNet-Lite0's features can please scores on those features more than the images deserve.

Usage::

    # the full protocol of issue #30 (about 3.5 hours of 2 dedicated cores):
    python benchmarks/gan.py --minutes 15,30,60 --threads 2 --doc
    # the same budgets as images, at each configuration's speed on 2 idle cores (measured by --speed and
    # saved in speed.json), so that a run on shared cores or one continued later trains exactly as much:
    python benchmarks/gan.py --minutes 15,30,60 --rates speed.json --threads 2 --continue --doc
    # the reduced run recorded in docs/benchmarks.md:
    python benchmarks/gan.py --kimg 2,4,8 --threads 1 --doc
    python benchmarks/gan.py --kimg 0.1 --quick      # smoke test
    python benchmarks/gan.py --speed --kimg 0.8 --threads 2 --doc   # training speed at 1 and 2 threads
    python benchmarks/gan.py --doc-from .data/gan-issue30/bench/results.json   # the table of a finished run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from _openclipart import ROOT, openclipart_category
from artlens.gan.data import load_folder
from artlens.gan.evaluate import score_features
from artlens.gan.features import FEATURES, SECOND_FEATURES, image_features
from artlens.gan.model import GanModel
from artlens.gan.sample import as_array, generate, grid
from artlens.gan.train import GanTrainSettings, train_gan
from artlens.models.backbones.device import configure_threads

CONFIGS = {
    "fastgan": GanTrainSettings(arch="fastgan"),
    "fastgan-noaug": GanTrainSettings(arch="fastgan", diffaugment=False),
    "dcgan": GanTrainSettings(arch="dcgan", width=64),
    "projected": GanTrainSettings(arch="fastgan", discriminator="projected"),
}
DOC = ROOT / "docs" / "benchmarks.md"


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--category", default="food", help="openclipart category (default food)")
    ap.add_argument("--size", type=int, default=64)
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument("--kimg", help="budgets in thousands of images, e.g. 2,4,8")
    budget.add_argument("--minutes", help="budgets in training minutes, e.g. 15,30,60")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / ".data" / "gan-issue30" / "bench"))
    ap.add_argument("--doc", action="store_true", help="write the table into docs/benchmarks.md")
    ap.add_argument("--grid", default=str(ROOT / "docs" / "images" / "gan-samples.png"))
    ap.add_argument("--quick", action="store_true", help="20 images, for a smoke test")
    ap.add_argument("--speed", action="store_true", help="only the training speed: each configuration for "
                    "the (first) --kimg budget at 1 and at --threads threads, no scores")
    ap.add_argument("--rescore-raw", action="store_true", help="score the raw (not averaged) generator of "
                    "each configuration's last checkpoint under --out, as the run scored its EMA generator")
    ap.add_argument("--variety", action="store_true", help="precision and recall (realism and variety "
                    "apart) of each configuration's saved generator under --out (its last budget), on both "
                    "feature networks, with the same samples the run scored")
    ap.add_argument("--rates", help="a speed.json of --speed: turn --minutes into each configuration's "
                    "kimg at its measured images/s (the most threads measured), so the budget does not "
                    "depend on load")
    ap.add_argument("--continue", dest="continue_run", action="store_true", help="keep the rows already "
                    "in OUT/rows.jsonl and resume each configuration from its checkpoint (a run stopped or "
                    "killed goes on where it was)")
    ap.add_argument("--table", default="gan-table", help="name of the table's markers in docs/benchmarks.md")
    ap.add_argument("--doc-from", help="write the table of an earlier run's results.json (or of the "
                    "rows.jsonl of a run still under way) into docs/benchmarks.md, and nothing else")
    args = ap.parse_args()
    if args.doc_from:
        source = Path(args.doc_from)
        result = _partial(args, source) if source.suffix == ".jsonl" else \
            json.loads(source.read_text(encoding="utf-8"))
        _write_doc(result, args.table)
        return
    torch.set_num_threads(args.threads)
    os.environ["ARTLENS_THREADS"] = str(args.threads)
    if not (args.kimg or args.minutes or args.rescore_raw or args.variety):
        ap.error("give --kimg or --minutes")
    budgets = _floats(args.kimg or args.minutes or "0")
    unit = "kimg" if args.kimg else "minutes"
    folder = openclipart_category(args.category)
    skipped: list[str] = []
    images, _ = load_folder(folder, args.size, on_error=lambda e: skipped.append(str(e)))
    if args.quick:
        images = images[:20]
    print(f"{len(images)} images from openclipart/{args.category} at {args.size} px "
          f"({len(skipped)} skipped); load {_load()}", flush=True)
    if args.speed:
        _speed(args, folder, images, budgets[0])
        return
    real = image_features(images, device=args.device)
    real2 = image_features(images, device=args.device, network=SECOND_FEATURES)
    if args.rescore_raw:
        _rescore_raw(args, images, real)
        return
    if args.variety:
        _variety(args, real, real2)
        return
    rates = _rates(Path(args.rates)) if args.rates else {}
    if rates and unit != "minutes":
        ap.error("--rates turns --minutes into images; it has no use with --kimg")
    log = Path(args.out) / "rows.jsonl"
    kept = _read_rows(log) if args.continue_run else []
    if not args.continue_run:
        log.unlink(missing_ok=True)
    started = dt.datetime.fromisoformat(kept[0]["started"]) if kept else dt.datetime.now(dt.UTC)
    rows, sheets = [], []
    for name in args.configs.split(","):
        settings = GanTrainSettings(**{**CONFIGS[name].__dict__, "size": args.size, "seed": args.seed})
        out = Path(args.out) / name
        for i, b in enumerate(budgets):
            old = [r for r in kept if r["config"] == name and r["budget"] == b]
            if old:
                rows.append(old[0])
                continue
            if rates and name not in rates:
                ap.error(f"{args.rates} has no speed for {name}")
            budget = {"kimg": b * 60 * rates[name] / 1000} if rates else {unit: b}
            resume = (out / "checkpoint.pt").exists() if args.continue_run else i > 0
            load_before = _load()
            run = train_gan(folder, out, settings=settings, images=images, device=args.device,
                            resume=resume, **budget)
            scores, second = _score_samples(run.model, real, real2, args)
            mem = scores["memorisation"]
            row = {"config": name, "budget": b, "unit": unit, "kimg": round(run.kimg, 3),
                   "train_minutes": round(run.train_seconds / 60, 2),
                   "images_per_s": round(run.images_per_second, 2),
                   "cpu_s_per_image": round(run.cpu_seconds_per_image, 4),
                   "kid": scores["kid"], "kid_std": scores["kid_std"], "kid_stderr": scores["kid_stderr"],
                   "fd": scores["fd"], "kid_mnv2": second["kid"], "kid_mnv2_std": second["kid_std"],
                   "fd_mnv2": second["fd"], "precision": scores["precision"], "recall": scores["recall"],
                   "precision_mnv2": second["precision"], "recall_mnv2": second["recall"],
                   "near_copies": mem["near_copies"],
                   "share_closer_than_train": mem["share_closer_than_train"],
                   "min_distance": min(r["distance"] for r in mem["nearest"]),
                   "load_before": load_before, "load_after": _load(),
                   "rate": rates.get(name), "started": started.isoformat()}
            rows.append(row)
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
        run_model = GanModel.load(out)
        sheets.append((name, grid(generate(run_model, 32, seed=args.seed + 2), columns=8)))
    finished = dt.datetime.now(dt.UTC)
    result = {"date": started.isoformat(timespec="minutes"),
              "finished": finished.isoformat(timespec="minutes"),
              "machine": f"{platform.machine()}, {os.cpu_count()} cores, {args.threads} torch thread(s)",
              "category": args.category, "images": len(images), "skipped": len(skipped), "size": args.size,
              "rows": rows, "command": "python benchmarks/gan.py " + " ".join(
                  a for a in os.sys.argv[1:])}
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "results.json").write_text(json.dumps(result, indent=2))
    _save_sheet(sheets, Path(args.grid))
    if args.doc:
        _write_doc(result, args.table)


def _partial(args: argparse.Namespace, rows_file: Path) -> dict:
    """The result of a run still under way (or stopped, to be continued) from its rows so far."""
    rows = _read_rows(rows_file)
    if not rows:
        raise SystemExit(f"{rows_file}: no rows yet")
    skipped: list[str] = []
    images, _ = load_folder(openclipart_category(args.category), args.size,
                            on_error=lambda e: skipped.append(str(e)))
    last = max(r["started"] for r in rows)
    return {"date": rows[0]["started"][:16],
            "finished": f"(not finished: the rows so far; the run last started {last[:16]})",
            "machine": f"{platform.machine()}, {os.cpu_count()} cores", "category": args.category,
            "images": len(images), "skipped": len(skipped), "size": args.size, "rows": rows,
            "command": f"python benchmarks/gan.py {' '.join(os.sys.argv[1:])}"}


def _rates(path: Path) -> dict[str, float]:
    """Each configuration's images/s at the most threads measured in a ``--speed`` run's speed.json."""
    best: dict[str, tuple[int, float]] = {}
    for r in json.loads(path.read_text(encoding="utf-8")):
        if r["config"] not in best or r["threads"] > best[r["config"]][0]:
            best[r["config"]] = (r["threads"], r["images_per_s"])
    return {name: ips for name, (_, ips) in best.items()}


def _read_rows(path: Path) -> list[dict]:
    """The rows an earlier invocation of the same run wrote, one JSON object per line."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rescore_raw(args: argparse.Namespace, images: np.ndarray, real: np.ndarray) -> None:
    """KID/FD of each configuration's raw generator in its last checkpoint (the run scored the EMA one)."""
    from artlens.gan.model import build_generator
    from artlens.training import load_checkpoint

    rows = []
    for name in args.configs.split(","):
        out = Path(args.out) / name
        saved = GanModel.load(out)
        state = load_checkpoint(out / "checkpoint.pt")["model"]
        raw = build_generator(saved.config)
        raw.load_state_dict({k.removeprefix("generator."): v for k, v in state.items()
                             if k.startswith("generator.")})
        model = GanModel(saved.config, raw.eval(), out)
        for label, gan in (("EMA (as saved)", saved), ("raw", model)):
            fake = as_array(generate(gan, len(images), seed=args.seed + 1))
            scores = score_features(real, image_features(fake, device=args.device), seed=args.seed)
            row = {"config": name, "generator": label, "kimg": saved.config.training.get("kimg"),
                   "kid": scores["kid"], "kid_std": scores["kid_std"], "fd": scores["fd"],
                   "near_copies": scores["memorisation"]["near_copies"], "load": _load()}
            rows.append(row)
            print(json.dumps(row), flush=True)
        sheet = grid(generate(model, 32, seed=args.seed + 2), columns=8)
        sheet.save(Path(args.out) / f"{name}-raw.png")
    when = dt.datetime.now(dt.UTC).isoformat(timespec="minutes")
    lines = [f"Run {when} UTC, {args.threads} torch thread(s); `python benchmarks/gan.py "
             f"{' '.join(os.sys.argv[1:])}`.", "",
             "| config | generator | kimg | KID (EffLite0) ± std | FD (EffLite0) | near copies | load |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['config']} | {r['generator']} | {r['kimg']} | {r['kid']:.4f} ± {r['kid_std']:.4f} "
              f"| {r['fd']:.2f} | {r['near_copies']} | {r['load']} |" for r in rows]
    (Path(args.out) / "raw.json").write_text(json.dumps(rows, indent=2))
    if args.doc:
        _replace_block("<!-- gan-raw:begin -->", "<!-- gan-raw:end -->", lines)


def _score_samples(model: GanModel, real: np.ndarray, real2: np.ndarray,
                   args: argparse.Namespace) -> tuple[dict, dict]:
    """Scores of as many samples as there are real images (seed + 1: the run's samples), on
    EfficientNet-Lite0's features and on MobileNetV2's."""
    fake = as_array(generate(model, len(real), seed=args.seed + 1))
    return tuple(score_features(r, image_features(fake, device=args.device, network=network), seed=args.seed)
                 for r, network in ((real, FEATURES), (real2, SECOND_FEATURES)))


def _variety(args: argparse.Namespace, real: np.ndarray, real2: np.ndarray) -> None:
    """Precision and recall of each configuration's saved generator (the samples the run scored last)."""
    networks = ("EffLite0", "MobileNetV2")
    rows = []
    for name in args.configs.split(","):
        model = GanModel.load(Path(args.out) / name)
        row = {"config": name, "kimg": model.config.training.get("kimg")}
        for label, scores in zip(networks, _score_samples(model, real, real2, args), strict=True):
            row[label] = {"kid": scores["kid"], "precision": scores["precision"], "recall": scores["recall"]}
        rows.append(row)
        print(json.dumps(row), flush=True)
    when = dt.datetime.now(dt.UTC).isoformat(timespec="minutes")
    lines = [f"Run {when} UTC; `python benchmarks/gan.py {' '.join(os.sys.argv[1:])}`; each configuration's "
             f"saved generator, {len(real)} samples (the run's own: KID repeats its last row), k = 3.", "",
             "| config | kimg | KID (EffLite0) | precision (EffLite0) | recall (EffLite0) "
             "| KID (MobileNetV2) | precision (MobileNetV2) | recall (MobileNetV2) |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['config']} | {r['kimg']:.1f} | " + " | ".join(
        f"{r[n]['kid']:.4f} | {r[n]['precision']:.3f} | {r[n]['recall']:.3f}" for n in networks) + " |"
        for r in rows]
    (Path(args.out) / "variety.json").write_text(json.dumps(rows, indent=2))
    if args.doc:
        _replace_block("<!-- gan-variety:begin -->", "<!-- gan-variety:end -->", lines)


def _speed(args: argparse.Namespace, folder: Path, images: np.ndarray, kimg: float) -> None:
    """Training speed of each configuration at 1 thread and at ``--threads`` threads, one after the other."""
    import tempfile

    rows = []
    started = dt.datetime.now(dt.UTC)
    for name in args.configs.split(","):
        settings = GanTrainSettings(**{**CONFIGS[name].__dict__, "size": args.size, "seed": args.seed})
        for threads in sorted({1, args.threads}):
            configure_threads(threads)  # train_gan keeps a count set this way (not $ARTLENS_THREADS)
            load_before = _load()
            with tempfile.TemporaryDirectory() as tmp:
                run = train_gan(folder, tmp, settings=settings, images=images, device=args.device, kimg=kimg)
            row = {"config": name, "threads": threads, "kimg": round(run.kimg, 3),
                   "images_per_s": round(run.images_per_second, 2),
                   "cpu_s_per_image": round(run.cpu_seconds_per_image, 4),
                   "load_before": load_before, "load_after": _load()}
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [f"Run {started.isoformat(timespec='minutes')} UTC, {platform.machine()}, {os.cpu_count()} "
             f"cores; `python benchmarks/gan.py {' '.join(os.sys.argv[1:])}`; {args.size} px, batch 16.", "",
             "| config | torch threads | kimg | images/s | CPU-s/image | load before / after |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['config']} | {r['threads']} | {r['kimg']:.2f} | {r['images_per_s']:.2f} "
              f"| {r['cpu_s_per_image']:.4f} | {r['load_before']} / {r['load_after']} |" for r in rows]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "speed.json").write_text(json.dumps(rows, indent=2))
    if args.doc:
        _replace_block("<!-- gan-speed:begin -->", "<!-- gan-speed:end -->", lines)


def _replace_block(begin: str, end: str, lines: list[str]) -> None:
    text = DOC.read_text(encoding="utf-8")
    block = begin + "\n" + "\n".join(lines) + "\n" + end
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


def _save_sheet(sheets: list[tuple[str, Image.Image]], path: Path) -> None:
    width = max(s.width for _, s in sheets)
    height = sum(s.height + 18 for _, s in sheets)
    page = Image.new("RGB", (width, height), "white")
    draw, y = ImageDraw.Draw(page), 0
    for name, sheet in sheets:
        draw.text((4, y + 3), name, fill="black")
        page.paste(sheet, (0, y + 18))
        y += sheet.height + 18
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path)


def _write_doc(result: dict, table: str = "gan-table") -> None:
    lines = [f"Run {result['date']} to {result['finished']} UTC, {result['machine']}; "
             f"`{result['command']}`; openclipart `{result['category']}`, {result['images']} images "
             f"({result['skipped']} skipped) at {result['size']} px."
             + (" Budgets in minutes are trained as images at each configuration's speed on 2 idle cores "
                "(`--rates`: " + ", ".join(sorted({f"{r['config']} {r['rate']:.1f} images/s" for r in
                                                   result["rows"] if r.get("rate")})) + "), so the train "
                "minutes column is longer where the cores were shared." if any(r.get("rate") for r in
                                                                              result["rows"]) else ""), "",
             "| config | budget | kimg | train min | images/s | CPU-s/image | KID (EffLite0) ± std | "
             "FD (EffLite0) | KID (MobileNetV2) ± std | FD (MobileNetV2) | near copies | "
             "share closer than train | load before / after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        second = (f"{r['kid_mnv2']:.4f} ± {r['kid_mnv2_std']:.4f} | {r['fd_mnv2']:.2f}" if "kid_mnv2" in r
                  else "– | –")
        lines.append(f"| {r['config']} | {r['budget']:g} {r['unit']} | {r['kimg']:.2f} "
                     f"| {r['train_minutes']:.1f} | {r['images_per_s']:.2f} | {r['cpu_s_per_image']:.4f} "
                     f"| {r['kid']:.4f} ± {r['kid_std']:.4f} | {r['fd']:.2f} | {second} "
                     f"| {r['near_copies']} | {r['share_closer_than_train']:.3f} "
                     f"| {r['load_before']} / {r['load_after']} |")
    _replace_block(f"<!-- {table}:begin -->", f"<!-- {table}:end -->", lines)


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - t0:.0f} s; load {_load()}")
