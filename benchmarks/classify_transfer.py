"""Recognition from few, imbalanced images: tutorial CNN vs. plain probe vs. ``artlens train classify``.

Three labelled sets (``benchmarks/_labelled_sets.py``; licences in docs/data.md), each read from small
lossless copies (shorter side 384 px, made once):

* ``scratch``: the Scratch 1.4 backgrounds, 4 scene classes, 73 images;
* ``openclipart``: 10 openclipart-png categories (public domain), 100 drawings at most, 3 classes cut to
  23-29 on purpose, 768 images;
* ``styles``: photographs vs renders (digital paintings, abstract wallpapers) vs drawings, 201 images.

Every method sees the same 5 seeded, stratified, grouped 50/50 splits (copies of one picture stay on one
side) and is scored on the test half; the table gives the mean over the splits.

* ``small CNN``: the network of most tutorials, trained from scratch: three conv3x3 (16, 32, 64) + ReLU +
  2x2 max-pool stages, dense 128, the classes; ``--cnn-size`` px inputs scaled to [0, 1], random flips,
  Adam 1e-3, ``--cnn-epochs`` epochs;
* ``plain probe``: multinomial logistic regression on MobileNetV2 pooled features, as a tutorial would do it
  (no class weights, no standardisation, no calibration; L2 as scikit-learn's default C=1, L-BFGS);
* ``artlens default``: ``train_linear`` with its defaults on the training half (its own validation split,
  inner cross-validation and calibration inside it), predictions from its model on the test half.
* ``artlens --mode finetune`` (``--finetune-splits N``, off by default: minutes per split): ``train_finetune``
  with its defaults (LP-FT of MobileNetV2's last 3 blocks) on the training half, predictions from images.

Train time is seconds per split with features cached (``cold`` columns: the first split with an empty
feature cache, extraction included). ``--time-1000`` also times one cold ``artlens train classify`` default
run on 1,000 openclipart drawings (feature extraction included). Inference is images per second from
decoded 480x360 RGB images to probabilities at 224 px, batches of 32, on ``--threads`` threads; the
artlens model runs from its ONNX export.

    .venv/bin/python benchmarks/classify_transfer.py [--sets scratch openclipart styles] [--json out.json]
    .venv/bin/python benchmarks/classify_transfer.py --quick     # smoke run: scratch, 2 splits, 2 epochs
    .venv/bin/python benchmarks/classify_transfer.py --time-1000-only  # the cold 1,000-image train time
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _labelled_sets import OPENCLIPART_CLASSES, SETS, LabelledSet, openclipart_categories, small_copies
from artlens.classify.data import Dataset
from artlens.classify.features import embed_paths
from artlens.classify.model import load_classifier
from artlens.classify.train.finetune import train_finetune
from artlens.classify.train.linear import train_linear
from artlens.errors import ArtlensError
from artlens.evaluation import classification_metrics
from artlens.imageio import load_image
from artlens.models.backbones import configure_threads, get_backbone
from artlens.training.splits import make_splits

SIZE = 224


# -- the tutorial baselines ----------------------------------------------------------------------------------

class SmallCNN(nn.Module):
    """3 x (conv3x3 + ReLU + max-pool 2x2), dense 128, linear classifier: the usual tutorial network."""

    def __init__(self, n_classes: int, size: int = SIZE) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for cin, cout in ((3, 16), (16, 32), (32, 64)):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * (size // 8) ** 2, 128), nn.ReLU(),
                                        nn.Linear(128, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def cnn_input(rgbs: list[np.ndarray], size: int = SIZE) -> torch.Tensor:
    """Squash-resize to size x size and scale to [0, 1] (``image_dataset_from_directory`` + ``Rescaling``)."""
    arr = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in rgbs])
    return torch.from_numpy(arr.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


def train_cnn(x: torch.Tensor, y: np.ndarray, n_classes: int, epochs: int, seed: int,
              size: int = SIZE) -> SmallCNN:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = SmallCNN(n_classes, size)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    target = torch.as_tensor(y, dtype=torch.int64)
    net.train()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 16):
            idx = order[start:start + 16]
            batch = x[idx]
            flip = torch.as_tensor(rng.random(len(idx)) < 0.5)
            batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
            loss = F.cross_entropy(net(batch), target[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def fit_plain_probe(x: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Unweighted softmax regression on raw features, L2 = 1 / (2 C N) with C = 1 (scikit-learn's default)."""
    xt, yt = torch.as_tensor(x), torch.as_tensor(y, dtype=torch.int64)
    w = torch.zeros(n_classes, x.shape[1], requires_grad=True)
    b = torch.zeros(n_classes, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=100, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = F.cross_entropy(xt @ w.T + b, yt) + (w * w).sum() / (2.0 * len(y))
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


# -- timing --------------------------------------------------------------------------------------------------

def images_per_second(predict, rgbs: list[np.ndarray], repeats: int) -> float:
    """Throughput of ``predict`` over batches of 32 images, after one warm-up batch."""
    predict(rgbs[:32])
    t0 = time.perf_counter()
    n = 0
    for _ in range(repeats):
        for i in range(0, len(rgbs), 32):
            predict(rgbs[i:i + 32])
            n += len(rgbs[i:i + 32])
    return n / (time.perf_counter() - t0)


def export_onnx_if_possible(model_dir: Path) -> None:
    """Write ``model.onnx`` when the exporter is there; a failed export leaves PyTorch inference."""
    try:
        from artlens.classify.export import export_onnx
    except ImportError:
        return
    try:
        export_onnx(model_dir)
    except ArtlensError as exc:
        print(f"  ONNX export failed, timing PyTorch: {exc}", file=sys.stderr)


# -- the run -------------------------------------------------------------------------------------------------

def as_dataset(data: LabelledSet, rows: np.ndarray) -> Dataset:
    return Dataset([data.paths[i] for i in rows], {"label": list(data.classes)}, {"label": data.labels[rows]})


def default_predict(model_dir: Path, data: LabelledSet, rows: np.ndarray) -> np.ndarray:
    """Classes the saved artlens model gives the images ``rows`` (its backbone, pooling and framing, from the
    feature cache)."""
    clf = load_classifier(model_dir, device="cpu", use_onnx=False)
    feats = clf.net.feature_settings()
    x, _, skipped = embed_paths([data.paths[i] for i in rows], clf.backbone, pooling=feats["pooling"],
                                flip=feats["flip"], framing=feats["framing"])
    if skipped:
        sys.exit(f"unreadable images: {skipped}")
    return clf.probabilities_from_features(x)["label"].argmax(1)


def run_set(name: str, args: argparse.Namespace, tmp: Path) -> dict:
    data = small_copies(SETS[name]())
    y, k, n = data.labels, len(data.classes), len(data.paths)
    splits = [make_splits(y, val_split=0.5, seed=args.seed + s, groups=data.groups)[0]
              for s in range(args.splits)]
    print(f"{name}: {n} images, {data.counts()}, {args.splits} grouped 50/50 splits", file=sys.stderr)
    mnet = get_backbone("mobilenet_v2", device="cpu")
    results: dict[str, dict[str, list[float]]] = {}

    def record(key: str, test: np.ndarray, pred: np.ndarray, dt: float) -> None:
        m = classification_metrics(y[test], pred, data.classes)
        r = results.setdefault(key, {"accuracy": [], "macro_f1": [], "train_s": []})
        r["accuracy"].append(m["accuracy"])
        r["macro_f1"].append(m["macro"]["f1"])
        r["train_s"].append(dt)

    # artlens default first: its first split runs with an empty feature cache (extraction timed)
    cold: dict[str, float] = {}
    for s, (train, test) in enumerate(splits):
        out = tmp / f"{name}-default-{s}"
        t0 = time.perf_counter()
        summary = train_linear(as_dataset(data, train), out, seed=args.seed, device="cpu",
                               cache=s > 0 or not args.cold)
        dt = time.perf_counter() - t0
        if s == 0:
            cold = {"train_s": dt, "embed_s": summary["seconds"]["embed"], "n_train": int(train.size),
                    "load_average": os.getloadavg()[0]}
            # fill the cache for the test half the same way (not timed: it is prediction)
        record("artlens default", test, default_predict(out, data, test), dt)
        print(f"  artlens default split {s + 1}: {dt:.1f} s, features {summary['features']}", file=sys.stderr)
    # the plain probe on MobileNetV2's average-pooled features: the last 1280 columns of the cached
    # multi-depth features are exactly those
    x_multi, _, _ = embed_paths(data.paths, mnet, pooling="multi")
    x_avg = np.ascontiguousarray(x_multi[:, -mnet.spec.feature_dim:])
    for train, test in splits:
        t0 = time.perf_counter()
        w, b = fit_plain_probe(x_avg[train], y[train], k)
        dt = time.perf_counter() - t0
        pred = (torch.as_tensor(x_avg[test]) @ w.T + b).argmax(1).numpy()
        record("plain probe / mobilenet_v2", test, pred, dt)
    # the tutorial CNN from scratch
    x_cnn = cnn_input([load_image(p).rgb for p in data.paths], args.cnn_size)
    for s, (train, test) in enumerate(splits[:args.cnn_splits]):
        t0 = time.perf_counter()
        net = train_cnn(x_cnn[train], y[train], k, args.cnn_epochs, args.seed + s, args.cnn_size)
        dt = time.perf_counter() - t0
        with torch.inference_mode():
            record("small CNN (scratch)", test, net(x_cnn[test]).argmax(1).numpy(), dt)
        print(f"  small CNN split {s + 1}: {dt:.1f} s", file=sys.stderr)
    # artlens --mode finetune (LP-FT, its defaults), on the first --finetune-splits splits only: minutes each
    for s, (train, test) in enumerate(splits[:args.finetune_splits]):
        out = tmp / f"{name}-finetune-{s}"
        t0 = time.perf_counter()
        train_finetune(as_dataset(data, train), out, seed=args.seed, device="cpu")
        dt = time.perf_counter() - t0
        clf = load_classifier(out, device="cpu", use_onnx=False)
        probs = clf.probabilities([load_image(data.paths[i]).rgb for i in test])["label"]
        record("artlens --mode finetune", test, probs.argmax(1), dt)
        print(f"  artlens finetune split {s + 1}: {dt:.1f} s", file=sys.stderr)
    rows = []
    for key, r in results.items():
        rows.append({"method": key, "splits": len(r["accuracy"]), "accuracy": float(np.mean(r["accuracy"])),
                     "macro_f1": float(np.mean(r["macro_f1"])), "macro_f1_sd": float(np.std(r["macro_f1"])),
                     "train_s_per_split": float(np.mean(r["train_s"]))})
    by = {r["method"]: r for r in rows}
    gain = by["artlens default"]["macro_f1"] - by["plain probe / mobilenet_v2"]["macro_f1"]
    return {"set": name, "n_images": n, "classes": data.counts(), "rows": rows, "cold_first_split": cold,
            "default_minus_probe_macro_f1": gain, "target_met": bool(gain >= 0.05)}


def time_1000(tmp: Path, seed: int) -> dict:
    """One cold default training run (feature extraction included) on 1,000 openclipart drawings."""
    data = small_copies(openclipart_categories(dict.fromkeys(OPENCLIPART_CLASSES, 100)))
    rows = np.arange(len(data.paths))
    load = os.getloadavg()
    t0 = time.perf_counter()
    summary = train_linear(as_dataset(data, rows), tmp / "time-1000", seed=seed, device="cpu", cache=False)
    return {"n_images": len(data.paths), "seconds": time.perf_counter() - t0,
            "embed_s": summary["seconds"]["embed"],
            "fit_s": summary["seconds"]["fit"], "load_average_before": load,
            "load_average_after": os.getloadavg()}


def inference_speed(tmp: Path, args: argparse.Namespace) -> dict[str, tuple[float, str]]:
    """Images/s of the plain probe, the small CNN and the artlens default model (ONNX) on 480x360 images."""
    scratch = SETS["scratch"]()
    rgbs = [load_image(p).rgb for p in scratch.paths]
    bench = (rgbs * 4)[:64 if args.quick else 128]
    out = tmp / "speed-model"
    train_linear(as_dataset(scratch, np.arange(len(rgbs))), out, seed=args.seed, device="cpu")
    mnet = get_backbone("mobilenet_v2", device="cpu")
    w = torch.zeros(len(scratch.classes), mnet.spec.feature_dim)
    b = torch.zeros(len(scratch.classes))
    net = SmallCNN(len(scratch.classes), args.cnn_size).eval()
    speed = {}
    with torch.inference_mode():
        speed["small CNN (scratch)"] = (images_per_second(
            lambda x: net(cnn_input(x, args.cnn_size)).softmax(1), bench, 1), "torch")
    speed["plain probe / mobilenet_v2"] = (images_per_second(
        lambda batch: (torch.as_tensor(mnet.features(batch)) @ w.T + b).softmax(1), bench, 1), "torch")
    export_onnx_if_possible(out)
    clf = load_classifier(out, device="cpu")
    speed["artlens default"] = (images_per_second(lambda batch: clf.probabilities(batch), bench, 1),
                                "onnxruntime" if clf.onnx is not None else "torch")
    return speed


def run(args: argparse.Namespace) -> dict:
    threads = configure_threads(args.threads)
    sets = []
    if args.time_1000_only:
        with tempfile.TemporaryDirectory() as tmp:
            return {"benchmark": "classify_transfer", "threads": threads, "sets": [],
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "time_1000": time_1000(Path(tmp), args.seed)}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            sets.append(run_set(name, args, Path(tmp)))
            print(json.dumps(sets[-1]), file=sys.stderr, flush=True)  # kept even if a later step fails
        speed = inference_speed(Path(tmp), args)
        timing = time_1000(Path(tmp), args.seed) if args.time_1000 else None
    for s in sets:
        for r in s["rows"]:
            r["images_per_s"], r["runtime"] = speed.get(r["method"], (None, "torch"))  # finetune: not timed
    return {
        "benchmark": "classify_transfer", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_end": os.getloadavg(), "splits": args.splits, "seed": args.seed, "threads": threads,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "torch": torch.__version__,
        "settings": {"cnn_epochs": args.cnn_epochs, "cnn_size": args.cnn_size, "cnn_splits": args.cnn_splits,
                     "quick": args.quick},
        "sets": sets, "time_1000": timing,
        "targets": {"default_beats_probe_by_0.05_on_every_set": all(s["target_met"] for s in sets),
                    "inference_at_least_50_images_per_s": speed["artlens default"][0] >= 50,
                    "trains_1000_in_under_120_s": None if timing is None else timing["seconds"] < 120},
    }


def markdown(result: dict) -> str:
    lines = []
    for s in result["sets"]:
        lines += ["", f"**{s['set']}** ({s['n_images']} images: " +
                  ", ".join(f"{c} {v}" for c, v in s["classes"].items()) + ")", "",
                  "| method | accuracy | macro-F1 (sd) | train s/split | inference img/s (224 px) "
                  "| runtime |",
                  "|---|---:|---:|---:|---:|---|"]
        for r in s["rows"]:
            splits = "" if r["splits"] == result["splits"] else f" ({r['splits']} splits)"
            lines.append(f"| {r['method']}{splits} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} "
                         f"({r['macro_f1_sd']:.3f}) | {r['train_s_per_split']:.1f} | "
                         f"{'—' if r['images_per_s'] is None else format(r['images_per_s'], '.0f')} | "
                         f"{r['runtime']} |")
        c = s["cold_first_split"]
        lines += ["", f"default - plain probe macro-F1: {s['default_minus_probe_macro_f1']:+.3f} "
                  f"(target +0.05: {'met' if s['target_met'] else 'MISSED'}); first split with an empty "
                  f"cache: {c.get('train_s', 0):.1f} s for {c.get('n_train', 0)} images "
                  f"(extraction {c.get('embed_s', 0):.1f} s, load {c.get('load_average', 0):.1f})."]
    t = result.get("time_1000")
    if t:
        lines += ["", f"Cold default training on {t['n_images']} openclipart drawings: {t['seconds']:.1f} s "
                  f"(extraction {t['embed_s']:.1f} s, fit {t['fit_s']:.1f} s), load average "
                  f"{t['load_average_before'][0]:.1f} before, {t['load_average_after'][0]:.1f} after."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["scratch", "openclipart", "styles"], choices=list(SETS))
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cnn-epochs", type=int, default=30)
    parser.add_argument("--cnn-size", type=int, default=SIZE)
    parser.add_argument("--cnn-splits", type=int, default=5, help="splits the small CNN is trained on")
    parser.add_argument("--finetune-splits", type=int, default=0,
                        help="also fine-tune (--mode finetune, its defaults) on this many splits")
    parser.add_argument("--cold", action="store_true", help="first split of each set with an empty cache")
    parser.add_argument("--time-1000", action="store_true", help="time a cold default run on 1,000 images")
    parser.add_argument("--time-1000-only", action="store_true",
                        help="only the cold default run on 1,000 images (no sets, no inference timing)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: scratch, 2 splits, 2 CNN epochs")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    if args.quick:
        args.sets, args.splits, args.cnn_epochs, args.cnn_splits = ["scratch"], 2, 2, 2
    result = run(args)
    print(markdown(result))
    print()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
