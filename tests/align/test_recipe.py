"""The recipe on a tiny synthetic pair set, with hand-made image features and a bag-of-words text tower."""

import cv2
import numpy as np
import pytest
import torch

from artlens.align.colors import colour_histogram
from artlens.align.heads import load_heads, save_heads
from artlens.align.train.recipe import AlignSettings, TrainingSet, train_heads
from artlens.errors import ConfigError, WeightsError

from .conftest import COLOURS, bag_of_words


def features(images):
    rows = []
    for im in images:
        mask = (im.min(-1) < 200).astype(np.uint8)
        hu = cv2.HuMoments(cv2.moments(mask, binaryImage=True)).ravel()
        hu = -np.sign(hu) * np.log10(np.abs(hu) + 1e-12)
        rows.append(np.concatenate([colour_histogram(im), hu, [mask.mean()]]))
    return np.asarray(rows, np.float32)


def captions(colours, shapes):
    return [[f"{c} {s}", f"a {c} {s}", f"a drawing of a {s}", f"something {c}"]
            for c, s in zip(colours, shapes, strict=True)]


@pytest.fixture(scope="module")
def trained(shapes_train, shapes_test):
    images, colours, shapes = shapes_train
    train = TrainingSet(features(images), captions(colours, shapes))
    t_images, t_colours, t_shapes = shapes_test
    val = TrainingSet(features(t_images), captions(t_colours, t_shapes))
    settings = AlignSettings(epochs=30, batch_size=32, lr=3e-3, embed_dim=32, hidden=64, imagenet_weight=0.0)
    heads, summary = train_heads(train, val, bag_of_words, settings)
    return heads, summary, val, t_colours


def test_loss_falls(trained):
    _, summary, _, _ = trained
    assert summary["best"]["val_r5"] > 0.2
    assert summary["epochs"] == 30


def test_history_loss_falls(shapes_train):
    images, colours, shapes = shapes_train
    data = TrainingSet(features(images), captions(colours, shapes))
    losses = []
    settings = AlignSettings(epochs=8, batch_size=32, lr=3e-3, embed_dim=32, hidden=64, imagenet_weight=0.0)
    train_heads(data, data, bag_of_words, settings,
                progress=lambda e: losses.append(e.metrics["loss"]) if e.stage == "epoch" else None)
    assert losses[-1] < 0.7 * losses[0]


def test_zero_shot_colour_beats_chance(trained):
    heads, _, val, colours = trained
    names = list(COLOURS)
    with torch.no_grad():
        img = heads.embed_image(torch.from_numpy(val.image))
        txt = heads.embed_text(torch.from_numpy(bag_of_words([f"something {c}" for c in names])))
    predicted = [names[i] for i in (img @ txt.T).argmax(1).tolist()]
    accuracy = np.mean([p == c for p, c in zip(predicted, colours, strict=True)])
    assert accuracy >= 2 / len(names)  # at least twice chance


def test_calibration_orders_positives_above_negatives(trained):
    heads, _, _, _ = trained
    cal = heads.config.calibration
    assert cal["a"] > 0


def test_heads_round_trip_and_damage(trained, tmp_path):
    heads, _, val, _ = trained
    save_heads(heads, tmp_path / "m")
    again = load_heads(tmp_path / "m")
    with torch.no_grad():
        x = torch.from_numpy(val.image[:3])
        # the weight matrices are stored in float16: unit vectors agree to about 1e-3
        assert torch.allclose(heads.embed_image(x), again.embed_image(x), atol=2e-3)
        assert all(v.dtype == torch.float32 for v in again.state_dict().values())
    (tmp_path / "m" / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="cannot read the alignment heads"):
        load_heads(tmp_path / "m")
    with pytest.raises(WeightsError, match="missing"):
        load_heads(tmp_path / "nothing")


def test_no_pairs_is_an_error():
    empty = TrainingSet(np.zeros((0, 4), np.float32), [])
    with pytest.raises(ConfigError, match="no training pairs"):
        train_heads(empty, empty, bag_of_words)


def test_conse_heads_store_the_class_vectors_and_calibrate_the_joint_cosine(shapes_train, tmp_path):
    images, colours, shapes = shapes_train
    feats = features(images)
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6), size=len(images)).astype(np.float32)
    data = TrainingSet(feats, captions(colours, shapes), probs)
    settings = AlignSettings(epochs=3, batch_size=32, embed_dim=8, hidden=16, imagenet_weight=0.5)
    with pytest.raises(ConfigError, match="ImageNet"):
        train_heads(data, data, bag_of_words, settings)
    names = [f"class {k}" for k in range(6)]
    heads, _ = train_heads(data, data, bag_of_words, settings, imagenet_names=names)
    assert heads.config.imagenet_weight == 0.5 and tuple(heads.imagenet_names.shape) == (6, 384)
    save_heads(heads, tmp_path / "m")
    again = load_heads(tmp_path / "m")
    assert torch.allclose(again.imagenet_names, heads.imagenet_names, atol=1e-3)
    assert again.config.imagenet_weight == 0.5
    assert again.config.zero_shot_weight == settings.zero_shot_weight == 1.0  # ConSE weighed more here


def test_calibration_with_many_negatives_keeps_most_wrong_pairs_below_one_half(trained):
    heads, _, val, _ = trained
    names = list(COLOURS)
    with torch.no_grad():
        img = heads.embed_image(torch.from_numpy(val.image))
        txt = heads.embed_text(torch.from_numpy(bag_of_words([f"something {c}" for c in names])))
    cos = (img @ txt.T).numpy()
    cal = heads.config.calibration
    prob = 1 / (1 + np.exp(-(cal["a"] * cos + cal["b"])))
    assert (prob >= 0.5).mean() < 0.5  # most colour names are wrong for an image, and score so
