"""Training sets for the learned quality model: crops of pristine photos and their synthetic distortions
(ordered pairs for RankIQA's ranking loss, Liu et al., ICCV 2017), embedded or described with an on-disk
cache keyed by the files, the settings and the code that makes them."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from artlens.errors import ArtlensError, ImageLoadError
from artlens.imageio import as_rgb_uint8
from artlens.iqa.config import STRIDE
from artlens.iqa.model import QualityModel
from artlens.iqa.train.distortions import DISTORTIONS, LEVELS

__all__ = ["build_training_set", "cached_arrays", "describe_training_set", "descriptor_code_digest",
           "embed_training_set", "level_target", "load_rgb", "set_code_digest", "training_crops"]


def level_target(level: int) -> float:
    """Regression target of a distortion level: 1.0 for a clean image (level 0), ``1 - level / 6`` else."""
    return 1.0 - level / 6.0


def load_rgb(item: str | Path | np.ndarray) -> np.ndarray:
    if isinstance(item, np.ndarray):
        return as_rgb_uint8(item)
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(item)
    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageLoadError(path, str(exc)) from exc


def training_crops(pristine: Sequence[str | Path | np.ndarray], *, per_image: int, rng: np.random.Generator,
                    size: int, per_crop: int, distortions: Sequence[str] | None, max_size: int | None = None,
                    native_share: float | None = None
                    ) -> Iterator[tuple[list[np.ndarray], list[float], list[tuple[int, int]]]]:
    """Per pristine crop: its images (clean first), targets and local ranking pairs."""
    names = list(distortions) if distortions is not None else list(DISTORTIONS)
    unknown = [n for n in names if n not in DISTORTIONS]
    if unknown or not names:
        raise ArtlensError(f"unknown distortions {unknown}; available: {', '.join(DISTORTIONS)}")
    if per_image < 1 or per_crop < 1 or size < STRIDE:
        raise ArtlensError(f"need per_image >= 1, per_crop >= 1 and size >= {STRIDE}")
    if max_size is not None and max_size < size:
        raise ArtlensError(f"max_size ({max_size}) must be at least size ({size})")
    if native_share is not None and not 0.0 <= native_share <= 1.0:
        raise ArtlensError(f"native_share must lie in [0, 1], got {native_share}")
    queue: list[str] = []
    for item in pristine:
        full = load_rgb(item)
        for _ in range(per_image):
            img = full
            # drawn only when asked, so sets made without max_size stay as they were
            crop_side = size if max_size is None else int(rng.integers(size, max_size + 1))
            # a random downscale first: photos are judged after resizing, and it removes sensor noise;
            # with native_share, that share of the crops keeps the file's own pixels (what a 100 % zoom shows,
            # artlens.assess.native), drawn only when asked so that sets made without it stay as they were
            longest = int(rng.integers(crop_side, 2 * crop_side + 1))
            if native_share is not None and rng.random() < native_share:
                longest = max(img.shape[:2])
            scale = longest / max(img.shape[:2])
            if scale < 1.0:
                new_size = (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale)))
                img = cv2.resize(img, new_size, interpolation=cv2.INTER_AREA)
            side = min(crop_side, *img.shape[:2])
            top = int(rng.integers(0, img.shape[0] - side + 1))
            left = int(rng.integers(0, img.shape[1] - side + 1))
            crop = np.ascontiguousarray(img[top:top + side, left:left + side])
            images, targets, pairs = [crop], [level_target(0)], []
            chosen = []
            for _ in range(min(per_crop, len(names))):  # cycle through all distortions evenly
                if not queue:
                    queue = [names[i] for i in rng.permutation(len(names))]
                pick = next((q for q in queue if q not in chosen), queue[0])
                queue.remove(pick)
                chosen.append(pick)
            for name in chosen:
                seed = int(rng.integers(2**63))
                first = len(images)
                for level in LEVELS:
                    images.append(DISTORTIONS[name](crop, level, np.random.default_rng(seed)))
                    targets.append(level_target(level))
                    pairs.append((0, len(images) - 1))
                for a in range(len(LEVELS)):
                    for b in range(a + 1, len(LEVELS)):
                        pairs.append((first + a, first + b))
            yield images, targets, pairs


def build_training_set(pristine: Sequence[str | Path | np.ndarray], *, per_image: int = 2,
                       rng: np.random.Generator, size: int = 448, per_crop: int = 3,
                       distortions: Sequence[str] | None = None, max_size: int | None = None,
                       native_share: float | None = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Clean crops of pristine photos and graded distortions of them, with targets and ranking pairs.

    Parameters
    ----------
    pristine
        Image files (or RGB arrays) of good quality.
    per_image
        Random crops per pristine image. Each photo is first downscaled so its longest side is a random
        length in ``[size, 2 * size]`` (never upscaled), then a square of side ``min(size, h, w)`` is cut.
    rng
        Source of every random choice; the set is deterministic given its state.
    size
        Crop side in pixels.
    max_size
        When given, each crop's side is drawn uniformly from ``[size, max_size]`` (and the downscale range
        follows it). The model sees every image at most ``sizes[0]`` wide while the distortions are made at
        the crop's own resolution, as on a large upload: a defect of a few pixels then shrinks on the way
        in, and the head learns how much of it is still visible.
    native_share
        When given, this share of the crops is cut from the photo at its own resolution, without the random
        downscale: the pixels a 100 % zoom shows, which :mod:`artlens.assess.native` scores on large images.
    per_crop
        Different distortions per crop, each applied at all five levels; distortions are used in turn so
        each is used about equally often.
    distortions
        Names to draw from (default: all of :data:`artlens.iqa.train.distortions.DISTORTIONS`).

    Returns
    -------
    images : list of numpy.ndarray
        Per crop: the clean crop, then ``per_crop x 5`` distorted versions.
    level_targets : numpy.ndarray
        (N,) float32: 1.0 for clean, ``1 - level / 6`` for distorted.
    pairs : numpy.ndarray
        (P, 2) int64 ``(better, worse)``: clean over each of its distorted versions, and within one
        distortion of one crop each lower level over each higher level.

    Raises
    ------
    ImageLoadError
        A pristine file cannot be read.
    """
    images: list[np.ndarray] = []
    targets: list[float] = []
    pairs: list[tuple[int, int]] = []
    for crop_images, crop_targets, crop_pairs in training_crops(
            pristine, per_image=per_image, rng=rng, size=size, per_crop=per_crop, distortions=distortions,
            max_size=max_size, native_share=native_share):
        base = len(images)
        images.extend(crop_images)
        targets.extend(crop_targets)
        pairs.extend((base + a, base + b) for a, b in crop_pairs)
    return images, np.asarray(targets, np.float32), np.asarray(pairs, np.int64).reshape(-1, 2)


