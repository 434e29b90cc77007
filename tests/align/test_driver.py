"""`artlens train align` end to end on a tiny openclipart-shaped folder (real towers)."""

from __future__ import annotations

import pytest
from PIL import Image

from artlens.align.model import load_align_model
from artlens.align.train.driver import train_align
from artlens.align.train.recipe import AlignSettings

from .conftest import COLOURS, SHAPES, draw

pytestmark = [pytest.mark.weights, pytest.mark.slow]


def test_recipe_writes_loadable_heads_and_reuses_its_cache(tmp_path):
    root = tmp_path / "data" / "openclipart/usr/share/openclipart/png"
    for f, (colour, shape) in enumerate((c, s) for c in COLOURS for s in SHAPES):
        for i in range(3):
            folder = root / ("shapes" if f % 2 else "office") / f"{shape}s"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(draw(colour, shape, seed=100 * f + i)).save(folder / f"{colour}{i}.png")
    (root / "office" / "circles" / "broken.png").write_bytes(b"not a png")
    settings = AlignSettings(epochs=2, batch_size=16, hidden=32, embed_dim=16, imagenet_weight=0.0)
    summary = train_align(tmp_path / "data", tmp_path / "heads", settings=settings)
    assert summary["epochs"] == 2 and summary["train_images"] > 0
    assert [s["path"].endswith("broken.png") for s in summary["skipped"]] == [True]
    assert (tmp_path / "data" / "align-features.npz").is_file()
    model = load_align_model(tmp_path / "heads")
    assert model.embed_texts(["a red circle"]).shape == (1, 16)
    again = train_align(tmp_path / "data", tmp_path / "heads2", settings=settings)  # cache reused
    assert again["train_images"] == summary["train_images"]
    # the recipe trains in one thread: a rerun writes the same bytes
    for name in ("model.safetensors", "config.json"):
        assert (tmp_path / "heads2" / name).read_bytes() == (tmp_path / "heads" / name).read_bytes()
