"""Scoring a trained generator against real images: KID, the Fréchet distance, precision and recall, and the
memorisation check, on :mod:`~artlens.gan.features` (output schema ``artlens.gan-evaluation/1``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from artlens.gan.copycheck import memorisation
from artlens.gan.data import load_folder
from artlens.gan.features import FEATURES, image_features
from artlens.gan.kid import frechet_distance, kernel_inception_distance
from artlens.gan.manifold import precision_recall
from artlens.gan.model import GanModel
from artlens.gan.sample import as_array, generate
from artlens.training.progress import Progress, report

__all__ = ["SCHEMA", "evaluate_gan", "score_features"]

SCHEMA = "artlens.gan-evaluation/1"  # schemas/gan-evaluation-1.json


def score_features(real: np.ndarray, fake: np.ndarray, *, seed: int = 0) -> dict[str, Any]:
    """KID (with its spread), the Fréchet distance, precision and recall, and the memorisation summary of two
    feature sets."""
    kid = kernel_inception_distance(real, fake, seed=seed)
    mem = memorisation(real, fake)
    pr = precision_recall(real, fake)
    return {"kid": kid.kid, "kid_std": kid.std, "kid_stderr": kid.stderr, "kid_subsets": kid.subsets,
            "kid_subset_size": kid.subset_size, "fd": frechet_distance(real, fake),
            "precision": pr.precision, "recall": pr.recall, "precision_recall_k": pr.k,
            "memorisation": {"train_median_distance": mem.train_median,
                             "share_closer_than_train": mem.share_closer_than_train,
                             "near_copies": mem.near_copies, "near_copy_threshold": mem.near_copy_threshold,
                             "nearest": [{"sample": i, "train_index": j, "distance": d}
                                         for i, (j, d) in enumerate(zip(mem.nearest, mem.distance,
                                                                        strict=True))]}}


def evaluate_gan(model: GanModel | str | os.PathLike[str], real: str | os.PathLike[str], *,
                 n: int | None = None, seed: int = 0, truncation: float | None = None,
                 device: str | None = None, on_error: Any = None,
                 progress: Progress | None = None, features: str = FEATURES,
                 max_pixels: int | None = None) -> dict[str, Any]:
    """Score ``model`` against the images under ``real`` (made square at the model's size, as in training).

    ``n`` samples are generated (default: as many as there are real images, at least 50). The result follows
    ``artlens.gan-evaluation/1``; ``nearest[i].train_file`` names the nearest training file of sample ``i``.
    ``features`` names the backbone whose features are compared (EfficientNet-Lite0 by default; MobileNetV2
    for a model trained with the projected discriminator, which looked at EfficientNet-Lite0's).
    ``max_pixels`` overrides the limit above which an image file is skipped as a possible decompression bomb.
    """
    gan = model if isinstance(model, GanModel) else GanModel.load(model)
    skipped: list[str] = []
    bad: set[str] = set()

    def skip(err: Exception) -> None:
        skipped.append(str(err))
        bad.add(str(getattr(err, "path", "")))
        if on_error is not None:
            on_error(err)

    images, _ = load_folder(real, gan.config.size, max_pixels=max_pixels, on_error=skip, progress=progress)
    from artlens.imageio import collect_inputs  # the same walk load_folder made, for the file names

    files = [f for f in sorted(collect_inputs([real])[0]) if str(f) not in bad]
    count = n if n is not None else max(50, len(images))
    report(progress, "features", 0, 2)
    real_feats = image_features(images, device=device, network=features)
    report(progress, "features", 1, 2)
    fake = as_array(generate(gan, count, seed=seed, truncation=truncation))
    fake_feats = image_features(fake, device=device, network=features)
    report(progress, "features", 2, 2)
    scores = score_features(real_feats, fake_feats, seed=seed)
    names = [str(f) for f in files] if len(files) == len(images) else None
    for row in scores["memorisation"]["nearest"]:
        row["train_file"] = names[row["train_index"]] if names else None
    return {"schema": SCHEMA, "model": str(gan.folder) if gan.folder else None, "real": str(Path(real)),
            "features": features, "size": gan.config.size, "real_images": len(images),
            "generated_images": int(count), "seed": seed, "truncation": truncation, **scores,
            "skipped": skipped}