def embed_training_set(model: QualityModel, pristine: Sequence[str | Path], *, seed: int = 0,
                       per_image: int = 2, size: int = 448, per_crop: int = 3,
                       distortions: Sequence[str] | None = None, cache: str | Path | None = None,
                       batch_size: int | None = None, max_size: int | None = None,
                       native_share: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`build_training_set` followed by :meth:`QualityModel.embed`, one crop at a time.

    Only one crop's images are held in memory. With ``cache``, the features are stored in that ``.npz``
    file together with a key of everything that determines them (embedding config, files with their size
    and modification time, seed and set parameters, a digest of the code that makes the images) and
    reused when the key matches.

    Returns
    -------
    tuple
        ``(features (N, D) float32, level_targets (N,), pairs (P, 2))``.
    """
    files = [Path(p) for p in pristine]
    embedding = model.config.embedding_settings()

    def compute() -> dict[str, np.ndarray]:
        feats: list[np.ndarray] = []
        targets: list[float] = []
        pairs: list[tuple[int, int]] = []
        count = 0
        for crop_images, crop_targets, crop_pairs in training_crops(
                files, per_image=per_image, rng=np.random.default_rng(seed), size=size, per_crop=per_crop,
                distortions=distortions, max_size=max_size, native_share=native_share):
            feats.append(model.embed(crop_images, batch_size=batch_size).numpy())
            targets.extend(crop_targets)
            pairs.extend((count + a, count + b) for a, b in crop_pairs)
            count += len(crop_images)
        empty = np.zeros((0, model.config.embed_dim), np.float32)
        return {"features": np.concatenate(feats) if feats else empty,
                "targets": np.asarray(targets, np.float32),
                "pairs": np.asarray(pairs, np.int64).reshape(-1, 2)}

    data = cached_arrays(cache, _set_key(files, seed, per_image, size, per_crop, distortions, max_size,
                                   native_share, config=embedding), compute)
    return data["features"], data["targets"], data["pairs"]


def describe_training_set(pristine: Sequence[str | Path], *, seed: int = 0, per_image: int = 2,
                          size: int = 448, per_crop: int = 3, distortions: Sequence[str] | None = None,
                          cache: str | Path | None = None, max_size: int | None = None,
                          native_share: float | None = None) -> np.ndarray:
    """The NSS descriptors (:mod:`artlens.iqa.descriptors`) of the images of :func:`embed_training_set`.

    Same arguments, same images in the same order (the set is rebuilt from ``seed``); cached in its own
    ``.npz`` file when ``cache`` is given. Returns (N, len(DESCRIPTOR_NAMES)) float32.
    """
    from artlens.iqa.descriptors import DESCRIPTOR_NAMES, describe

    files = [Path(p) for p in pristine]

    def compute() -> dict[str, np.ndarray]:
        parts = [describe(crop_images) for crop_images, _, _ in training_crops(
            files, per_image=per_image, rng=np.random.default_rng(seed), size=size, per_crop=per_crop,
            distortions=distortions, max_size=max_size, native_share=native_share)]
        return {"descriptors": np.concatenate(parts) if parts
                else np.zeros((0, len(DESCRIPTOR_NAMES)), np.float32)}

    key = _set_key(files, seed, per_image, size, per_crop, distortions, max_size, native_share,
                   descriptors=list(DESCRIPTOR_NAMES), descriptor_code=descriptor_code_digest())
    return cached_arrays(cache, key, compute)["descriptors"]


def _set_key(files: Sequence[Path], seed: int, per_image: int, size: int, per_crop: int,
             distortions: Sequence[str] | None, max_size: int | None, native_share: float | None = None,
             **extra: object) -> str:
    """A hash of everything that determines a training set's arrays (files by size and modification time)."""
    key_data = {
        **extra,
        **({} if max_size is None else {"max_size": max_size}),  # keys made before it existed still match
        **({} if native_share is None else {"native_share": native_share}),
        "code": set_code_digest(),
        "files": [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files],
        "seed": seed, "per_image": per_image, "size": size, "per_crop": per_crop,
        "distortions": list(distortions) if distortions is not None else list(DISTORTIONS),
    }
    return hashlib.sha256(json.dumps(key_data, sort_keys=True).encode()).hexdigest()


def _source_digest(*objects: object) -> str:
    """SHA-256 of the source of modules or functions (of the release, when installed without sources)."""
    try:
        parts = [inspect.getsource(obj) for obj in objects]
    except OSError:
        from artlens import __version__

        parts = [__version__]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@functools.cache
def set_code_digest() -> str:
    """Digest of the code that makes a training set's images (the distortions, the cropping, the targets),
    in the key of every cache of a training set, so that one made by other code is never reused."""
    from artlens.iqa.train import distortions

    return _source_digest(distortions, training_crops, level_target)


@functools.cache
def descriptor_code_digest() -> str:
    """Digest of the code that computes the NSS descriptors, in the key of every cache of descriptors."""
    from artlens.iqa import descriptors
    from artlens.screening import brisque, metrics, niqe
    from artlens.screening import nss as _nss

    return _source_digest(descriptors, brisque, niqe, _nss, metrics)


def cached_arrays(cache: str | Path | None, key: str, compute: Callable[[], dict[str, np.ndarray]]
            ) -> dict[str, np.ndarray]:
    """``compute()``'s arrays, read from the ``.npz`` file ``cache`` when its stored key matches ``key``."""
    path = Path(cache) if cache is not None else None
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) == key:
                return {k: data[k] for k in data.files if k != "key"}
    arrays = compute()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, key=np.asarray(key), **arrays)
        tmp.replace(path)
    return arrays
