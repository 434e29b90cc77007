"""Training and evaluating a quality model on a user's own labels (CSV of paths with labels or scores)."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens import weights
from artlens.errors import ConfigError
from artlens.iqa.config import QualityModelConfig
from artlens.iqa.model import QualityModel
from artlens.iqa.train.labels import LabelSet, evaluate_model, read_labels, train_from_labels

from ..conftest import degrade

_REAL = weights.local_status("mobilenet_v2").state == "verified"
needs_weights = pytest.mark.skipif(not _REAL, reason="mobilenet_v2 weights not verified in the local cache")

_SIDE = 128
_SMALL = QualityModelConfig(sizes=(_SIDE,), hidden=32)  # one small scale keeps the tests quick


def _write_csv(path, header, rows):
    path.write_text("\n".join([",".join(header), *(",".join(map(str, r)) for r in rows)]) + "\n")
    return path


def _crops(photos, n: int, seed: int) -> list[np.ndarray]:
    """``n`` sharp square crops from scikit-image photos, downscaled to ``_SIDE`` px."""
    from skimage import data

    sources = [photos["astronaut"], photos["coffee"], photos["chelsea"], photos["rocket"],
               data.immunohistochemistry(), np.repeat(data.brick()[..., None], 3, axis=2)]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = sources[i % len(sources)]
        side = int(rng.integers(180, min(img.shape[:2]) + 1))
        top, left = (int(rng.integers(0, d - side + 1)) for d in img.shape[:2])
        crop = img[top:top + side, left:left + side]
        out.append(cv2.resize(crop, (_SIDE, _SIDE), interpolation=cv2.INTER_AREA))
    return out


@pytest.fixture(scope="module")
def labelled(photos, tmp_path_factory):
    """24 images: 12 sharp crops labelled good, 12 other crops blurred and noisy labelled bad."""
    root = tmp_path_factory.mktemp("labelled")
    (root / "img").mkdir()
    rng = np.random.default_rng(0)
    rows, scores = [], []
    for i, crop in enumerate(_crops(photos, 24, seed=1)):
        amount = 0.0 if i % 2 == 0 else 0.6 + 0.4 * rng.random()
        name = f"img/{i:02d}.png"
        Image.fromarray(degrade(crop, amount, rng)).save(root / name)
        rows.append((name, "bad" if amount else "good"))
        scores.append((name, f"{5 - 4 * amount:.2f}"))
    return {"root": root, "labels": _write_csv(root / "labels.csv", ["path", "label"], rows),
            "scores": _write_csv(root / "scores.csv", ["path", "score"], scores)}


# -- reading label files -----------------------------------------------------------------------------------

def _images(tmp_path, n=4):
    for i in range(n):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    return [f"{i}.png" for i in range(n)]


def test_read_labels_orders_classes_and_resolves_paths(tmp_path):
    names = _images(tmp_path)
    ls = read_labels(_write_csv(tmp_path / "a.csv", ["path", "label"],
                                zip(names, ["Good", "bad", "good", "BAD"], strict=True)))
    assert ls.task == "classes" and ls.classes == ("bad", "good")
    assert ls.targets.tolist() == [1, 0, 1, 0]
    assert all(p.is_absolute() and p.is_file() for p in ls.paths)
    ints = read_labels(_write_csv(tmp_path / "b.csv", ["Path", "Label"],
                                  zip(names, ["10", "9", "2", "10"], strict=True)))
    assert ints.classes == ("2", "9", "10") and ints.targets.tolist() == [2, 1, 0, 2]
    alpha = read_labels(_write_csv(tmp_path / "c.csv", ["path", "label"],
                                   zip(names, ["ok", "blurry", "ok", "dark"], strict=True)))
    assert alpha.classes == ("blurry", "dark", "ok")
    given = read_labels(tmp_path / "c.csv", class_order=["dark", "blurry", "ok"])
    assert given.targets.tolist() == [2, 1, 2, 0]
    scores = read_labels(_write_csv(tmp_path / "d.csv", ["path", "score"],
                                    zip(names, [1, 2.5, 3, "4e0"], strict=True)))
    assert scores.task == "score" and scores.targets.tolist() == [1.0, 2.5, 3.0, 4.0]
    assert scores.strata(bins=2).tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize(("header", "values", "message"), [
    (["file", "label"], ["good", "bad", "good", "bad"], "no 'path' column"),
    (["path", "quality"], ["good", "bad", "good", "bad"], "neither"),
    (["path", "label", "score"], ["good,1", "bad,2", "good,3", "bad,4"], "both"),
    (["path", "label"], ["good"] * 4, "at least two classes"),
    (["path", "score"], ["1", "2", "three", "4"], "not a number"),
    (["path", "score"], ["1", "2", "nan", "4"], "not a finite number"),
])
def test_bad_label_files_give_one_clear_line(tmp_path, header, values, message):
    names = _images(tmp_path)
    path = _write_csv(tmp_path / "bad.csv", header, zip(names, values, strict=True))
    with pytest.raises(ConfigError, match=message) as info:
        read_labels(path)
    assert "\n" not in str(info.value) and "bad.csv" in str(info.value)


def test_missing_images_empty_and_short_files(tmp_path):
    names = _images(tmp_path)
    rows = list(zip([*names, "gone1.png", "sub/gone2.jpg"], ["good", "bad"] * 3, strict=True))
    with pytest.raises(ConfigError, match=r"2 image file\(s\) not found: .*gone1\.png, .*gone2\.jpg"):
        read_labels(_write_csv(tmp_path / "m.csv", ["path", "label"], rows))
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(ConfigError, match="empty"):
        read_labels(tmp_path / "e.csv")
    with pytest.raises(ConfigError, match="at least 4"):
        read_labels(_write_csv(tmp_path / "s.csv", ["path", "label"],
                               [(names[0], "good"), (names[1], "bad")]))
    with pytest.raises(ConfigError, match="not found"):
        read_labels(tmp_path / "nothing.csv")
    with pytest.raises(ConfigError, match="not among the classes"):
        read_labels(_write_csv(tmp_path / "o.csv", ["path", "label"],
                               zip(names, ["good", "bad", "meh", "bad"], strict=True)),
                    class_order=["bad", "good"])


# -- training ----------------------------------------------------------------------------------------------

@needs_weights
@pytest.mark.weights
def test_frozen_classes_train_evaluate_save_reload(labelled, tmp_path):
    out = tmp_path / "model"
    summary = train_from_labels(labelled["labels"], out, config=_SMALL, epochs=100, val_split=0.25)
    assert summary["task"] == "classes" and summary["classes"] == ["bad", "good"]
    assert summary["n_used"] == 24 and summary["skipped"] == []
    ev = summary["evaluation"]
    # sharp crops 12 and 18 overlap (perceptual hashes 2 bits apart): one picture, kept on one side
    assert ev["method"] == "holdout" and ev["pictures"] == 23 and ev["n_test"] in (6, 7)
    assert ev["metrics"]["accuracy"] > 0.5  # chance is 0.5
    assert json.loads((out / "metrics.json").read_text())["classes"] == ["bad", "good"]

    model = QualityModel.load(out)
    assert model.config.task == "classes" and model.config.classes == ("bad", "good")
    ls = read_labels(labelled["labels"])
    images = [np.asarray(Image.open(p)) for p in ls.paths]
    scores = model.score(images)
    assert np.all((scores >= 0) & (scores <= 100))
    assert scores[ls.targets == 1].mean() > scores[ls.targets == 0].mean() + 20
    proba = model.predict_proba(images)
    assert proba.shape == (24, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(scores, 100 * proba[:, 1], rtol=1e-6, atol=1e-6)

    report = evaluate_model(out, labelled["labels"], confusion_png=tmp_path / "cm.png")
    m = report["metrics"]
    assert m["accuracy"] > 0.9 and m["roc_auc"] > 0.9  # its own training set
    assert sum(map(sum, m["confusion_matrix"])) == 24 and len(report["predictions"]) == 24
    with Image.open(report["confusion_png"]) as im:
        assert im.format == "PNG"


@needs_weights
@pytest.mark.weights
def test_frozen_scores_and_kfold(labelled, tmp_path):
    events = []
    summary = train_from_labels(labelled["scores"], tmp_path / "s", config=_SMALL, epochs=100, kfold=3,
                                progress=events.append)
    # every stage's bar ends full: the folds count up from 0 and the final fit closes at 1/1
    last = {e.stage: (e.done, e.total) for e in events}
    assert last["fold"] == (3, 3) and last["final"] == (1, 1)
    assert next((e.done, e.total) for e in events if e.stage == "fold") == (0, 3)
    ev = summary["evaluation"]
    assert summary["task"] == "score" and ev["method"] == "kfold" and len(ev["folds"]) == 3
    assert sum(f["n"] for f in ev["folds"]) == 24
    assert ev["pooled"]["srcc"] > 0.5 and ev["mean"]["srcc"] > 0.5
    model = QualityModel.load(tmp_path / "s")
    assert model.config.task == "score" and "task" not in json.loads((tmp_path / "s/config.json").read_text())
    report = evaluate_model(tmp_path / "s", labelled["scores"])
    assert report["metrics"]["srcc"] > 0.8 and report["metrics"]["rmse"] < 1.5  # labels span 1-5

    classes = train_from_labels(labelled["labels"], tmp_path / "c", config=_SMALL, epochs=60, kfold=3)
    folds = classes["evaluation"]["folds"]
    assert len(folds) == 3 and all(f["per_class"]["good"]["support"] == 4 for f in folds)
    assert classes["evaluation"]["mean"]["accuracy"] > 0.5


@needs_weights
@pytest.mark.weights
def test_default_embedding_is_the_multi_level_one_and_fine_tunes_up_to_its_deepest_block(labelled, tmp_path):
    from artlens.models.backbones import MULTI_LEVEL_STAGES

    ls = read_labels(labelled["labels"])
    summary = train_from_labels(ls, tmp_path / "frozen", epochs=60, kfold=3)
    model = QualityModel.load(tmp_path / "frozen")
    assert model.config.stages == MULTI_LEVEL_STAGES["mobilenet_v2"]
    assert model.config.pooling == ("mean", "std")
    assert summary["evaluation"]["mean"]["accuracy"] > 0.5  # chance is 0.5

    out = tmp_path / "ft"
    train_from_labels(ls.subset(range(8)), out, finetune=True, epochs=1, val_split=0, finetune_blocks=2)
    from safetensors.torch import load_file

    tuned = {k.split(".")[1] for k in load_file(str(out / "model.safetensors")) if k.startswith("backbone.")}
    assert tuned == {"16", "17"}  # block 18, after the deepest stage, never runs
    tuned_model = QualityModel.load(out)
    assert tuned_model.config.stages == MULTI_LEVEL_STAGES["mobilenet_v2"] and tuned_model.backbone_keys
    images = [np.asarray(Image.open(p)) for p in ls.paths[:2]]
    fresh = QualityModel(replace(tuned_model.config, notes={}))  # the pretrained trunk, same embedding
    features, pretrained = tuned_model.embed(images).numpy(), fresh.embed(images).numpy()
    assert not np.allclose(features, pretrained)
    # blocks 16 and 17 feed only the last two stages: the four shallower ones are unchanged
    shallow = sum(fresh.stage_maps.channels[:4]) * len(fresh.config.pooling)
    np.testing.assert_allclose(features[:, :shallow], pretrained[:, :shallow], rtol=1e-4, atol=1e-5)


@needs_weights
@pytest.mark.weights
def test_finetune_one_epoch_saves_backbone_and_reloads(labelled, tmp_path):
    ls = read_labels(labelled["labels"]).subset(range(8))
    assert isinstance(ls, LabelSet)
    out = tmp_path / "ft"
    summary = train_from_labels(ls, out, finetune=True, epochs=1, val_split=0, finetune_blocks=2,
                                config=_SMALL)
    assert summary["settings"]["finetune"] and summary["evaluation"]["method"] == "none"
    from safetensors.torch import load_file

    keys = load_file(str(out / "model.safetensors"))
    tuned = [k for k in keys if k.startswith("backbone.")]
    assert tuned and all(k.startswith("backbone.17.") or k.startswith("backbone.18.") for k in tuned)
    model = QualityModel.load(out)
    assert model.backbone_keys
    images = [np.asarray(Image.open(p)) for p in ls.paths]
    fresh = QualityModel(QualityModelConfig(sizes=(_SIDE,), hidden=32, task="classes",
                                            classes=("bad", "good")))
    # the fine-tuned trunk differs from the shared pretrained one, which stays untouched
    assert not np.allclose(model.embed(images[:2]).numpy(), fresh.embed(images[:2]).numpy())
    again = QualityModel.load(out)
    np.testing.assert_allclose(again.score(images), model.score(images), rtol=1e-5, atol=1e-4)


def test_training_rejects_bad_settings(tmp_path):
    names = _images(tmp_path)
    path = _write_csv(tmp_path / "a.csv", ["path", "label"], zip(names, ["good", "bad"] * 2, strict=True))
    with pytest.raises(ConfigError, match="kfold"):
        train_from_labels(path, tmp_path / "m", kfold=1)


# -- native views and the chance warning ---------------------------------------------------------------------

def test_chance_warnings_compare_with_the_majority_class_a_coin_toss_and_zero():
    from artlens.iqa.train.labels import chance_warnings

    per_class = {"bad": {"support": 6}, "good": {"support": 4}}
    pooled = {"per_class": per_class}
    below = {"method": "kfold", "mean": {"accuracy": 0.6, "roc_auc": 0.5}, "pooled": pooled}
    warnings = chance_warnings(below, "classes", ("bad", "good"))
    assert len(warnings) == 2
    assert warnings[0].startswith("k-fold accuracy 0.60 is no better than always answering 'bad' (0.60)")
    assert "ROC-AUC 0.50" in warnings[1]
    above = {"method": "holdout", "metrics": {"accuracy": 0.8, "roc_auc": 0.9, "per_class": per_class}}
    assert chance_warnings(above, "classes", ("bad", "good")) == []
    scores = {"method": "kfold", "mean": {"srcc": -0.1}, "pooled": {}}
    assert "Spearman correlation -0.10" in chance_warnings(scores, "score", ())[0]
    assert chance_warnings({"method": "kfold", "mean": {"srcc": 0.3}, "pooled": {}}, "score", ()) == []
    assert chance_warnings({"method": "none"}, "classes", ("bad", "good")) == []


@needs_weights
@pytest.mark.weights
def test_labels_that_carry_no_information_train_with_a_warning(photos, tmp_path):
    """Every image twice, once 'good' and once 'bad': nothing can be learned, and the summary says so."""
    rows = []
    for i, crop in enumerate(_crops(photos, 8, seed=3)):
        for label in ("good", "bad"):
            name = f"{i}-{label}.png"
            Image.fromarray(crop).save(tmp_path / name)
            rows.append((name, label))
    summary = train_from_labels(_write_csv(tmp_path / "l.csv", ["path", "label"], rows), tmp_path / "m",
                                config=_SMALL, epochs=60, kfold=4)
    assert summary["evaluation"]["mean"]["accuracy"] <= 0.5
    assert any(w.startswith("k-fold accuracy") and "no better than always answering" in w
               for w in summary["warnings"])
    assert json.loads((tmp_path / "m/metrics.json").read_text())["warnings"] == summary["warnings"]


def _large(photo: np.ndarray, seed: int, size: tuple[int, int] = (2000, 1000)) -> np.ndarray:
    """A photo enlarged to ``size`` with fine grain of its own: detail that shows only at full size."""
    big = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    grain = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, big.shape[:2]).astype(np.float32),
                             (0, 0), 0.7)
    return np.clip(big + 60 * grain[..., None], 0, 255).astype(np.uint8)


@needs_weights
@pytest.mark.weights
def test_native_blur_of_large_photos_is_learned_from_native_tiles(photos, tmp_path):
    """8 sharp 2000 x 1000 photos (good) and the same blurred at full size, sigma 3 (bad): shrunk to the
    model's 224 px view the two look alike, so only the native tiles can tell them apart."""
    from skimage import data

    sources = [photos["astronaut"], photos["coffee"], photos["chelsea"], photos["rocket"],
               data.immunohistochemistry(), data.hubble_deep_field(), data.colorwheel()[..., :3],
               np.repeat(data.camera()[..., None], 3, axis=2)]
    rows = []
    for i, photo in enumerate(sources):
        sharp = _large(photo, seed=i)
        for label, image in (("good", sharp), ("bad", cv2.GaussianBlur(sharp, (0, 0), 3))):
            name = f"{i}-{label}.jpg"
            cv2.imwrite(str(tmp_path / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            rows.append((name, label))
    labels = _write_csv(tmp_path / "l.csv", ["path", "label"], rows)
    config = QualityModelConfig(sizes=(224,), hidden=32)  # tiles of 448 px seen at 224: still 2x sharper
    summary = train_from_labels(labels, tmp_path / "m", config=config, epochs=60, kfold=4)
    assert summary["views"] == {"images_with_tiles": 16, "tiles": 16, "total": 32}  # 1 tile up to 2 MP
    ev = summary["evaluation"]
    assert ev["pictures"] == 8  # a photo and its blurred copy are one picture, in one fold
    assert ev["mean"]["roc_auc"] >= 0.8 and ev["mean"]["accuracy"] > 0.7, ev["mean"]
    assert summary["warnings"] == []
