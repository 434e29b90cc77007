"""Pooled backbone features of a dataset's images, computed once and cached by content hash.

``--mode linear`` trains on these features alone, and ``--mode finetune`` uses them to start its heads from
the linear solution, so the expensive forward pass over the whole dataset runs once per image and backbone:
re-training with other settings, on another split or after an interruption reads the cache. Entries live in
``$ARTLENS_CACHE/features/<backbone>-<weights>/<sha256[:2]>/<sha256>.npy``, one small file per image, written
atomically, so concurrent runs and killed runs never leave a half-written entry.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from artlens import weights
from artlens.classify.framing import check_framing, frame_image
from artlens.classify.pooling import PooledTrunk, pooled_dim
from artlens.errors import ImageLoadError
from artlens.imageio import as_rgb_uint8, load_image
from artlens.models.backbones import Backbone
from artlens.training.progress import Progress, report

__all__ = ["embed_paths", "feature_cache_dir", "pooled_features"]

_CHUNK = 64  # images decoded and held in memory at once


def feature_cache_dir(backbone: Backbone, pooling: str = "avg", flip: bool = False,
                      framing: str = "crop") -> Path:
    """The cache folder of one backbone's pinned weights, pooling (:mod:`artlens.classify.pooling`), flip
    averaging and framing (:mod:`artlens.classify.framing`; average pooling of centre crops without flips
    keeps the folder of the first versions)."""
    entry = weights.REGISTRY.get(backbone.spec.weight_name)
    tag = entry.sha256[:12] if entry is not None else "unpinned"
    variant = "" if pooling == "avg" and not flip else f"-{pooling}{'-flip' if flip else ''}"
    variant += "" if framing == "crop" else f"-{framing}"
    return weights.cache_dir() / "features" / f"{backbone.spec.name}-{tag}{variant}"


def pooled_features(backbone: Backbone, images: Sequence[np.ndarray], *, pooling: str = "avg",
                    flip: bool = False, batch_size: int = 32, framing: str = "crop") -> np.ndarray:
    """(N, D) float32 features of RGB images: :func:`artlens.classify.pooling.pool_features` of the backbone's
    trunk on the framed images (:func:`artlens.classify.framing.frame_image`), averaged with those of the
    mirror images when ``flip`` (flip test-time augmentation)."""
    images = [frame_image(as_rgb_uint8(im), framing) for im in images] if framing != "crop" else images
    if pooling == "avg" and not flip:
        return backbone.features(images, batch_size=batch_size)
    pooler = PooledTrunk(backbone.trunk, pooling)
    chunks = []
    with torch.inference_mode():
        for i in range(0, len(images), batch_size):
            x = torch.stack([backbone.preprocess(im) for im in images[i:i + batch_size]])
            x = x.to(backbone.device, memory_format=torch.channels_last)
            f = pooler(x)
            if flip:
                f = 0.5 * (f + pooler(x.flip(3)))
            chunks.append(f.float().cpu().numpy())
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _cached(folder: Path, sha: str, dim: int) -> np.ndarray | None:
    path = folder / sha[:2] / f"{sha}.npy"
    try:
        vec = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return vec if vec.shape == (dim,) and vec.dtype == np.float32 else None


def _store(folder: Path, sha: str, vec: np.ndarray) -> None:
    target = folder / sha[:2] / f"{sha}.npy"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        np.save(fh, np.ascontiguousarray(vec, np.float32), allow_pickle=False)
    tmp.replace(target)


def embed_paths(paths: Sequence[Path], backbone: Backbone, *, sha256: Sequence[str] | None = None,
                batch_size: int = 32, cache: bool = True, progress: Progress | None = None,
                pooling: str = "avg", flip: bool = False,
                framing: str = "crop") -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Pooled features of the readable images among ``paths``.

    Parameters
    ----------
    paths
        Image files.
    backbone
        Frozen feature extractor.
    sha256
        Content hash of each file when already known (one per path; else computed here, for the cache).
    batch_size
        Images per forward pass.
    cache
        Read and write the feature cache.
    progress
        Receives ``ProgressEvent("embed", done, total)`` (:mod:`artlens.training.progress`) after each chunk.
    pooling, flip, framing
        Passed to :func:`pooled_features`.

    Returns
    -------
    features, kept, skipped
        (M, D) float32 features; (M,) indices into ``paths`` of the images embedded; and
        ``[{"path", "reason"}]`` for each image that could not be read.
    """
    total = len(paths)
    known = sha256 if sha256 is not None and len(sha256) == total else None
    dim = backbone.spec.feature_dim if pooling == "avg" else pooled_dim(backbone.trunk, pooling)
    check_framing(framing)
    folder = feature_cache_dir(backbone, pooling, flip, framing)
    out = np.zeros((total, dim), np.float32)
    ok = np.zeros(total, bool)
    skipped: list[dict] = []
    for start in range(0, total, _CHUNK):
        images, idx, shas = [], [], []
        for i in range(start, min(start + _CHUNK, total)):
            try:
                sha = known[i] if known else weights.sha256_file(Path(paths[i]))
            except OSError as exc:
                skipped.append({"path": str(paths[i]), "reason": exc.strerror or str(exc)})
                continue
            hit = _cached(folder, sha, dim) if cache else None
            if hit is not None:
                out[i], ok[i] = hit, True
                continue
            try:
                images.append(load_image(paths[i]).rgb)
            except ImageLoadError as exc:
                skipped.append({"path": str(paths[i]), "reason": exc.reason})
                continue
            idx.append(i)
            shas.append(sha)
        if images:
            feats = pooled_features(backbone, images, pooling=pooling, flip=flip, batch_size=batch_size,
                                    framing=framing)
            for i, sha, vec in zip(idx, shas, feats, strict=True):
                out[i], ok[i] = vec, True
                if cache:
                    _store(folder, sha, vec)
        report(progress, "embed", min(start + _CHUNK, total), total)
    kept = np.flatnonzero(ok).astype(np.int64)
    return out[kept], kept, skipped
