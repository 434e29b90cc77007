"""Zero-shot categories and text-to-image retrieval with the alignment, against the baselines of issue #29.

Data: the recipe's pairs (``artlens.align.train.collect_pairs``) and its cached image features
(``artlens train align`` writes the cache; see docs/align.md). Nothing here was used to train the heads:

* zero-shot sets: the openclipart folders held out whole (``HOLDOUT_CATEGORIES``: animals, buildings, food,
  plants, transportation) and the Scratch background classes (indoors, nature, outdoors, sports). Each
  image is classified from the category *names* alone;
* retrieval: the 500 titled drawings of the ``retrieval`` role; each title is a query, its own drawing the
  one right answer among the 500.

Rows, all on the same images in the same run:

* ``chance``: 1/classes (and the share of the largest class);
* ``ImageNet name -> MiniLM``: the backbone's top-1 ImageNet class name, mapped to the nearest category
  name by MiniLM cosine (the same prompt templates as the alignment); for retrieval, images are ranked by the
  MiniLM cosine of their top-1 ImageNet class name with the query;
* ``artlens align``: the shipped heads (or ``--model``), prompt-ensembled labels, as ``classify --zero-shot``
  answers by default;
* ``artlens align, class-prior centred``: the same with each label's mean logit over the set's images
  subtracted (``zero_shot_scores(..., centre=True)``): transductive (it sees the other test images, never
  their labels); not the default, reported beside it;
* ``linear probe, n-shot``: logistic regression on the same locked image features (standardised) with n
  labelled images per class, tested on the others; mean and SD over 20 random draws.

    .venv/bin/python benchmarks/zero_shot.py [--data .data] [--cache .data/align-features.npz]
        [--model DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from artlens.align.model import PROMPTS, load_align_model
from artlens.align.tag import zero_shot_scores
from artlens.align.text import get_text_encoder
from artlens.align.train.driver import feature_cache
from artlens.evaluation import classification_metrics

SCRATCH_CLASSES = ("indoors", "nature", "outdoors", "sports")


def _metrics(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> tuple[float, float]:
    m = classification_metrics(y, pred, classes)
    return float(m["accuracy"]), float(m["macro"]["f1"])


def _figures(y: np.ndarray, pred: np.ndarray, classes: list[str]) -> dict[str, float]:
    acc, f1 = _metrics(y, pred, classes)
    return {"accuracy": acc, "macro_f1": f1}


def _name_vectors(names: list[str]) -> np.ndarray:
    enc = get_text_encoder()
    vecs = enc.encode([p.format(n) for n in names for p in PROMPTS]).reshape(len(names), len(PROMPTS), -1)
    vecs = vecs.mean(1)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def imagenet_mapping(probs: np.ndarray, categories: list[str], classes: list[str]) -> np.ndarray:
    """Class index per image: the category name nearest (MiniLM) to the image's top-1 ImageNet class."""
    top = probs.astype(np.float32).argmax(1)
    sims = _name_vectors([categories[k] for k in range(len(categories))]) @ _name_vectors(classes).T
    return sims[top].argmax(1)


