"""``artlens train align``: the recipe of the shipped alignment heads (LiT, Zhai et al., CVPR 2022).

Pairs come from :mod:`artlens.align.train.pairs`, image features from one cached pass
(:mod:`artlens.align.train.features`), caption embeddings from the locked MiniLM tower. The heads train on
the shared loop (:func:`artlens.training.fit`) with the symmetric InfoNCE loss
(:func:`artlens.align.loss.contrastive_loss`), AdamW and a warm-up cosine schedule; the epoch with the best
validation recall is kept, and Platt scaling is fitted on the validation pairs afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from artlens.align.conse import class_vectors, conse_vectors, joint
from artlens.align.heads import AlignConfig, AlignHeads
from artlens.align.image import IMAGE_BACKBONE
from artlens.align.model import PROMPTS
from artlens.align.train.pairs import (
    EXTRA_PER_FOLDER,
    Pair,
    add_extra_pairs,
    assign_roles,
    openclipart_pairs,
    scratch_background_pairs,
    scratch_costume_pairs,
    skimage_pairs,
)
from artlens.errors import ConfigError
from artlens.seeding import seeded
from artlens.training import EarlyStopping, cosine_schedule, fit, make_optimizer, parameter_groups
from artlens.training.progress import Progress

__all__ = ["AlignSettings", "TrainingSet", "collect_pairs", "fit_calibration", "train_heads", "training_set"]

OPENCLIPART = Path("openclipart/usr/share/openclipart/png")
SCRATCH = Path("scratch/usr/share/scratch/Media")
PHOTOS = Path("bench-1080x800")


@dataclass(frozen=True)
class AlignSettings:
    """The recipe's knobs (defaults: the shipped heads)."""

    epochs: int = 40
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.05
    embed_dim: int = 256
    hidden: int = 768  # 1,024 in the first round; 768 keeps the file with the ConSE class vectors under 5 MB
    dropout: float = 0.3  # 0.1 until the third round; 0.3 chosen on the dev split (scripts/align_dev.py)
    #: every training image whose top ImageNet class reaches this probability also gets it as a weak caption
    #: (None: only the photos do; tried at 0.5 on 2026-12-05, not better on validation)
    imagenet_weak: float | None = None
    #: weight of the ConSE cosine beside the heads' (:mod:`artlens.align.conse`); 0: the heads alone
    imagenet_weight: float = 0.5
    #: ConSE weight of zero-shot classification (None: ``imagenet_weight``); 1.0 chosen on the dev split
    zero_shot_weight: float | None = 1.0
    #: negative captions per positive in the Platt fit (1 in the first round)
    calibration_negatives: int = 20
    #: the Platt fit's negatives come only from images of other groups (leaf folders), never near-synonyms of
    #: the same folder (third round; the second round's fit drew them from any other image)
    calibration_other_groups: bool = True
    #: the Platt fit pairs each image with its first caption (its plain title) and other images' first
    #: captions, as tags and queries are scored (third round; before, any caption of either)
    calibration_titles: bool = True
    seed: int = 0


def collect_pairs(data_root: Path, seed: int = 0, extra_per_folder: int | None = EXTRA_PER_FOLDER
                  ) -> list[Pair]:
    """Every pair the recipe uses under ``data_root`` (the project's ``.data``), roles assigned.

    The first round's pairs (at most 80 drawings per leaf folder) fix the held-out sets; with
    ``extra_per_folder`` the drawings up to that cap are added for training (:func:`add_extra_pairs`).

    Raises :class:`ConfigError` when openclipart, the main source, is missing.
    """
    clip = data_root / OPENCLIPART
    if not clip.is_dir():
        raise ConfigError(f"{clip}: openclipart-png is not extracted there (see docs/data.md)")
    pairs = openclipart_pairs(clip, seed=seed)
    media = data_root / SCRATCH
    if media.is_dir():
        pairs += scratch_costume_pairs(media) + scratch_background_pairs(media)
    pairs += skimage_pairs()
    photos = data_root / PHOTOS
    if photos.is_dir():
        pairs += [Pair(str(p), "", (), "photo", "photo", f"photo/{p.stem}")
                  for p in sorted(photos.glob("*.jpg"))]
    pairs = assign_roles(pairs, seed=seed)
    if extra_per_folder:
        pairs = add_extra_pairs(pairs, openclipart_pairs(clip, seed=seed, per_folder=extra_per_folder))
    return pairs


@dataclass
class TrainingSet:
    """Rows of (image feature, caption) for one role: ``captions[i]`` lists the texts of image ``i``."""

    image: np.ndarray
    captions: list[list[str]]
    imagenet: np.ndarray | None = None  # (N, 1000) the backbone's class probabilities, for ConSE
    #: each image's group (leaf folder, costume name): the calibration's negatives come from other groups
    groups: list[str] | None = None


