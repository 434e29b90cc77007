"""Fixtures of the market tests: simulated sales (no pictures unless asked), a medium table made from a few
rows (no download), and small synthetic pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlens.market import mediums
from artlens.market.simulate import MEDIUM_EFFECTS

ROWS = [(cat.title(), desc) for desc, (cat, _) in MEDIUM_EFFECTS.items()] + [
    ("Painting", "oil on panel"),
    ("Work on Paper", "ink on paper"),
    ("Sculpture", "marble"),
    ("Print", "etching on paper"),
    ("Photograh", "c-print"),
    ("sculpture", "bronze"),
]


@pytest.fixture(autouse=True)
def small_medium_table(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> mediums.MediumTable:
    """The medium table every market test uses instead of arttactic's (which would be downloaded), except
    the tests marked ``weights``."""
    table = mediums.medium_table_from_rows(ROWS)
    if request.node.get_closest_marker("weights") is None:
        monkeypatch.setattr(mediums, "load_medium_table", lambda path=None: table)
    return table


@pytest.fixture(scope="session")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """24 small pictures: colourful full-frame scenes and sparse drawings on white."""
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(24):
        if i % 2:
            img = np.full((64, 64, 3), 255, np.uint8)
            img[20:40, 10:50] = rng.integers(0, 80, 3)
        else:
            img = (rng.random((64, 64, 3)) * rng.integers(40, 255, 3)).astype(np.uint8)
        path = folder / f"p{i:02d}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
    return paths
