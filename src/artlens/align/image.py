"""The locked image tower: a shipped backbone's pooled features and the image's colour-name shares.

LiT ("Locked-image Tuning", Zhai et al., CVPR 2022) keeps the image model frozen and teaches the text side
to read it; here both sides get a small trainable head (:mod:`artlens.align.heads`) over frozen features.
The eleven colour-name shares (:func:`artlens.align.colors.colour_histogram`) are appended because ImageNet
features carry little of the colour words users search with ("red vase").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from artlens.align.colors import COLOUR_NAMES, colour_histogram
from artlens.errors import ImageLoadError
from artlens.imageio import load_image
from artlens.models.backbones import Backbone, get_backbone
from artlens.training.progress import Progress, report

__all__ = ["IMAGE_BACKBONE", "embed_image_files", "image_dim", "image_features"]

IMAGE_BACKBONE = "mobilenet_v2"
_CHUNK = 32


def image_dim(backbone: Backbone) -> int:
    """Length of :func:`image_features` rows for ``backbone``."""
    return backbone.spec.feature_dim + len(COLOUR_NAMES)


def image_features(images: Sequence[np.ndarray], backbone: Backbone | None = None) -> np.ndarray:
    """(N, D + 11) float32: pooled backbone features, then colour-name shares, for RGB images."""
    backbone = backbone or get_backbone(IMAGE_BACKBONE)
    if not images:
        return np.zeros((0, image_dim(backbone)), np.float32)
    feats = backbone.features(list(images), batch_size=_CHUNK)
    colours = np.stack([colour_histogram(im) for im in images])
    return np.concatenate([feats, colours], axis=1).astype(np.float32)


def embed_image_files(paths: Sequence[str | Path], backbone: Backbone | None = None, *,
                      progress: Progress | None = None) -> tuple[np.ndarray, list[int], list[dict]]:
    """Image-tower features of the readable files among ``paths``.

    Returns ``(features, kept, skipped)``: rows for the files read, their indices into ``paths``, and
    ``{"path", "error"}`` for each file that could not be read (the rest goes on).
    """
    backbone = backbone or get_backbone(IMAGE_BACKBONE)
    rows, kept, skipped = [], [], []
    for start in range(0, len(paths), _CHUNK):
        images = []
        for i in range(start, min(start + _CHUNK, len(paths))):
            try:
                images.append(load_image(paths[i]).rgb)
            except ImageLoadError as exc:
                skipped.append({"path": str(paths[i]), "error": str(exc)})
                continue
            kept.append(i)
        if images:
            rows.append(image_features(images, backbone))
        report(progress, "embed", min(start + _CHUNK, len(paths)), len(paths))
    feats = np.concatenate(rows) if rows else np.zeros((0, image_dim(backbone)), np.float32)
    return feats, kept, skipped
