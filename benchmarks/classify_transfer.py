"""Scene recognition from few images: tutorial CNN vs. plain probe vs. artlens linear and fine-tuned models.

Data: the Scratch 1.4 backgrounds (Debian package ``scratch``, CC-BY-SA-3.0, see docs/data.md), extracted
under ``.data/scratch/usr/share/scratch/Media/Backgrounds/``: 480x360 scene images in four folders
(Indoors, Nature, Outdoors, Sports), 73 images. Any other ImageFolder tree works with ``--data``.

Every method sees the same seeded stratified K folds (the set is small) and is scored on the pooled
out-of-fold predictions:

* ``small CNN``: the network of most tutorials, trained from scratch: three conv3x3 (16, 32, 64) + ReLU +
  2x2 max-pool stages, dense 128, the classes; 224x224 inputs scaled to [0, 1], random flips, Adam 1e-3;
* ``plain probe``: multinomial logistic regression on MobileNetV2 pooled features, as a tutorial would do it
  (no class weights, no standardisation, no calibration; L2 as scikit-learn's default C=1, L-BFGS);
* ``artlens linear`` and ``artlens finetune`` with each offline backbone: ``train_linear`` /
  ``train_finetune`` on the training folds only (their own validation split is carved from those), then
  ``load_classifier`` on the held-out fold.

Train time is seconds per fold with backbone features already cached (the one-off feature extraction is
reported apart). Inference is images per second from decoded RGB images (480x360) to probabilities, with
the preprocessing, at 224 px, batches of 32, on ``--threads`` threads (2 by default); artlens models are
timed through ONNX Runtime when ``artlens.classify.export.export_onnx`` is available, else PyTorch.

    .venv/bin/python benchmarks/classify_transfer.py [--data DIR] [--folds 5] [--json out.json]
    .venv/bin/python benchmarks/classify_transfer.py --quick     # smoke run: 2 folds, 1-2 epochs
"""

from __future__ import annotations

import argparse
import json
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

from artlens.classify.data import load_dataset
from artlens.classify.features import embed_paths
from artlens.classify.model import load_classifier
from artlens.classify.train.finetune import train_finetune
from artlens.classify.train.linear import train_linear
from artlens.errors import ArtlensError
from artlens.evaluation import classification_metrics, stratified_kfold
from artlens.imageio import load_image
from artlens.models.backbones import configure_threads, get_backbone

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data/scratch/usr/share/scratch/Media/Backgrounds"
BACKBONES = ("mobilenet_v2", "efficientnet_lite0")
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


