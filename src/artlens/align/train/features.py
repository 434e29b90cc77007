"""The one slow pass of alignment training: image-tower features of every pair, cached in one file.

For each image it keeps the locked image features (:mod:`artlens.align.image`) and the backbone's own
ImageNet class probabilities (the weak captions of photos, and the ImageNet-name baseline of the zero-shot
benchmark). The file is an ``.npz`` written atomically; a later run with the same pairs reads it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from artlens.align.colors import COLOUR_NAMES
from artlens.align.image import IMAGE_BACKBONE, image_features
from artlens.align.train.pairs import Pair
from artlens.errors import ImageLoadError
from artlens.files import atomic_write
from artlens.imageio import load_image
from artlens.models.backbones import get_backbone
from artlens.training.progress import Progress, report

__all__ = ["FeatureCache", "build_feature_cache", "load_feature_cache"]

_CHUNK = 32


class FeatureCache:
    """Cached features: ``pairs`` (those read), ``image`` (N, D), ``imagenet`` (N, 1000) probabilities,
    ``categories`` (ImageNet class names) and ``skipped`` (``{"path", "error"}``)."""

    def __init__(self, pairs: list[Pair], image: np.ndarray, imagenet: np.ndarray, categories: list[str],
                 skipped: list[dict]) -> None:
        self.pairs, self.image, self.imagenet = pairs, image, imagenet
        self.categories, self.skipped = categories, skipped

    def colour_words(self, min_share: float = 0.2) -> list[str]:
        """The most common colour name of each image apart from white, when it covers ``min_share``."""
        hist = self.image[:, -len(COLOUR_NAMES):].copy()
        hist[:, COLOUR_NAMES.index("white")] = 0
        best = hist.argmax(1)
        return [COLOUR_NAMES[b] if hist[i, b] >= min_share else "" for i, b in enumerate(best)]


def build_feature_cache(pairs: Sequence[Pair], out: Path, *, previous: FeatureCache | None = None,
                        progress: Progress | None = None) -> FeatureCache:
    """Compute and write the features of ``pairs`` to ``out`` (unreadable files reported and skipped).

    Rows that ``previous`` (a cache of the same image tower) already holds, and files it already found
    unreadable, are taken from it: only the new images pass through the backbone.
    """
    backbone = get_backbone(IMAGE_BACKBONE, with_classifier=True)
    classifier = getattr(backbone.model, "classifier", None)
    old_rows = {p.path: i for i, p in enumerate(previous.pairs)} if previous is not None else {}
    old_skips = {s["path"]: s for s in previous.skipped} if previous is not None else {}
    todo = [p for p in pairs if p.path not in old_rows and p.path not in old_skips]
    kept: list[Pair] = []
    feats, probs, skipped = [], [], []
    for start in range(0, len(todo), _CHUNK):
        images = []
        for pair in todo[start:start + _CHUNK]:
            try:
                images.append(load_image(pair.path).rgb)
            except ImageLoadError as exc:
                skipped.append({"path": pair.path, "error": str(exc)})
                continue
            kept.append(pair)
        if images:
            rows = image_features(images, backbone)
            feats.append(rows)
            if classifier is not None:
                with torch.inference_mode():
                    pooled = torch.from_numpy(rows[:, :backbone.spec.feature_dim])
                    probs.append(torch.softmax(classifier(pooled), 1).numpy().astype(np.float16))
        report(progress, "embed", min(start + _CHUNK, len(todo)), len(todo))
    if previous is not None:
        reused = [p for p in pairs if p.path in old_rows]
        rows = [old_rows[p.path] for p in reused]
        kept = reused + kept
        feats.insert(0, previous.image[rows])
        probs.insert(0, previous.imagenet[rows])
        skipped = [old_skips[p.path] for p in pairs if p.path in old_skips] + skipped
    image = np.concatenate(feats) if feats else np.zeros((0, 0), np.float32)
    imagenet = np.concatenate(probs) if probs else np.zeros((len(kept), 0), np.float16)
    cache = FeatureCache(kept, image, imagenet, list(backbone.spec.categories), skipped)
    meta = json.dumps({"pairs": [asdict(p) for p in kept], "categories": cache.categories,
                       "skipped": skipped, "backbone": IMAGE_BACKBONE})

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, image=image, imagenet=imagenet, meta=np.frombuffer(meta.encode(), np.uint8))

    atomic_write(out, write)
    return cache


def load_feature_cache(path: Path) -> FeatureCache:
    """Read a cache written by :func:`build_feature_cache`."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        return FeatureCache([Pair(**p) for p in meta["pairs"]], data["image"], data["imagenet"],
                            meta["categories"], meta["skipped"])