def training_set(image: np.ndarray, pairs: Sequence[Pair], colour_words: Sequence[str],
                 imagenet: np.ndarray, categories: Sequence[str], roles: Sequence[str],
                 imagenet_weak: float | None = None) -> TrainingSet:
    """The images of ``roles`` with their captions: the pair's own, colour variants of its title ("a red
    apple") from the image's dominant colour name, and for photos the backbone's confident ImageNet classes
    as weak captions ("a photo of a seashore")."""
    rows, caps, groups = [], [], []
    for i, pair in enumerate(pairs):
        if pair.role not in roles:
            continue
        texts = list(pair.captions)
        if colour_words[i] and pair.title:
            texts += [f"{colour_words[i]} {pair.title}", f"a {colour_words[i]} drawing of {pair.title}"]
        if pair.source == "photo" and imagenet.shape[1]:
            top = np.argsort(-imagenet[i].astype(np.float32))[:2]
            texts += [f"a photo of a {categories[k].lower()}" for k in top if imagenet[i, k] >= 0.15]
        elif imagenet_weak is not None and imagenet.shape[1] and float(imagenet[i].max()) >= imagenet_weak:
            texts.append(f"a picture of a {categories[int(imagenet[i].argmax())].lower()}")
        if texts:
            rows.append(i)
            caps.append(texts)
            groups.append(pair.group)
    probs = imagenet[rows] if imagenet.shape[1] and rows else None
    return TrainingSet(image[rows] if rows else image[:0], caps, probs, groups)


def _encode_all(sets: Sequence[TrainingSet], encode: Callable[[list[str]], np.ndarray]) -> dict[str, int]:
    texts = sorted({t for s in sets for row in s.captions for t in row})
    return {t: i for i, t in enumerate(texts)}, encode(texts)