def cnn_input(rgbs: list[np.ndarray]) -> torch.Tensor:
    """Squash-resize to 224x224 and scale to [0, 1], as ``image_dataset_from_directory`` + ``Rescaling``."""
    arr = np.stack([cv2.resize(im, (SIZE, SIZE), interpolation=cv2.INTER_AREA) for im in rgbs])
    return torch.from_numpy(arr.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


def train_cnn(x: torch.Tensor, y: np.ndarray, n_classes: int, epochs: int, seed: int) -> SmallCNN:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = SmallCNN(n_classes)
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

def run(args: argparse.Namespace) -> dict:
    threads = configure_threads(args.threads)
    data = load_dataset(args.data)
    head = next(iter(data.heads))
    classes = data.heads[head]
    y_all = data.labels[head]
    rgbs = [load_image(p).rgb for p in data.paths]
    folds = stratified_kfold(y_all, args.folds, seed=args.seed)
    n = len(y_all)
    print(f"{args.data}: {n} images, classes {dict(zip(classes, np.bincount(y_all).tolist(), strict=True))}, "
          f"{args.folds} folds, {threads} threads", file=sys.stderr)

    # one-off feature extraction (also fills the cache artlens linear / finetune read)
    embed_seconds, feats = {}, {}
    for name in BACKBONES:
        t0 = time.perf_counter()
        x, _, skipped = embed_paths(data.paths, get_backbone(name, device="cpu"), sha256=data.sha256)
        if skipped:
            sys.exit(f"unreadable images: {skipped}")
        embed_seconds[name], feats[name] = time.perf_counter() - t0, x

    preds: dict[str, np.ndarray] = {}
    seconds: dict[str, list[float]] = {}
    speed: dict[str, tuple[float, str]] = {}
    bench_rgbs = (rgbs * (1 + 64 // n))[:64] if args.quick else (rgbs * (1 + 256 // n))[:256]
    repeats = 1

    def record(key: str, fold_val: np.ndarray, pred: np.ndarray, dt: float) -> None:
        preds.setdefault(key, np.full(n, -1))[fold_val] = pred
        seconds.setdefault(key, []).append(dt)

    # (a) the tutorial CNN from scratch
    x_cnn = cnn_input(rgbs)
    for f, (train, val) in enumerate(folds):
        t0 = time.perf_counter()
        net = train_cnn(x_cnn[train], y_all[train], len(classes), args.cnn_epochs, args.seed + f)
        dt = time.perf_counter() - t0
        with torch.inference_mode():
            record("small CNN (scratch)", val, net(x_cnn[val]).argmax(1).numpy(), dt)
    with torch.inference_mode():
        speed["small CNN (scratch)"] = (images_per_second(lambda b: net(cnn_input(b)).softmax(1), bench_rgbs,
                                                          repeats), "torch")

    # (b) the plain logistic-regression probe on MobileNetV2 features
    mnet = get_backbone("mobilenet_v2", device="cpu")
    for train, val in folds:
        t0 = time.perf_counter()
        w, b = fit_plain_probe(feats["mobilenet_v2"][train], y_all[train], len(classes))
        dt = time.perf_counter() - t0
        record("plain probe / mobilenet_v2", val, (torch.as_tensor(feats["mobilenet_v2"][val]) @ w.T + b)
               .argmax(1).numpy(), dt)
    speed["plain probe / mobilenet_v2"] = (images_per_second(
        lambda batch: (torch.as_tensor(mnet.features(batch)) @ w.T + b).softmax(1), bench_rgbs, repeats),
        "torch")

    # (c, d) artlens linear and finetune with each backbone
    ft = {"epochs": args.epochs, "patience": args.patience}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("linear", "finetune"):
            for name in BACKBONES:
                key = f"artlens {mode} / {name}"
                for f, (train, val) in enumerate(folds):
                    out = Path(tmp) / f"{mode}-{name}-{f}"
                    t0 = time.perf_counter()
                    if mode == "linear":
                        train_linear(data.subset(train), out, backbone=name, seed=args.seed, device="cpu")
                    else:
                        train_finetune(data.subset(train), out, backbone=name, seed=args.seed, device="cpu",
                                       **ft)
                    dt = time.perf_counter() - t0
                    clf = load_classifier(out, device="cpu", use_onnx=False)
                    probs = clf.probabilities([rgbs[i] for i in val])[head]
                    record(key, val, probs.argmax(1), dt)
                    print(f"  {key} fold {f + 1}/{len(folds)}: {dt:.1f} s", file=sys.stderr)
                export_onnx_if_possible(out)
                clf = load_classifier(out, device="cpu")
                runtime = "onnxruntime" if clf.onnx is not None else "torch"
                speed[key] = (images_per_second(lambda batch, c=clf: c.probabilities(batch), bench_rgbs,
                                                repeats), runtime)

    rows = []
    for key, pred in preds.items():
        m = classification_metrics(y_all, pred, classes)
        rows.append({"method": key, "accuracy": m["accuracy"], "macro_f1": m["macro"]["f1"],
                     "train_s_per_fold": float(np.mean(seconds[key])), "images_per_s": speed[key][0],
                     "runtime": speed[key][1],
                     "per_class_f1": {c: m["per_class"][c]["f1"] for c in classes}})
    default = next(r for r in rows if r["method"] == "artlens linear / mobilenet_v2")
    probe = next(r for r in rows if r["method"] == "plain probe / mobilenet_v2")
    return {
        "benchmark": "classify_transfer", "date": time.strftime("%Y-%m-%d"), "data": str(args.data),
        "n_images": n, "classes": classes, "folds": args.folds, "seed": args.seed, "threads": threads,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "torch": torch.__version__,
        "settings": {"cnn_epochs": args.cnn_epochs, "finetune_epochs": args.epochs, "patience": args.patience,
                     "quick": args.quick},
        "feature_extraction_s": embed_seconds, "rows": rows,
        "targets": {"default_beats_plain_probe_macro_f1": default["macro_f1"] > probe["macro_f1"],
                    "onnx_at_least_50_images_per_s": all(r["images_per_s"] >= 50 for r in rows
                                                         if r["runtime"] == "onnxruntime") and any(
                        r["runtime"] == "onnxruntime" for r in rows)},
    }


def markdown(result: dict) -> str:
    lines = [f"{result['n_images']} images, {len(result['classes'])} classes, {result['folds']}-fold "
             f"out-of-fold predictions, {result['threads']} threads",
             "", "| method | accuracy | macro-F1 | train s/fold | inference img/s (224 px) | runtime |",
             "|---|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['method']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
                     f"{r['train_s_per_fold']:.1f} | {r['images_per_s']:.0f} | {r['runtime']} |")
    extraction = ", ".join(f"{k} {v:.1f} s" for k, v in result["feature_extraction_s"].items())
    lines += ["", f"One-off feature extraction (cached afterwards): {extraction}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA,
                        help="ImageFolder tree (default: the Scratch backgrounds)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10, help="artlens finetune epochs (most)")
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--cnn-epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 folds, 1 finetune / 2 CNN epochs")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    if not args.data.is_dir():
        sys.exit(f"{args.data} not found: extract Debian's scratch package there (see docs/data.md)")
    if args.quick:
        args.folds, args.epochs, args.cnn_epochs = 2, 1, 2
    result = run(args)
    print(markdown(result))
    print()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
