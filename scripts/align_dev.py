"""Development runs of the alignment recipe (issue #29, second round): what moves the figures, measured on a
split carved out of the *training* data only, never on the benchmark's held-out sets.

Dev split (fixed before any run): the openclipart training folders ``people``, ``tools`` and ``geography``
held out whole (dev zero-shot: 3 classes, named by their folder names) and 300 training drawings with
distinct titles of two or more words from the other folders (dev retrieval pool; drawings sharing one of
their titles are left out of dev training too). The recipe's ``val`` groups stay its validation split
(epoch choice, calibration). Each variant trains heads on what is left and is scored on the dev sets;
calibration is checked on the dev pool: each image with its own title (true) and with 20 titles of other
dev images (false), as a reliability table.

    .venv/bin/python scripts/align_dev.py --cache .data/align-29b/features.npz --out .data/align-29b/dev
        [--variants base,ep20,...] [--modes extra,first]

Third round (``--costumes-out``): the Scratch *costumes* (5 categories: animals, fantasy, people, things,
transportation; Scratch's drawn style, the nearest the training data comes to the Scratch backgrounds,
which stay unseen) are held out of dev training too, as a second dev zero-shot set; ``--grid`` then scores
the inference-time choices on each variant's heads: prompt templates, ConSE weight, class-prior centring,
and the calibration's negatives (any other image, or only images of another leaf folder).

    .venv/bin/python scripts/align_dev.py --cache .data/align-29b/features.npz --out .data/align-29c/dev \
        --costumes-out --grid [--variants base,h512,ep80]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from artlens.align.heads import load_heads, save_heads
from artlens.align.model import PROMPTS, AlignModel
from artlens.align.text import get_text_encoder
from artlens.align.train.driver import feature_cache
from artlens.align.train.features import load_feature_cache
from artlens.align.train.recipe import AlignSettings, train_heads, training_set
from artlens.evaluation import classification_metrics

DEV_FOLDERS = ("people", "tools", "geography")
DEV_POOL = 300


def dev_roles(pairs: list, seed: int = 1, costumes: bool = False) -> list:
    """The pairs with ``dev-zs`` / ``dev-pool`` / ``dev-excluded`` roles carved out of ``train`` (and with
    ``costumes`` the Scratch costumes of ``train`` and ``val`` as ``dev-zs-costume``)."""
    out = [replace(p, role="dev-zs") if p.role == "train" and p.source == "openclipart"
           and p.category in DEV_FOLDERS else p for p in pairs]
    if costumes:
        out = [replace(p, role="dev-zs-costume")
               if p.role in ("train", "val") and p.source == "scratch-costume" else p for p in out]
    rng = random.Random(seed)
    cand = [i for i, p in enumerate(out) if p.role == "train" and p.source == "openclipart"
            and len(p.title.split()) >= 2]
    rng.shuffle(cand)
    titles: set[str] = set()
    for i in cand:
        if len(titles) >= DEV_POOL:
            break
        if out[i].title not in titles:
            titles.add(out[i].title)
            out[i] = replace(out[i], role="dev-pool")
    return [replace(p, role="dev-excluded") if p.role == "train" and p.title in titles else p for p in out]


def name_vectors(names: list[str]) -> np.ndarray:
    """MiniLM prompt-ensembled unit vectors of names (the templates of the alignment's labels)."""
    enc = get_text_encoder()
    vecs = enc.encode([p.format(n) for n in names for p in PROMPTS]).reshape(len(names), len(PROMPTS), -1)
    vecs = vecs.mean(1)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def conse(probs: np.ndarray, class_vecs: np.ndarray, top: int = 5) -> np.ndarray:
    """ConSE (Norouzi et al., ICLR 2014): the probability-weighted mean of the top ImageNet classes' name
    vectors, as a unit vector in the text tower's space."""
    p = probs.astype(np.float32)
    keep = np.argsort(-p, axis=1)[:, :top]
    w = np.take_along_axis(p, keep, 1)
    v = (w[:, :, None] * class_vecs[keep]).sum(1)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def evaluate(model: AlignModel, cache, pairs: list, bank_img: np.ndarray, bank_txt: np.ndarray) -> dict:
    """Dev zero-shot (plain and class-centred), dev retrieval (plain and querybank-normalised) and the
    reliability of the calibrated probabilities on the dev pool."""
    out: dict = {}
    zs = np.array([i for i, p in enumerate(pairs) if p.role == "dev-zs"])
    classes = sorted(DEV_FOLDERS)
    y = np.array([classes.index(pairs[i].category) for i in zs])
    emb = model.embed_features(cache.image[zs])
    lab = model.embed_labels([c.replace("_", " ") for c in classes])
    sims = emb @ lab.T
    inet = name_vectors(list(cache.categories))
    names = name_vectors([c.replace("_", " ") for c in classes])
    csims = conse(cache.imagenet[zs], inet) @ names.T
    centred = sims - (bank_img @ lab.T).mean(0)
    variants = [("plain", sims), ("centred", centred), ("conse", csims)]
    variants += [(f"fuse{lam}", sims + lam * csims) for lam in (0.5, 1.0, 2.0)]
    variants += [(f"cfuse{lam}", centred + lam * (csims - csims.mean(0))) for lam in (0.5, 1.0, 2.0)]
    for name, s in variants:
        m = classification_metrics(y, s.argmax(1), classes)
        out[f"zs_{name}"] = round(float(m["accuracy"]), 3)
        out[f"zs_{name}_f1"] = round(float(m["macro"]["f1"]), 3)
    pool = np.array([i for i, p in enumerate(pairs) if p.role == "dev-pool"])
    img = model.embed_features(cache.image[pool])
    txt = model.embed_texts([pairs[i].title for i in pool])
    sims = txt @ img.T

    def recalls(s: np.ndarray, tag: str) -> None:
        rank = (s > s.diagonal()[:, None]).sum(1)
        for k in (1, 5, 10):
            out[f"{tag}@{k}"] = round(float((rank < k).mean()), 3)

    recalls(sims, "r")
    tsims = get_text_encoder().encode([pairs[i].title for i in pool]) @ conse(cache.imagenet[pool], inet).T
    recalls(tsims, "conse")
    for lam in (0.25, 0.5, 1.0):
        recalls(sims + lam * tsims, f"fuse{lam}")
    scale = 1 / model.temperature
    for beta in (0.5, 1.0):
        # querybank normalisation (Bogolin et al., CVPR 2022), bank = training captions: an image that is
        # close to every caption (a hub) is divided by its summed similarity to the bank
        hub = np.log(np.exp(beta * scale * (bank_txt @ img.T)).sum(0))
        recalls(beta * scale * sims - hub[None, :], f"qb{beta}")
    # reliability: own title true, 20 other dev titles false
    rng = np.random.default_rng(0)
    cos, truth = [], []
    for a in range(len(pool)):
        cos.append(sims[a, a])
        truth.append(1)
        for b in rng.choice(np.delete(np.arange(len(pool)), a), 20, replace=False):
            cos.append(sims[b, a])
            truth.append(0)
    prob = model.probability(np.array(cos))
    truth = np.array(truth)
    rel = {}
    for lo in (0.5, 0.6, 0.7, 0.8, 0.9):
        m = (prob >= lo) & (prob < lo + 0.1 + (1e-9 if lo == 0.9 else 0))
        rel[f"{lo:.1f}"] = [int(m.sum()), round(float(truth[m].mean()), 3) if m.any() else None]
    out["reliability"] = rel
    out["share_above_0.5"] = round(float((prob >= 0.5).mean()), 3)
    return out


def disk_memo(encode, path: Path):
    """``encode`` with its vectors kept in ``path`` (an .npz of texts and vectors) between runs."""
    memo: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as data:
            memo = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def wrapped(texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in memo})
        if todo:
            memo.update(zip(todo, encode(todo), strict=True))
            np.savez(path, texts=np.array(list(memo)), vectors=np.stack(list(memo.values())))
        return np.stack([memo[t] for t in texts]).astype(np.float32)

    return wrapped


