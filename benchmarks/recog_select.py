"""Model selection for ``artlens train classify`` on cached frozen features: what moves macro-F1.

Reads the .npz files of ``benchmarks/recog_features.py`` and scores candidate recipes on the same 5 seeded,
stratified, grouped 50/50 splits of each labelled set (``benchmarks/_labelled_sets.py``). Every candidate
only sees the training half; inner cross-validation, where a candidate uses it, runs inside that half.
Prints one table per set (mean accuracy and macro-F1 over the splits) and writes JSON with ``--json``.

    nice -n 5 .venv/bin/python benchmarks/recog_select.py [--sets ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _labelled_sets import DATA
from artlens.classify.train.selection import FeatureSet, fit_selected, normalise_features
from artlens.classify.train.softmax import fit_softmax
from artlens.evaluation import classification_metrics
from artlens.training.splits import make_splits
from classify_transfer import fit_plain_probe

CACHE = DATA / "recog-cache"


#: sets restricted to the rows the shipped align heads never saw (``benchmarks/recog_align.py``)
CLEAN_SETS = {"scratch-clean": "scratch", "openclipart-clean": "openclipart"}


def clean_rows(set_name: str) -> np.ndarray | None:
    """Rows of the base set kept by a ``-clean`` set (None: every row)."""
    base = CLEAN_SETS.get(set_name)
    if base is None:
        return None
    with np.load(CACHE / f"{base}-align-embed-plain.npz") as z:
        return z["rows"]


def load(set_name: str, backbone: str, variant: str, flip: str) -> dict:
    base = CLEAN_SETS.get(set_name, set_name)
    path = CACHE / f"{base}-{backbone}-{variant}-{flip}.npz"
    if not path.exists():
        return {}
    with np.load(path) as z:
        out = {k: z[k] for k in z.files}
    rows = clean_rows(set_name)
    if backbone != "align" and rows is not None:
        out["x"] = out["x"][rows]
    return out


def features(set_name: str, spec: str) -> tuple[np.ndarray, np.ndarray | None]:
    """``spec`` = "<backbones joined by +>:<variant>:<plain|tta>" -> (N, D) plain and (N, D) mirrored
    (None when a mirror pass was not extracted; ``<variant>-pad`` / ``-auto``: framed images,
    ``recog_features.py --framing``). Backbone ``align`` is the aligned embedding (256) and
    ``tower`` the align image tower's input (MobileNetV2 pooled + 11 colour shares), both any variant."""
    backbones, variant, _ = spec.split(":")
    parts, mirrors = [], []
    for b in backbones.split("+"):
        if b in ("align", "tower"):
            z = load(set_name, "align", "embed", "plain")
            parts.append(z["x"] if b == "align" else z["tower"])
            mirrors.append(None)
            continue
        parts.append(load(set_name, b, variant, "plain")["x"])
        mirrors.append(load(set_name, b, variant, "flip").get("x"))
    plain = np.concatenate(parts, 1)
    mirror = None if any(m is None for m in mirrors) else np.concatenate(mirrors, 1)
    return plain, mirror