def train_heads(train: TrainingSet, val: TrainingSet, encode: Callable[[list[str]], np.ndarray],
                settings: AlignSettings | None = None, *, progress: Progress | None = None,
                checkpoint: Path | None = None, resume: dict | None = None,
                imagenet_names: Sequence[str] = ()) -> tuple[AlignHeads, dict]:
    """Train projection heads on ``train``, keep the epoch with the best validation text-to-image R@5, then
    fit the calibration on ``val``. ``encode`` maps texts to MiniLM vectors; ``imagenet_names`` (the
    backbone's class names) are needed when ``settings.imagenet_weight`` > 0 (ConSE beside the heads).
    Returns the heads and a summary (epochs, best epoch, validation figures)."""
    settings = settings or AlignSettings()
    if not train.captions:
        raise ConfigError("no training pairs: nothing to align")
    index, text_vecs = _encode_all([train, val], encode)
    text_all = torch.from_numpy(np.asarray(text_vecs, np.float32))
    feats = torch.from_numpy(train.image.astype(np.float32))
    mean, std = feats.mean(0), feats.std(0)
    config = AlignConfig(image_dim=int(feats.shape[1]), text_dim=int(text_all.shape[1]),
                         embed_dim=settings.embed_dim, hidden=settings.hidden, dropout=settings.dropout,
                         backbone=IMAGE_BACKBONE,
                         image_mean=mean.tolist(), image_std=std.tolist(),
                         recipe={"epochs": settings.epochs, "batch_size": settings.batch_size,
                                 "lr": settings.lr, "weight_decay": settings.weight_decay,
                                 "seed": settings.seed, "train_images": len(train.captions),
                                 "dropout": settings.dropout, "imagenet_weak": settings.imagenet_weak,
                                 "imagenet_weight": settings.imagenet_weight,
                                 "calibration_negatives": settings.calibration_negatives,
                                 "calibration_other_groups": settings.calibration_other_groups,
                                 "calibration_titles": settings.calibration_titles,
                                 "zero_shot_weight": settings.zero_shot_weight})
    with seeded(settings.seed):
        heads = AlignHeads(config)
    cap_ids = [[index[t] for t in row] for row in train.captions]
    n = len(cap_ids)
    batch = min(settings.batch_size, n)
    steps = max(1, n // batch)

    def batches(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        rng = random.Random(settings.seed * 1000 + epoch)
        order = list(range(n))
        rng.shuffle(order)
        out = []
        for b in range(steps):
            rows = order[b * batch:(b + 1) * batch]
            ids = [rng.choice(cap_ids[r]) for r in rows]
            out.append((torch.tensor(rows), torch.tensor(ids)))
        return out

    def loss(b: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        from artlens.align.loss import contrastive_loss

        rows, ids = b
        return contrastive_loss(heads.embed_image(feats[rows]), heads.embed_text(text_all[ids]),
                                heads.logit_scale)

    val_feats = torch.from_numpy(val.image.astype(np.float32))
    val_first = torch.tensor([index[row[0]] for row in val.captions]) if val.captions else None

    def validate() -> dict[str, float]:
        if val_first is None:
            return {"val_r5": 0.0}
        img = heads.embed_image(val_feats)
        txt = heads.embed_text(text_all[val_first])
        sims = txt @ img.t()
        rank = (sims > sims.diagonal()[:, None]).sum(1)
        return {"val_r1": float((rank < 1).float().mean()), "val_r5": float((rank < 5).float().mean())}

    optimizer = make_optimizer(parameter_groups(heads, settings.weight_decay), lr=settings.lr)
    total = settings.epochs * steps
    scheduler = cosine_schedule(optimizer, total, warmup_steps=min(steps, total))
    # dropout draws from the global generator: seeded here too, or two runs of the recipe kept other epochs
    with seeded(settings.seed):
        result = fit(heads, optimizer, batches, loss, epochs=settings.epochs, scheduler=scheduler,
                     validate=validate, monitor="val_r5", stopping=EarlyStopping(None, mode="max"),
                     checkpoint=checkpoint, resume=resume, progress=progress)
    heads.eval()
    if settings.imagenet_weight > 0:
        if not imagenet_names or val.imagenet is None:
            raise ConfigError("ConSE needs the backbone's ImageNet class names and probabilities")
        names = class_vectors(encode, list(imagenet_names), PROMPTS)
        heads.attach_imagenet(torch.from_numpy(names), settings.imagenet_weight)
        heads.config.zero_shot_weight = settings.zero_shot_weight
    if val.captions:
        with torch.no_grad():
            img = heads.embed_image(val_feats).numpy()
            txt = heads.embed_text(text_all).numpy()
        if settings.imagenet_weight > 0:
            second = conse_vectors(val.imagenet, heads.imagenet_names.numpy(), heads.config.imagenet_top)
            img = joint(img, second, settings.imagenet_weight)
            txt = joint(txt, text_all.numpy(), settings.imagenet_weight)
        heads.config.calibration = fit_calibration(img, txt, val.captions, index,
                                                   negatives=settings.calibration_negatives,
                                                   groups=val.groups if settings.calibration_other_groups
                                                   else None, first_only=settings.calibration_titles)
    summary = {"epochs": result.epochs, "best_epoch": result.best_epoch,
               "best": dict(result.best_metrics or {}), "train_images": n, "val_images": len(val.captions),
               "texts": len(index), "temperature": float(1 / heads.logit_scale.detach().exp())}
    return heads, summary


def fit_calibration(img: np.ndarray, txt: np.ndarray, captions: list[list[str]], index: dict[str, int],
                    negatives: int = 20, seed: int = 0, groups: Sequence[str] | None = None,
                    first_only: bool = False) -> dict[str, float]:
    """Platt scaling (Platt, 1999) of cosines on held-back pairs: each image (row of ``img``, unit vectors)
    with one of its own captions (positive) and with ``negatives`` captions of other images that it does not
    share (negative); ``txt`` holds the caption vectors, row ``index[caption]``.

    With one negative per positive (the first round) the fitted base rate was one half, so about half of
    any vocabulary scored above 0.5; with 20 the probability is that of a text being right when one in 21
    candidate texts is, closer to tagging with a vocabulary where most tags do not apply. With ``groups``
    (one per image) the negatives come only from images of another group: captions of the same leaf folder
    are often near-synonyms of the right one, and counting them wrong made the fit under-confident. With
    ``first_only`` every pair uses an image's first caption (its plain title, as tags and queries are
    scored) instead of one drawn from all its captions.
    """
    rng = random.Random(seed)
    cos, lab = [], []
    for i, row in enumerate(captions):
        own = set(row)
        cos.append(float(img[i] @ txt[index[row[0] if first_only else rng.choice(row)]]))
        lab.append(1.0)
        others = [j for j in range(len(captions)) if j != i and (groups is None or groups[j] != groups[i])]
        for _ in range(negatives if others else 0):
            pick = captions[rng.choice(others)]
            neg_texts = [t for t in (pick[:1] if first_only else pick) if t not in own]
            if neg_texts:
                cos.append(float(img[i] @ txt[index[rng.choice(neg_texts)]]))
                lab.append(0.0)
    x = torch.tensor(cos, dtype=torch.float64)
    y = torch.tensor(lab, dtype=torch.float64)
    a = torch.tensor(10.0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-3.0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([a, b], max_iter=200)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(a * x + b, y)
        value.backward()
        return value

    opt.step(closure)
    return {"a": float(a.detach()), "b": float(b.detach())}