#: prompt sets tried for zero-shot labels (third round): the shipped six, the four of the issue, both
PROMPT_SETS = {
    "six": PROMPTS,
    "four": ("a picture of {}", "a cartoon background of {}", "a drawing of {}", "a scene {}"),
}
PROMPT_SETS["ten"] = PROMPT_SETS["six"] + PROMPT_SETS["four"]
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
#: query templates tried for retrieval: the plain title, or its mean with the training captions' forms
QUERY_PROMPTS = {
    "plain": ("{}",),
    "three": ("{}", "a drawing of {}", "clip art of {}"),
}


def grid(heads, cache, pairs: list, val, encode, weights=WEIGHTS) -> dict:
    """Inference-time choices on one set of heads: zero-shot on both dev sets and dev retrieval for each
    ConSE weight, prompt set and centring; the calibration refitted with either negative rule, with its
    reliability on the dev pool (own title vs 20 other titles) and on the dev folders (each name)."""
    from artlens.align.conse import conse_vectors, joint
    from artlens.align.tag import zero_shot_scores
    from artlens.align.train.recipe import fit_calibration

    out: dict = {"zs": [], "retrieval": [], "calibration": []}
    pool = np.array([i for i, p in enumerate(pairs) if p.role == "dev-pool"])
    titles = [pairs[i].title for i in pool]
    zs_sets = {}
    for role in ("dev-zs", "dev-zs-costume"):
        rows = np.array([i for i, p in enumerate(pairs) if p.role == role])
        if len(rows):
            zs_sets[role] = rows
    base_weight, zs_weight = heads.config.imagenet_weight, heads.config.zero_shot_weight
    heads.config.zero_shot_weight = None  # the grid's weight applies to zero-shot too
    for lam in weights:
        heads.config.imagenet_weight = lam
        model = AlignModel(heads)
        for role, rows in zs_sets.items():
            classes = sorted({pairs[i].category for i in rows})
            y = np.array([classes.index(pairs[i].category) for i in rows])
            emb = model.embed_features(cache.image[rows])
            for pname, prompts in PROMPT_SETS.items():
                for centre in (False, True):
                    names = [c.replace("_", " ") for c in classes]
                    pred = zero_shot_scores(model, emb, names, prompts=prompts, centre=centre).argmax(1)
                    m = classification_metrics(y, pred, classes)
                    out["zs"].append({"set": role, "weight": lam, "prompts": pname, "centre": centre,
                                      "top1": round(float(m["accuracy"]), 3),
                                      "f1": round(float(m["macro"]["f1"]), 3)})
        pool_emb = model.embed_features(cache.image[pool])
        for qname, prompts in QUERY_PROMPTS.items():
            sims = model.embed_labels(titles, prompts) @ pool_emb.T
            rank = (sims > sims.diagonal()[:, None]).sum(1)
            out["retrieval"].append({"weight": lam, "query": qname,
                                     **{f"r@{k}": round(float((rank < k).mean()), 3) for k in (1, 5, 10)}})
        if lam not in (0.5, 1.0, 2.0) or not val.captions:
            continue
        texts = sorted({t for row in val.captions for t in row})
        index = {t: i for i, t in enumerate(texts)}
        vecs = encode(texts)
        with torch.no_grad():
            img = heads.embed_image(torch.from_numpy(val.image.astype(np.float32))).numpy()
            txt = heads.embed_text(torch.from_numpy(vecs)).numpy()
        second = conse_vectors(val.imagenet, heads.imagenet_names.numpy(), heads.config.imagenet_top)
        img = joint(img, second, lam)
        txt = joint(txt, vecs, lam)
        for rule, groups, first in (("any", None, False), ("other-folder", val.groups, False),
                                    ("other-folder, titles", val.groups, True)):
            heads.config.calibration = fit_calibration(img, txt, val.captions, index, groups=groups,
                                                       first_only=first)
            model = AlignModel(heads)
            probs = model.tag_probability(model.embed_features(cache.image[pool]), titles)
            rng = np.random.default_rng(0)
            p2, t2 = [], []
            for a in range(len(pool)):
                others = rng.choice(np.delete(np.arange(len(pool)), a), 20, replace=False)
                p2 += [probs[a, a], *probs[a, others]]
                t2 += [1.0] + [0.0] * 20
            rows = zs_sets["dev-zs"]
            classes = sorted({pairs[i].category for i in rows})
            y = np.array([classes.index(pairs[i].category) for i in rows])
            pc = model.tag_probability(model.embed_features(cache.image[rows]), classes)
            tc = (y[:, None] == np.arange(len(classes))[None, :]).astype(float)
            rec = {"weight": lam, "negatives": rule, "fit": heads.config.calibration}
            for name, pr, tr in (("titles", np.array(p2), np.array(t2)), ("folders", pc.ravel(), tc.ravel())):
                bands = []
                for lo in np.arange(0, 1, 0.1):
                    m = (pr >= lo) & (pr < lo + 0.1 + (1e-9 if lo > 0.85 else 0))
                    bands.append([int(m.sum()), round(float(tr[m].mean()), 3) if m.any() else None])
                rec[name] = bands
            out["calibration"].append(rec)
    heads.config.imagenet_weight, heads.config.zero_shot_weight = base_weight, zs_weight
    return out


