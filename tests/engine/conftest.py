"""Fixtures of the engine tests: a few small photos (one file broken) and a local 2-CPU Ray cluster."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest


def crop_view(photo: np.ndarray, y: float, x: float, width: int = 320, height: int = 240) -> np.ndarray:
    h, w = photo.shape[:2]
    side_h, side_w = int(h * 0.7), int(w * 0.7)
    y0, x0 = int((h - side_h) * y), int((w - side_w) * x)
    return cv2.resize(photo[y0:y0 + side_h, x0:x0 + side_w], (width, height), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def small_set(tmp_path_factory: pytest.TempPathFactory, photos: dict[str, np.ndarray]) -> Path:
    """A folder of 7 JPEGs cut from scikit-image's photos (one an exact copy of another, one blurred) and
    one file that is not an image."""
    root = tmp_path_factory.mktemp("engine-set")
    views = [(name, y, x) for name in ("astronaut", "coffee", "chelsea") for y, x in ((0.0, 0.0), (1.0, 1.0))]
    for i, (name, y, x) in enumerate(views):
        rgb = crop_view(photos[name], y, x)
        if i == 3:
            rgb = cv2.GaussianBlur(rgb, (0, 0), 4)
        assert cv2.imwrite(str(root / f"{i}-{name}.jpg"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    (root / "6-copy.jpg").write_bytes((root / "0-astronaut.jpg").read_bytes())
    (root / "7-broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG")
    return root


@pytest.fixture(scope="session")
def ray_session():
    """A local Ray instance with 2 CPUs for the whole session (skipped, saying why, if Ray cannot start)."""
    from artlens.engine.ray_session import RayClusterError, RayMissingError, connect

    try:
        ray = connect(None, num_cpus=2)
    except RayMissingError as exc:
        pytest.skip(f"Ray is not installed here ({exc}); `make install` installs it")
    except RayClusterError as exc:
        pytest.skip(f"a local Ray cluster could not start: {exc}")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def ray_engine(ray_session):
    """The Ray engine with 2 actors and batches of 2 images, so both actors get work on a small set."""
    from artlens.engine.ray_engine import RayEngine

    return RayEngine(actors=2, batch_size=2)
