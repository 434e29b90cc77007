"""Colour names for pixels: the eleven basic colour terms and a palette of dominant colours.

The eleven terms (black, white, grey, red, orange, yellow, green, blue, purple, pink, brown) are those
Berlin & Kay found in every language with that many ("Basic Color Terms", University of California Press,
1969); pixels take the name of the nearest prototype in CIELAB. The palette is k-means in CIELAB (cv2.kmeans).
"""

from __future__ import annotations

import cv2
import numpy as np

from artlens.imageio import as_rgb_uint8
from artlens.screening.metrics import working_image

__all__ = ["COLOUR_NAMES", "colour_histogram", "name_of", "palette"]

COLOUR_NAMES: tuple[str, ...] = ("black", "white", "grey", "red", "orange", "yellow", "green", "blue",
                                 "purple", "pink", "brown")
_PROTOTYPES = np.array([
    (0, 0, 0), (255, 255, 255), (128, 128, 128), (220, 30, 30), (245, 140, 20), (250, 225, 40),
    (40, 160, 50), (40, 80, 210), (130, 50, 160), (245, 150, 190), (130, 80, 40),
], np.uint8)
_WORK_SIDE = 96


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)


_PROTO_LAB = _lab(_PROTOTYPES)
# Extra shades for naming palette colours (dark and light variants of a term); the histogram of the image
# tower keeps the eleven prototypes above, which the shipped heads were trained on.
_SHADES = np.array([
    (20, 40, 120), (140, 180, 230), (20, 90, 30), (150, 210, 140), (130, 20, 20), (192, 192, 192),
    (64, 64, 64), (80, 30, 100), (190, 150, 110), (90, 130, 200),
], np.uint8)
_SHADE_NAMES = np.array([7, 7, 6, 6, 3, 2, 2, 8, 10, 7])
_FINE_LAB = np.concatenate([_PROTO_LAB, _lab(_SHADES)])
_FINE_NAMES = np.concatenate([np.arange(len(COLOUR_NAMES)), _SHADE_NAMES])


def _small(rgb: np.ndarray) -> np.ndarray:
    return working_image(as_rgb_uint8(rgb), _WORK_SIDE)


def name_of(lab: np.ndarray, *, shades: bool = False) -> np.ndarray:
    """Index into :data:`COLOUR_NAMES` of the nearest prototype for each CIELAB row (with ``shades``, also
    of dark and light variants of the terms: navy is blue, not purple)."""
    protos, names = (_FINE_LAB, _FINE_NAMES) if shades else (_PROTO_LAB, np.arange(len(COLOUR_NAMES)))
    d = ((lab[:, None, :] - protos[None, :, :]) ** 2).sum(-1)
    return names[d.argmin(1)]


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """Share of the image's pixels named by each of :data:`COLOUR_NAMES`, (11,) float32 summing to 1."""
    names = name_of(_lab(_small(rgb)))
    return (np.bincount(names, minlength=len(COLOUR_NAMES)) / max(1, names.size)).astype(np.float32)


def palette(rgb: np.ndarray, k: int = 5, seed: int = 0) -> list[dict]:
    """The ``k`` dominant colours, largest share first: ``{"hex", "name", "share"}`` each."""
    lab = _lab(_small(rgb))
    distinct, counts = np.unique(lab, axis=0, return_counts=True)
    if len(distinct) <= k:  # no more colours than asked for (a flat or tiny image): they are the palette
        centres, shares = distinct.astype(np.float32), counts / counts.sum()
    else:
        cv2.setRNGSeed(seed)
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
        _, labels, centres = cv2.kmeans(lab, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
        shares = np.bincount(labels.ravel(), minlength=k) / labels.size
    rgb_centres = cv2.cvtColor(np.clip(centres, 0, 255).astype(np.uint8).reshape(-1, 1, 3),
                               cv2.COLOR_LAB2RGB).reshape(-1, 3)
    names = name_of(centres.astype(np.float32), shades=True)
    out = [{"hex": "#{:02x}{:02x}{:02x}".format(*map(int, c)), "name": COLOUR_NAMES[int(n)],
            "share": round(float(s), 4)} for c, n, s in zip(rgb_centres, names, shares, strict=True)]
    return sorted(out, key=lambda p: -p["share"])
