"""Development split for the quality recipe: retrain without 15 train photos, score their ImageNet-C copies.

``quality_accuracy.py`` judges the shipped model on the ``heldout`` photos; tuning the recipe on those would
make its figures optimistic. Recipe changes are compared here instead: every 4th of the first 60 ``train``
rows of ``.data/pristine/manifest.csv`` (15 real photos; the studio renders come after them) is set aside,
the recipe (:func:`artlens.iqa.train.recipe.train_on_pristine`, with any ``--set`` overrides) trains on the
other train photos, and the set-aside photos are scored at 768 px under the 13 ImageNet-C corruptions of
``quality_accuracy.py`` at severities 1-5. It reports mean per-(photo, corruption) and pooled Spearman with
severity for the fused model and for each of its two heads alone, and the mean per corruption. Two more
figures show where the pooled one is lost (:func:`pooled_losses`).

Needs ``imagecorruptions-imaug`` (see ``quality_accuracy.py``). The training features are cached under
``--cache-dir`` (a first run embeds about 5,900 crops: about 7 min on 2 CPU cores; later runs with the same
data and embedding settings take minutes; ``--set finetune_blocks=7`` adds about 26 min of fine-tuning).

    .venv/bin/python benchmarks/quality_dev_split.py [--set per_crop=5 --set descriptor_weight=3] [--json F]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from artlens.errors import ConfigError
from artlens.imageio import load_image
from artlens.iqa.heads import known_descriptors
from artlens.iqa.model import QualityModel
from artlens.iqa.train.recipe import parse_overrides, pristine_files, train_on_pristine
from artlens.iqa.train.training_set import cached_arrays, descriptor_code_digest
from artlens.screening import metrics
from artlens.training.progress import ProgressEvent
from quality_accuracy import CORRUPTIONS, MANIFEST, ROOT, SIDE, corruptor, severity_series

#: The set-aside photos: ``train[DEV_ROWS]``.
DEV_ROWS = slice(0, 60, 4)


def dev_features(model: QualityModel, photos: list[Path], cache: Path, corrupt: Callable[..., np.ndarray]
                 ) -> dict[str, np.ndarray]:
    """CNN features, descriptors and (photo, corruption, severity) rows of corrupted dev photos, cached."""
    embedding = model.config.embedding_settings()
    key = hashlib.sha256(json.dumps({"photos": [str(p) for p in photos], "side": SIDE,
                                     "corruptions": CORRUPTIONS, "embedding": embedding,
                                     "descriptors": list(model.config.descriptors),
                                     "descriptor_code": descriptor_code_digest()},
                                    sort_keys=True).encode()).hexdigest()

    def compute() -> dict[str, np.ndarray]:
        np.random.seed(0)  # imagecorruptions draws its noise from NumPy's global generator
        features, descriptors, rows = [], [], []
        start = time.perf_counter()
        for p, path in enumerate(photos):
            clean = metrics.working_image(load_image(path).rgb, SIDE)
            for c, corruption in enumerate(CORRUPTIONS):
                images = severity_series(clean, corruption, corrupt)
                features.append(model.embed(images).numpy())
                descriptors.append(model.describe(images))
                rows.extend((p, c, s) for s in range(6))
            seconds = time.perf_counter() - start
            print(f"dev photo {p + 1}/{len(photos)} embedded ({seconds:.0f} s)", flush=True)
        return {"features": np.concatenate(features), "descriptors": np.concatenate(descriptors),
                "rows": np.asarray(rows, np.int64)}

    return cached_arrays(cache, key, compute)  # the training set's .npz cache, keyed the same way


def head_outputs(model: QualityModel, data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Raw scores of the fused model and of each head alone (higher is better for all three)."""
    features = torch.as_tensor(data["features"])
    out = {"fused": model.raw_scores(features, data["descriptors"])}
    with torch.inference_mode():
        out["cnn head"] = model.head.eval()(features).double().numpy()
        if model.descriptor_head is not None:
            known = known_descriptors(torch.as_tensor(data["descriptors"]), model.descriptor_head)
            out["descriptor head"] = model.descriptor_head.eval()(known).double().numpy()
    return out


