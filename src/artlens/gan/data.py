"""Training images for a GAN: a folder read through :mod:`artlens.imageio`, made square and resized.

A picture is padded to a square with its border colour (drawings on white stay on white; a photo gets its
edge colour) when its sides differ by less than a third, and centre-cropped otherwise, then resized with
area averaging. Files that cannot be read are reported and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from artlens.errors import ImageLoadError
from artlens.gan.errors import GanDataError
from artlens.imageio import DEFAULT_MAX_PIXELS, collect_inputs, load_image
from artlens.training.progress import Progress, report

__all__ = ["load_folder", "square"]

log = logging.getLogger(__name__)


def square(rgb: np.ndarray, size: int) -> np.ndarray:
    """An (H, W, 3) uint8 image as a ``size`` x ``size`` one: padded with its border colour when nearly
    square, centre-cropped otherwise, then resized."""
    h, w = rgb.shape[:2]
    if max(h, w) <= 1.34 * min(h, w):
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        colour = [int(v) for v in np.median(border, axis=0)]
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2
        rgb = cv2.copyMakeBorder(rgb, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT,
                                 value=colour)
    else:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        rgb = rgb[top:top + side, left:left + side]
    interp = cv2.INTER_AREA if rgb.shape[0] > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(rgb, (size, size), interpolation=interp))


def load_folder(folder: str | os.PathLike[str], size: int, *, min_images: int = 2,
                max_pixels: int | None = None,
                on_error: Callable[[ImageLoadError], None] | None = None,
                progress: Progress | None = None) -> tuple[np.ndarray, str]:
    """Every readable image under ``folder`` as an (N, size, size, 3) uint8 array, in file-name order, and
    the SHA-256 of the files read (what a checkpoint is bound to). Files of more than ``max_pixels`` pixels
    are skipped (None: :data:`artlens.imageio.DEFAULT_MAX_PIXELS`).

    Raises
    ------
    GanDataError
        Fewer than ``min_images`` readable images.
    """
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    files, errors = collect_inputs([folder])
    files = sorted(files)
    images, digest = [], hashlib.sha256()
    for err in errors:
        _skip(err, on_error)
    for i, path in enumerate(files):
        try:
            loaded = load_image(path, max_pixels=limit)
        except ImageLoadError as err:
            _skip(err, on_error)
            continue
        images.append(square(loaded.rgb, size))
        digest.update(loaded.sha256.encode())
        report(progress, "read", i + 1, len(files))
    if len(images) < min_images:
        raise GanDataError(folder, f"has {len(images)} readable image(s); a GAN needs at least {min_images}")
    return np.stack(images), digest.hexdigest()


def _skip(err: ImageLoadError, on_error: Callable[[ImageLoadError], None] | None) -> None:
    if on_error is not None:
        on_error(err)
    else:
        log.warning("skipped %s", err)


def folder_name(folder: str | os.PathLike[str]) -> str:
    """The folder's own name, for the model's record."""
    return Path(folder).resolve().name
