"""Shared fixtures: tests are offline and make their own images or use scikit-image's bundled photos."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """A few of scikit-image's bundled real photos (CC0 / public domain), as RGB uint8 arrays."""
    from skimage import data

    return {
        "astronaut": data.astronaut(),
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "rocket": data.rocket(),
        "coins": np.repeat(data.coins()[..., None], 3, axis=2),
    }