def _fit_probe(x: torch.Tensor, y: torch.Tensor, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression with a small L2 penalty, by L-BFGS."""
    w = torch.zeros(x.shape[1], classes, requires_grad=True)
    b = torch.zeros(classes, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=100)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y) + 1e-2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def linear_probe(feats: np.ndarray, y: np.ndarray, shots: int, draws: int = 20) -> tuple[float, float, float]:
    """Mean accuracy, its SD and mean macro-F1 of a logistic regression on ``shots`` images per class."""
    classes = sorted(set(y.tolist()))
    accs, f1s = [], []
    x_all = torch.from_numpy(feats.astype(np.float32))
    for d in range(draws):
        rng = np.random.default_rng(d)
        train = np.concatenate([rng.choice(np.flatnonzero(y == c), shots, replace=False) for c in classes])
        test = np.setdiff1d(np.arange(len(y)), train)
        mu, sd = x_all[train].mean(0), x_all[train].std(0, unbiased=False) + 1e-3
        x = (x_all - mu) / sd
        w, b = _fit_probe(x[train], torch.from_numpy(y[train]), len(classes))
        pred = (x[test] @ w + b).argmax(1).numpy()
        acc, f1 = _metrics(y[test], pred, [str(c) for c in classes])
        accs.append(acc)
        f1s.append(f1)
    return float(np.mean(accs)), float(np.std(accs)), float(np.mean(f1s))


def zero_shot_set(name: str, rows: np.ndarray, labels: list[str], cache, model) -> dict:
    classes = sorted(set(labels))
    y = np.array([classes.index(c) for c in labels])
    counts = np.bincount(y, minlength=len(classes))
    out = {"set": name, "images": len(y), "classes": classes, "rows": []}
    out["rows"].append({"method": "chance (uniform)", "accuracy": 1 / len(classes), "macro_f1": None})
    out["rows"].append({"method": "chance (largest class)", "accuracy": float(counts.max() / len(y)),
                        "macro_f1": None})
    pred = imagenet_mapping(cache.imagenet[rows], cache.categories, classes)
    out["rows"].append({"method": "ImageNet name -> MiniLM", **_figures(y, pred, classes)})
    emb = model.embed_features(cache.image[rows])
    pred = zero_shot_scores(model, emb, classes).argmax(1)
    out["rows"].append({"method": "artlens align (zero-shot)", **_figures(y, pred, classes)})
    pred = zero_shot_scores(model, emb, classes, centre=True).argmax(1)
    out["rows"].append({"method": "artlens align, class-prior centred (transductive)",
                        **_figures(y, pred, classes)})
    for shots in (1, 5):
        acc, sd, f1 = linear_probe(cache.image[rows], y, shots)
        out["rows"].append({"method": f"linear probe, {shots}-shot", "accuracy": acc, "accuracy_sd": sd,
                            "macro_f1": f1})
    return out


def retrieval(rows: np.ndarray, cache, model) -> dict:
    titles = [cache.pairs[i].title for i in rows]
    n = len(rows)
    img = model.embed_features(cache.image[rows])
    txt = model.embed_texts(titles)

    def recalls(sims: np.ndarray) -> dict[str, float]:
        rank = (sims > sims.diagonal()[:, None]).sum(1)
        return {f"r@{k}": float((rank < k).mean()) for k in (1, 5, 10)}

    enc = get_text_encoder()
    top = cache.imagenet[rows].astype(np.float32).argmax(1)
    names = enc.encode([f"a photo of a {cache.categories[k]}" for k in top])
    return {"pool": n, "rows": [
        {"method": "chance", **{f"r@{k}": k / n for k in (1, 5, 10)}},
        {"method": "ImageNet name -> MiniLM", **recalls(enc.encode(titles) @ names.T)},
        {"method": "artlens align", **recalls(txt @ img.T)},
    ]}


BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def reliability_table(prob: np.ndarray, truth: np.ndarray) -> dict:
    """Share of true pairs among those whose calibrated probability falls in 0.0-0.1, ..., 0.9-1.0."""
    rows = []
    for lo in BINS:
        m = (prob >= lo) & (prob <= lo + 0.1) if lo == BINS[-1] else (prob >= lo) & (prob < lo + 0.1)
        rows.append({"bin": f"{lo:.1f}-{lo + 0.1:.1f}", "pairs": int(m.sum()),
                     "true_share": float(truth[m].mean()) if m.any() else None,
                     "mean_probability": float(prob[m].mean()) if m.any() else None})
    return {"pairs": len(truth), "true_pairs": int(truth.sum()), "above_0.5": float((prob >= 0.5).mean()),
            "true_share_above_0.5": float(truth[prob >= 0.5].mean()) if (prob >= 0.5).any() else None,
            "rows": rows}


def calibration(clip: np.ndarray, pool: np.ndarray, cache, model, negatives: int = 20) -> dict:
    """Reliability of the calibrated probabilities on held-out pairs, scored as ``tag`` scores them (the
    plain text): each held-out openclipart drawing with each of the 5 category names (true: its own), and
    each retrieval-pool drawing with its own title (true) and ``negatives`` titles of other pool drawings."""
    classes = sorted({cache.pairs[i].category for i in clip})
    y = np.array([classes.index(cache.pairs[i].category) for i in clip])
    emb = model.embed_features(cache.image[clip])
    prob = model.tag_probability(emb, classes)
    truth = (y[:, None] == np.arange(len(classes))[None, :]).astype(float)
    img = model.embed_features(cache.image[pool])
    probs = model.tag_probability(img, [cache.pairs[i].title for i in pool])  # (image, title)
    rng = np.random.default_rng(0)
    p2, t2 = [], []
    for a in range(len(pool)):
        others = rng.choice(np.delete(np.arange(len(pool)), a), negatives, replace=False)
        p2 += [probs[a, a], *probs[a, others]]
        t2 += [1.0] + [0.0] * negatives
    return {"categories": reliability_table(prob.ravel(), truth.ravel()),
            "titles": reliability_table(np.array(p2), np.array(t2))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(".data"))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    cache = feature_cache(args.data, args.cache)
    model = load_align_model(args.model)
    pairs = cache.pairs
    clip = np.array([i for i, p in enumerate(pairs) if p.role == "zeroshot" and p.source == "openclipart"])
    scratch = np.array([i for i, p in enumerate(pairs) if p.source == "scratch-background"
                        and p.category in SCRATCH_CLASSES])
    pool = np.array([i for i, p in enumerate(pairs) if p.role == "retrieval"])
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "machine": platform.processor() or platform.machine(),
        "model": str(args.model or "shipped"),
        "zero_shot": [zero_shot_set("openclipart held-out folders", clip, [pairs[i].category for i in clip],
                                    cache, model),
                      zero_shot_set("Scratch backgrounds", scratch, [pairs[i].category for i in scratch],
                                    cache, model)],
        "retrieval": retrieval(pool, cache, model),
        "calibration": calibration(clip, pool, cache, model),
    }
    result["seconds"] = round(time.perf_counter() - t0, 1)
    for zs in result["zero_shot"]:
        print(f"\n{zs['set']}: {zs['images']} images, classes {', '.join(zs['classes'])}")
        print("| method | top-1 accuracy | macro-F1 |\n|---|---:|---:|")
        for r in zs["rows"]:
            acc = f"{r['accuracy']:.3f}" + (f" ± {r['accuracy_sd']:.3f}" if "accuracy_sd" in r else "")
            f1 = "—" if r["macro_f1"] is None else f"{r['macro_f1']:.3f}"
            print(f"| {r['method']} | {acc} | {f1} |")
    ret = result["retrieval"]
    print(f"\nretrieval: {ret['pool']} held-out titled drawings, the title as the query")
    print("| method | R@1 | R@5 | R@10 |\n|---|---:|---:|---:|")
    for r in ret["rows"]:
        print(f"| {r['method']} | {r['r@1']:.3f} | {r['r@5']:.3f} | {r['r@10']:.3f} |")
    for name, rel in result["calibration"].items():
        print(f"\ncalibration, {name}: {rel['pairs']} pairs ({rel['true_pairs']} true), "
              f"{rel['above_0.5']:.3f} of them score 0.5 or more")
        print("| probability | pairs | share true |\n|---|---:|---:|")
        for r in rel["rows"]:
            share = "—" if r["true_share"] is None else f"{r['true_share']:.3f}"
            print(f"| {r['bin']} | {r['pairs']} | {share} |")
    print(f"\n{result['date']}; {result['load_average']}; {result['seconds']} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
