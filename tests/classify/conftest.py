"""Fixtures of the classifier tests: small labelled image sets cut from scikit-image's photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from artlens import weights

CLASSES = ("astronaut", "chelsea", "coffee")

needs_weights = pytest.mark.skipif(
    any(weights.local_status(name).state != "verified" for name in ("mobilenet_v2", "efficientnet_lite0")),
    reason="mobilenet_v2 or efficientnet_lite0 weights not verified in the local cache")


def crops(photo: np.ndarray, n: int, seed: int, size: int = 96) -> list[np.ndarray]:
    """``n`` distinct ``size`` px crops of ``photo`` (random 60-80 % windows), every other one mirrored."""
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for i in range(n):
        s = rng.uniform(0.6, 0.8)
        ch, cw = int(h * s), int(w * s)
        y, x = rng.integers(0, h - ch), rng.integers(0, w - cw)
        crop = cv2.resize(photo[y:y + ch, x:x + cw], (size, size), interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(crop[:, ::-1] if i % 2 else crop))
    return out


def write_png(path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


@pytest.fixture(scope="session")
def views():
    """:func:`crops`, for tests that make probe images."""
    return crops


@pytest.fixture(scope="module")
def folder(tmp_path_factory, photos):
    """An ImageFolder tree: 3 classes x 8 images, plus a hidden file and a hidden folder to be skipped."""
    root = tmp_path_factory.mktemp("folder")
    for c, name in enumerate(CLASSES):
        for i, img in enumerate(crops(photos[name], 8, seed=c)):
            write_png(root / name / f"{i}.png", img)
    write_png(root / "coffee" / ".hidden.png", photos["coins"][:32, :32])
    write_png(root / ".cache" / "x.png", photos["coins"][:32, :32])
    return root


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, photos):
    """A CSV with two heads: ``subject`` (3 classes) and ``kind`` (animal/other), one ``kind`` left empty."""
    root = tmp_path_factory.mktemp("csv")
    lines = ["path,subject,kind"]
    for c, name in enumerate(CLASSES):
        for i, img in enumerate(crops(photos[name], 8, seed=10 + c)):
            write_png(root / "img" / f"{name}_{i}.png", img)
            kind = "" if (name, i) == ("coffee", 0) else ("animal" if name == "chelsea" else "other")
            lines.append(f"img/{name}_{i}.png,{name},{kind}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root / "labels.csv"
