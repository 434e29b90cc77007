"""A small collection with known duplicates, and an index built over it once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

SIDE = 192


def synthetic(seed: int) -> np.ndarray:
    """A distinct made-up picture: a coloured gradient, textured stripes and random filled shapes."""
    rng = np.random.default_rng(seed)
    h, w = 160, 200
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(0, 255, 3) * (xx / w)[..., None] + rng.uniform(0, 255, 3) * (yy / h)[..., None]
    freq = rng.uniform(0.05, 0.4)
    angle = rng.uniform(0, np.pi)
    stripes = 60 * np.sin(freq * (xx * np.cos(angle) + yy * np.sin(angle)))[..., None]
    img = np.clip(base / 2 + stripes + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 7))):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if rng.random() < 0.5:
            cv2.circle(img, centre, int(rng.integers(10, 50)), colour, -1)
        else:
            pts = rng.integers(0, [w, h], (int(rng.integers(3, 6)), 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], colour)
    return img


def _save(rgb: np.ndarray, path: Path, quality: int = 92) -> Path:
    Image.fromarray(rgb).save(path, quality=quality)
    return path


def _resize(rgb: np.ndarray, width: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    return cv2.resize(rgb, (width, round(h * width / w)), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def collection(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> dict:
    """Originals (5 photos, 5 synthetic pictures) and known copies of three of them.

    Returns a dict: ``folder``, ``originals`` (name -> path), ``copies`` (name -> list of paths),
    ``spare`` (a crop of the astronaut that is not in the folder), ``extra`` (an unindexed picture).
    """
    root = tmp_path_factory.mktemp("collection")
    folder = root / "images"
    folder.mkdir()
    originals: dict[str, Path] = {}
    arrays: dict[str, np.ndarray] = {}
    for name, rgb in photos.items():
        arrays[name] = _resize(rgb, SIDE * 2)
    for seed in range(5):
        arrays[f"synthetic{seed}"] = synthetic(seed)
    for name, rgb in arrays.items():
        originals[name] = _save(rgb, folder / f"{name}.jpg")
    astro, coffee = arrays["astronaut"], arrays["coffee"]
    h, w = coffee.shape[:2]
    copies = {
        "astronaut": [_save(_resize(astro, SIDE), folder / "astronaut-small.jpg"),
                      _save(astro, folder / "astronaut-q30.jpg", quality=30)],
        "coffee": [_save(coffee[h // 10: h - h // 10, w // 10: w - w // 10], folder / "coffee-crop.jpg")],
        "chelsea": [folder / "chelsea-copy.jpg"],
    }
    shutil.copyfile(originals["chelsea"], copies["chelsea"][0])
    h, w = astro.shape[:2]
    spare = _save(astro[h // 12: h - h // 12, w // 12:], root / "astronaut-spare-crop.jpg")
    extra = _save(synthetic(99), root / "extra.jpg")
    return {"folder": folder, "originals": originals, "copies": copies, "spare": spare, "extra": extra}


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory, collection: dict) -> Path:
    """The collection indexed once, with style features (tests copy it before changing it)."""
    from artlens.search.index import SearchIndex

    folder = tmp_path_factory.mktemp("index") / "idx"
    with SearchIndex.create(folder, style=True) as index:
        report = index.update([collection["folder"]])
    assert not report.errors
    return folder


@pytest.fixture
def index_copy(tmp_path: Path, built_index: Path) -> Path:
    """A private copy of the built index that a test may change."""
    target = tmp_path / "idx"
    shutil.copytree(built_index, target)
    return target
