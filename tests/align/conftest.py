"""Synthetic pairs for the alignment tests: coloured shapes on white with their names."""

from __future__ import annotations

import zlib

import cv2
import numpy as np
import pytest

COLOURS = {"red": (220, 30, 30), "green": (40, 160, 50), "blue": (40, 80, 210), "yellow": (250, 225, 40)}
SHAPES = ("circle", "square", "triangle")


def draw(colour: str, shape: str, seed: int, size: int = 96) -> np.ndarray:
    """A ``colour`` ``shape`` at a random place and size on a white canvas."""
    rng = np.random.default_rng(seed)
    img = np.full((size, size, 3), 255, np.uint8)
    r = int(rng.integers(size // 6, size // 3))
    cx, cy = (int(v) for v in rng.integers(r + 2, size - r - 2, 2))
    rgb = tuple(int(c) for c in COLOURS[colour])
    if shape == "circle":
        cv2.circle(img, (cx, cy), r, rgb, -1)
    elif shape == "square":
        cv2.rectangle(img, (cx - r, cy - r), (cx + r, cy + r), rgb, -1)
    else:
        pts = np.array([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], np.int32)
        cv2.fillPoly(img, [pts], rgb)
    return img


def shape_set(n_per: int, seed: int) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Images, their colour names and their shape names."""
    images, colours, shapes = [], [], []
    for i, (c, s) in enumerate((c, s) for c in COLOURS for s in SHAPES for _ in range(n_per)):
        images.append(draw(c, s, seed * 10_000 + i))
        colours.append(c)
        shapes.append(s)
    return images, colours, shapes


def bag_of_words(texts: list[str], dim: int = 384) -> np.ndarray:
    """A stand-in text tower: the normalised sum of a fixed random vector per word."""
    out = np.zeros((len(texts), dim), np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().replace(",", " ").split():
            out[i] += np.random.default_rng(zlib.crc32(word.encode())).standard_normal(dim).astype(np.float32)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


@pytest.fixture(scope="session")
def shapes_train():
    return shape_set(8, seed=1)


@pytest.fixture(scope="session")
def shapes_test():
    return shape_set(4, seed=2)