_SECOND = {"dropout": 0.1, "zero_shot_weight": None}  # the second round's recipe, what the variants change
VARIANTS = {
    "base": _SECOND,
    "ep80": {**_SECOND, "epochs": 80},
    "ep80-drop3": {**_SECOND, "epochs": 80, "dropout": 0.3},
    "ep20": {**_SECOND, "epochs": 20},
    "drop3": {**_SECOND, "dropout": 0.3},
    "drop5": {**_SECOND, "dropout": 0.5},
    "h512": {**_SECOND, "hidden": 512},
    "wd2": {**_SECOND, "weight_decay": 0.2},
    "lr3e-4": {**_SECOND, "lr": 3e-4},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(".data"))
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default="base")
    parser.add_argument("--costumes-out", action="store_true",
                        help="hold the Scratch costumes out of dev training (a second dev zero-shot set)")
    parser.add_argument("--grid", action="store_true", help="score the inference-time choices too")
    parser.add_argument("--weights", default=",".join(map(str, WEIGHTS)), help="ConSE weights of --grid")
    parser.add_argument("--from-heads", action="store_true",
                        help="read each variant's heads from OUT instead of training them")
    parser.add_argument("--modes", default="extra",
                        help="extra: with the extra drawings (cap 250); first: the first round's pairs only")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    cache = feature_cache(args.data, args.cache)
    encode = disk_memo(get_text_encoder().encode, args.out / "text-memo.npz")
    first = {p.path for p in load_feature_cache(Path(".data/align-29/features.npz")).pairs}
    for mode in args.modes.split(","):
        pairs = dev_roles(cache.pairs, costumes=args.costumes_out)
        if mode == "first":
            pairs = [p if p.path in first or p.role != "train" else replace(p, role="extra-off")
                     for p in pairs]
        colours = cache.colour_words()
        a = (cache.image, pairs, colours, cache.imagenet, cache.categories)
        train = training_set(*a, roles=("train",))
        val = training_set(*a, roles=("val",))
        bank_rows = np.random.default_rng(0).choice(len(train.captions), min(512, len(train.captions)),
                                                    replace=False)
        for name in args.variants.split(","):
            t0 = time.perf_counter()
            settings = AlignSettings(**VARIANTS[name])
            if args.from_heads:  # the grid again on heads saved by an earlier run
                heads = load_heads(args.out / f"heads-{mode}-{name}")
                summary = {"best_epoch": None, "best": {}}
            else:
                heads, summary = train_heads(train, val, encode, settings, imagenet_names=cache.categories)
            model = AlignModel(heads)
            save_heads(heads, args.out / f"heads-{mode}-{name}")
            bank_img = model.embed_features(train.image[bank_rows])
            bank_txt = model.embed_texts([train.captions[r][0] for r in bank_rows])
            figures = evaluate(model, cache, pairs, bank_img, bank_txt)
            load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
            record = {"variant": name, "mode": mode, "train_images": len(train.captions),
                      "best_epoch": summary["best_epoch"], "val": summary["best"],
                      "calibration": heads.config.calibration, **figures,
                      "seconds": round(time.perf_counter() - t0, 1), "load": load}
            if args.grid:
                record["grid"] = grid(heads, cache, pairs, val, encode,
                                      tuple(float(w) for w in args.weights.split(",")))
            print(json.dumps(record), flush=True)
            with open(args.out / "runs.jsonl", "a") as fh:
                fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