def softmax_predict(w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    return (x @ w.T + b).argmax(1)


def run_set(set_name: str, candidates: dict[str, Callable], seeds: int) -> list[dict]:
    meta = load(set_name, "mobilenet_v2", "multi", "plain")
    y, groups, classes = meta["labels"], meta["groups"], [str(c) for c in meta["classes"]]
    rows = clean_rows(set_name)
    if rows is not None:  # relabel the kept classes 0..k-1
        kept = np.unique(y[rows])
        y, groups, classes = np.searchsorted(kept, y[rows]), groups[rows], [classes[i] for i in kept]
    k = len(classes)
    rows = []
    splits = [make_splits(y, val_split=0.5, seed=s, groups=groups)[0] for s in range(seeds)]
    for name, fn in candidates.items():
        accs, f1s, secs = [], [], []
        for train, test in splits:
            t0 = time.perf_counter()
            pred = fn(set_name, train, test, y, k)
            secs.append(time.perf_counter() - t0)
            m = classification_metrics(y[test], pred, classes)
            accs.append(m["accuracy"])
            f1s.append(m["macro"]["f1"])
        rows.append({"set": set_name, "candidate": name, "accuracy": float(np.mean(accs)),
                     "macro_f1": float(np.mean(f1s)), "macro_f1_sd": float(np.std(f1s)),
                     "fit_s": float(np.mean(secs))})
        r = rows[-1]
        print(f"{set_name:12s} {name:48s} acc {r['accuracy']:.3f} F1 {r['macro_f1']:.3f} "
              f"(sd {r['macro_f1_sd']:.3f}) fit {r['fit_s']:.1f} s", flush=True)
    return rows


def plain_probe(set_name, train, test, y, k):
    x, _ = features(set_name, "mobilenet_v2:avg:plain")
    w, b = fit_plain_probe(x[train], y[train], k)
    return softmax_predict(w.numpy(), b.numpy(), x[test])


def fixed(spec: str, wd: float = 1e-3, norm: str = "none", tta: bool = False, augment: bool = False):
    def fn(set_name, train, test, y, k):
        plain, mirror = features(set_name, spec)
        xtr, ytr = plain[train], y[train]
        if tta:
            xtr = 0.5 * (plain[train] + mirror[train])
        if augment:
            xtr, ytr = np.concatenate([plain[train], mirror[train]]), np.concatenate([y[train], y[train]])
        xte = 0.5 * (plain[test] + mirror[test]) if tta else plain[test]
        xtr, xte = normalise_features(xtr, norm), normalise_features(xte, norm)
        w, b = fit_softmax(xtr, ytr, k, weight_decay=wd)
        return softmax_predict(w, b, xte)
    return fn


def selected(specs: list[str], norms: tuple[str, ...], tta: bool = True):
    def fn(set_name, train, test, y, k):
        sets = []
        for spec in specs:
            plain, mirror = features(set_name, spec)
            x = 0.5 * (plain + mirror) if tta and mirror is not None else plain
            sets.append(FeatureSet(spec, x))
        choice = fit_selected([FeatureSet(s.name, s.x[train]) for s in sets], y[train], k, norms=norms,
                              weight_decays=(1e-3, 1e-2, 1e-1), groups=None, seed=0, folds=3, max_iter=100)
        x = next(s.x for s in sets if s.name == choice.feature_set)
        return softmax_predict(choice.weight, choice.bias, normalise_features(x[test], choice.norm))
    return fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["scratch", "styles", "openclipart"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="candidate names to run (default all)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(2)
    m, e, both = "mobilenet_v2", "efficientnet_lite0", "mobilenet_v2+efficientnet_lite0"
    e1, e2 = "efficientnet_lite1", "efficientnet_lite2"
    candidates: dict[str, Callable] = {
        "plain probe (mnv2 avg, C=1)": plain_probe,
        "artlens v1 default (mnv2 avg, wd 1e-3)": fixed(f"{m}:avg:plain"),
        "mnv2 avg, l2": fixed(f"{m}:avg:plain", norm="l2"),
        "mnv2 avg, sqrt": fixed(f"{m}:avg:plain", norm="sqrt"),
        "mnv2 avg, sqrt, wd 1e-2": fixed(f"{m}:avg:plain", norm="sqrt", wd=1e-2),
        "mnv2 avg, sqrt, wd 1e-1": fixed(f"{m}:avg:plain", norm="sqrt", wd=1e-1),
        "mnv2 avg, sqrt, flip TTA": fixed(f"{m}:avg:plain", norm="sqrt", tta=True),
        "mnv2 gem, sqrt": fixed(f"{m}:gem:plain", norm="sqrt"),
        "mnv2 multi": fixed(f"{m}:multi:plain"),
        "mnv2 multi, sqrt": fixed(f"{m}:multi:plain", norm="sqrt"),
        "effl0 avg, sqrt": fixed(f"{e}:avg:plain", norm="sqrt"),
        "effl0 multi, sqrt": fixed(f"{e}:multi:plain", norm="sqrt"),
        "both avg, sqrt": fixed(f"{both}:avg:plain", norm="sqrt"),
        "both multi, sqrt": fixed(f"{both}:multi:plain", norm="sqrt"),
        "mnv2 {avg,multi} x sqrt x wd, inner 3-fold CV": selected(
            [f"{m}:avg:plain", f"{m}:multi:plain"], ("sqrt",), tta=False),
        "effl0 {avg,multi} x sqrt x wd, inner 3-fold CV": selected(
            [f"{e}:avg:plain", f"{e}:multi:plain"], ("sqrt",), tta=False),
        # round 2 (issue #34): EfficientNet-Lite1/2, the aligned embedding
        "effl1 avg, sqrt": fixed(f"{e1}:avg:plain", norm="sqrt"),
        "effl1 multi, sqrt": fixed(f"{e1}:multi:plain", norm="sqrt"),
        "effl2 avg, sqrt": fixed(f"{e2}:avg:plain", norm="sqrt"),
        "effl2 multi, sqrt": fixed(f"{e2}:multi:plain", norm="sqrt"),
        "effl1 {avg,multi} x sqrt x wd, inner 3-fold CV": selected(
            [f"{e1}:avg:plain", f"{e1}:multi:plain"], ("sqrt",), tta=False),
        "effl2 {avg,multi} x sqrt x wd, inner 3-fold CV": selected(
            [f"{e2}:avg:plain", f"{e2}:multi:plain"], ("sqrt",), tta=False),
        "align embed (256)": fixed("align:embed:plain", norm="l2"),
        "align tower (mnv2 avg + colours), sqrt": fixed("tower:embed:plain", norm="sqrt"),
        "mnv2 avg + align embed, sqrt": fixed(f"{m}+align:avg:plain", norm="sqrt"),
        "mnv2 multi + align embed, sqrt": fixed(f"{m}+align:multi:plain", norm="sqrt"),
        "mnv2 {avg,multi,avg+align} x sqrt x wd, inner 3-fold CV": selected(
            [f"{m}:avg:plain", f"{m}:multi:plain", f"{m}+align:avg:plain"], ("sqrt",), tta=False),
        # round 3 (issue #34): framing (artlens.classify.framing), both backbones as candidates
        "mnv2 multi, sqrt, pad": fixed(f"{m}:multi-pad:plain", norm="sqrt"),
        "mnv2 multi, sqrt, auto framing": fixed(f"{m}:multi-auto:plain", norm="sqrt"),
        "effl0 multi, sqrt, pad": fixed(f"{e}:multi-pad:plain", norm="sqrt"),
        "effl0 multi, sqrt, auto framing": fixed(f"{e}:multi-auto:plain", norm="sqrt"),
        "effl0 multi x sqrt x wd, auto framing, inner 3-fold CV": selected(
            [f"{e}:multi-auto:plain"], ("sqrt",), tta=False),
        "mnv2 multi x sqrt x wd, auto framing, inner 3-fold CV": selected(
            [f"{m}:multi-auto:plain"], ("sqrt",), tta=False),
        "effl0 {avg,multi} x sqrt x wd, auto framing, inner 3-fold CV": selected(
            [f"{e}:avg-auto:plain", f"{e}:multi-auto:plain"], ("sqrt",), tta=False),
        "mnv2 {avg,multi} x sqrt x wd, auto framing, inner 3-fold CV": selected(
            [f"{m}:avg-auto:plain", f"{m}:multi-auto:plain"], ("sqrt",), tta=False),
        "{mnv2,effl0} x {avg,multi} x sqrt x wd, crop, inner 3-fold CV": selected(
            [f"{m}:avg:plain", f"{m}:multi:plain", f"{e}:avg:plain", f"{e}:multi:plain"], ("sqrt",),
            tta=False),
        "{mnv2,effl0} x {avg,multi} x sqrt x wd, auto framing, inner 3-fold CV": selected(
            [f"{m}:avg-auto:plain", f"{m}:multi-auto:plain", f"{e}:avg-auto:plain", f"{e}:multi-auto:plain"],
            ("sqrt",), tta=False),
    }
    if args.only:
        candidates = {k: v for k, v in candidates.items() if k in args.only}
    rows = []
    for set_name in args.sets:
        rows += run_set(set_name, candidates, args.seeds)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average": os.getloadavg(),
              "seeds": args.seeds, "rows": rows}
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