def pooled_losses(scores: np.ndarray, rows: np.ndarray) -> tuple[float, float]:
    """Where the pooled Spearman is lost: its value with each photo's clean score subtracted from all of the
    photo's scores (content offsets gone), and with every score replaced by the mean over photos of its
    (corruption, severity) (only the corruptions' mean curves left: the most any spread across photos
    could give back)."""
    shifted = scores.astype(np.float64).copy()
    curves = np.empty_like(shifted)
    for p in np.unique(rows[:, 0]):
        mine = rows[:, 0] == p
        shifted[mine] -= scores[mine & (rows[:, 2] == 0)].mean()
    for c, s in {(int(c), int(s)) for _, c, s in rows}:
        cell = (rows[:, 1] == c) & (rows[:, 2] == s)
        curves[cell] = scores[cell].mean()
    return (float(spearmanr(shifted, -rows[:, 2])[0]), float(spearmanr(curves, -rows[:, 2])[0]))


def agreement(scores: np.ndarray, rows: np.ndarray) -> tuple[float, float, dict[str, float]]:
    """Mean per-(photo, corruption) Spearman with quality order, pooled Spearman, mean per corruption."""
    per_corruption: dict[str, list[float]] = {c: [] for c in CORRUPTIONS}
    for p, c in sorted({(int(p), int(c)) for p, c, _ in rows}):
        mask = (rows[:, 0] == p) & (rows[:, 1] == c)
        rho = spearmanr(scores[mask], -rows[mask, 2])[0]
        per_corruption[CORRUPTIONS[c]].append(0.0 if np.isnan(rho) else float(rho))
    every = [rho for values in per_corruption.values() for rho in values]
    pooled = float(spearmanr(scores, -rows[:, 2])[0])
    return float(np.mean(every)), pooled, {c: float(np.mean(v)) for c, v in per_corruption.items()}


def print_stage(event: ProgressEvent) -> None:
    """The training's progress, a line per stage and epoch (not per step)."""
    if event.stage != "step":
        figures = " ".join(f"{k} {v:.4g}" for k, v in event.metrics.items())
        print(f"{event.stage} {event.done}/{event.total} {figures}".rstrip(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a setting of artlens.iqa.train.recipe.RECIPE (repeatable)")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".data/cache/dev-split")
    parser.add_argument("--out", type=Path, help="where to keep the trained model (default: in --cache-dir)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    corrupt = corruptor()
    if not MANIFEST.is_file():
        sys.exit(f"{MANIFEST} not found: run scripts/prepare_pristine.py first")

    try:
        overrides = parse_overrides(args.overrides)
    except ConfigError as exc:
        sys.exit(f"--set: {exc}")
    files = pristine_files(MANIFEST)
    dev = files[DEV_ROWS]
    set_aside = set(dev)
    train = [f for f in files if f not in set_aside]
    out_dir = args.out or args.cache_dir / "model"
    summary = train_on_pristine(train, out_dir, cache=args.cache_dir / "train-features.npz",
                                progress=print_stage, **overrides)
    model = QualityModel.load(out_dir)
    data = dev_features(model, dev, args.cache_dir / "dev-features.npz", corrupt)

    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "overrides": overrides,
                                  "train_photos": len(train), "dev_photos": [p.name for p in dev],
                                  "train_spearman": summary["train_spearman"], "heads": {}}
    print(f"\n{len(train)} training photos; {len(dev)} dev photos x {len(CORRUPTIONS)} ImageNet-C "
          f"corruptions x 5 severities; overrides {overrides or 'none'}")
    print(f"{'':>16}  mean SRCC  pooled SRCC  (clean offsets removed, mean curves only)")
    per_corruption: dict[str, float] = {}
    for name, scores in head_outputs(model, data).items():
        mean_rho, pooled, per = agreement(scores, data["rows"])
        offsets_removed, curves_only = pooled_losses(scores, data["rows"])
        per_corruption = per_corruption or per  # the fused model's, printed below
        results["heads"][name] = {"mean_srcc": round(mean_rho, 3), "pooled_srcc": round(pooled, 3),
                                  "pooled_srcc_clean_offsets_removed": round(offsets_removed, 3),
                                  "pooled_srcc_mean_curves_only": round(curves_only, 3),
                                  "per_corruption_srcc": {c: round(v, 3) for c, v in per.items()}}
        print(f"{name:>16}  {mean_rho:9.3f}  {pooled:11.3f}  ({offsets_removed:.3f}, {curves_only:.3f})")
    print("fused, per corruption: " + ", ".join(f"{c} {v:.2f}" for c, v in per_corruption.items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
