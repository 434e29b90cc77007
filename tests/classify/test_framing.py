"""Framing before the centre crop: cut-outs on a plain background are padded to a square, photos are not."""

from __future__ import annotations

import json

import numpy as np
import pytest

from artlens.classify.data import load_dataset
from artlens.classify.features import embed_paths
from artlens.classify.framing import frame_image, has_plain_border, pad_to_square
from artlens.classify.model import load_classifier
from artlens.classify.train.linear import train_linear
from artlens.errors import ConfigError
from artlens.imageio import load_image

from .conftest import needs_weights, write_png


def cut_out(width: int = 300, height: int = 100, colour=(200, 30, 30), background=255) -> np.ndarray:
    """A wide object (a bar with a round end) on a plain background."""
    rgb = np.full((height, width, 3), background, np.uint8)
    rgb[30:70, 20:280] = colour
    rgb[20:80, 250:290] = (20, 20, 20)
    return rgb


def test_plain_border_tells_cut_outs_from_photos(photos) -> None:
    assert has_plain_border(cut_out())
    assert has_plain_border(cut_out(background=0))
    for name in ("astronaut", "coffee", "chelsea"):
        assert not has_plain_border(photos[name]), name
    rng = np.random.default_rng(0)
    noisy = cut_out().astype(np.int16) + rng.integers(-6, 7, (100, 300, 3))  # JPEG-like noise is tolerated
    assert has_plain_border(np.clip(noisy, 0, 255).astype(np.uint8))


def test_pad_to_square_centres_the_image_on_its_border_colour() -> None:
    wide = cut_out(background=240)
    square = pad_to_square(wide)
    assert square.shape == (300, 300, 3)
    assert np.array_equal(square[100:200], wide)
    assert (square[:100] == 240).all() and (square[200:] == 240).all()
    tall = pad_to_square(np.ascontiguousarray(wide.transpose(1, 0, 2)))
    assert tall.shape == (300, 300, 3) and np.array_equal(tall[:, 100:200], wide.transpose(1, 0, 2))
    same = np.zeros((50, 50, 3), np.uint8)
    assert pad_to_square(same) is same


def test_frame_image_by_framing(photos) -> None:
    wide, photo = cut_out(), photos["coffee"]
    assert frame_image(wide, "crop") is wide
    assert frame_image(wide, "auto").shape == (300, 300, 3)
    assert frame_image(photo, "auto") is photo  # a photograph keeps the centre crop
    assert frame_image(photo, "pad").shape[0] == frame_image(photo, "pad").shape[1] == max(photo.shape[:2])
    with pytest.raises(ConfigError, match="framing must be one of"):
        frame_image(wide, "stretch")


@pytest.fixture
def cut_outs(tmp_path):
    """Two classes of wide cut-outs on white whose difference lies at their ends (lost by a centre crop)."""
    root = tmp_path / "cut-outs"
    rng = np.random.default_rng(1)
    for k in range(8):
        for name, end in (("dark_end", (20, 20, 20)), ("blue_end", (30, 60, 230))):
            rgb = np.full((100, 320, 3), 255, np.uint8)
            body = tuple(int(v) for v in rng.integers(120, 220, 3))
            rgb[35:65, 10:310] = body
            rgb[20:80, 10:40] = end
            rgb[20:80, 280:310] = end
            if k % 2:
                rgb = np.ascontiguousarray(rgb[:, ::-1])
            write_png(root / name / f"{k}.png", rgb)
    return root


@needs_weights
@pytest.mark.weights
def test_default_training_frames_cut_outs_and_records_it(cut_outs, tmp_path) -> None:
    out = tmp_path / "model"
    train_linear(load_dataset(cut_outs), out, epochs=100, val_split=0.25)
    config = json.loads((out / "config.json").read_text())
    assert config["backbone"] == "efficientnet_lite0" and config["features"]["pooling"] == "multi"
    assert config["features"]["framing"] == "auto" and config["settings"]["framing"] == "auto"
    clf = load_classifier(out, use_onnx=False)
    assert clf.framing == "auto"
    padded = clf.preprocess([cut_out()])
    assert not np.allclose(padded.numpy(), load_crop(out, config).preprocess([cut_out()]).numpy())
    # images go through the same framing as the training features: the same probabilities either way
    path = cut_outs / "dark_end" / "0.png"
    x, _, _ = embed_paths([path], clf.backbone, pooling="multi", framing="auto", cache=False)
    from_image = clf.probabilities([load_image(path).rgb])["label"]
    assert np.allclose(from_image, clf.probabilities_from_features(x)["label"], atol=1e-4)

    config["features"]["framing"] = "zoom"
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"config\.json: framing must be one of"):
        load_classifier(out, use_onnx=False)


def load_crop(out, config):
    """The same model read as one saved before framing was recorded (it crops)."""
    del config["features"]["framing"]
    (out / "config.json").write_text(json.dumps(config))
    clf = load_classifier(out, use_onnx=False)
    assert clf.framing == "crop"
    config["features"]["framing"] = "auto"
    return clf
