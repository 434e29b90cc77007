"""Fixtures of the GAN tests: folders of small generated shapes, and a tiny trained model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


def shapes(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """``n`` pictures of one coloured disc or square on white, (n, size, size, 3) uint8."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        im = Image.new("RGB", (size, size), "white")
        r = int(rng.integers(size // 6, size // 3))
        cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
        colour = tuple(int(v) for v in rng.integers(0, 200, 3))
        draw = ImageDraw.Draw(im)
        box = (cx - r, cy - r, cx + r, cy + r)
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
        out.append(np.asarray(im))
    return np.stack(out)


@pytest.fixture(scope="session")
def shapes_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shapes")
    for i, arr in enumerate(shapes(48, 40)):
        Image.fromarray(arr).save(folder / f"shape{i:02d}.png")
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, shapes_folder) -> Path:
    """A GAN trained for two steps at 32 px (its images are noise; the shapes are what matters)."""
    from artlens.gan import GanTrainSettings, train_gan

    out = tmp_path_factory.mktemp("tiny-gan")
    settings = GanTrainSettings(size=32, width=8, z_dim=16, batch_size=8, tick=2)
    train_gan(shapes_folder, out, settings=settings, kimg=0.016)
    return out
