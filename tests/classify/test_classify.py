"""Classifier datasets (ImageFolder, CSV, errors) and linear heads on frozen features, end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from artlens.classify.data import FOLDER_HEAD, load_dataset
from artlens.classify.model import SCHEMA, load_classifier
from artlens.classify.train.heldout import fit_temperature
from artlens.classify.train.linear import fit_softmax, train_linear
from artlens.errors import ConfigError

from .conftest import CLASSES, needs_weights, write_png

# -- datasets ------------------------------------------------------------------------------------------------

def test_image_folder(folder):
    data = load_dataset(folder)
    assert data.heads == {FOLDER_HEAD: list(CLASSES)}
    assert len(data.paths) == 24 and not any(p.name.startswith(".") for p in data.paths)
    assert np.bincount(data.labels[FOLDER_HEAD]).tolist() == [8, 8, 8]
    assert all(p.parent.name == CLASSES[y] for p, y in zip(data.paths, data.labels[FOLDER_HEAD], strict=True))


def test_csv_multi_head(manifest):
    data = load_dataset(manifest)
    assert list(data.heads) == ["subject", "kind"]
    assert data.heads["kind"] == ["animal", "other"]
    assert all(p.is_file() for p in data.paths)
    kind = data.labels["kind"]
    assert (kind == -1).sum() == 1 and data.paths[int(np.flatnonzero(kind == -1)[0])].name == "coffee_0.png"
    assert (data.labels["subject"] >= 0).all()


def test_folder_errors(tmp_path, photos):
    with pytest.raises(ConfigError, match="no class folders"):
        load_dataset(tmp_path)
    write_png(tmp_path / "a" / "1.png", photos["coffee"][:40, :40])
    with pytest.raises(ConfigError, match="only one class"):
        load_dataset(tmp_path)
    (tmp_path / "b").mkdir()
    with pytest.raises(ConfigError, match=r"no images: b") as info:
        load_dataset(tmp_path)
    assert str(tmp_path) in str(info.value) and "\n" not in str(info.value)


def test_duplicate_files_refused(tmp_path, photos):
    write_png(tmp_path / "a" / "1.png", photos["coffee"][:40, :40])
    write_png(tmp_path / "b" / "2.png", photos["chelsea"][:40, :40])
    (tmp_path / "b" / "copy.png").write_bytes((tmp_path / "a" / "1.png").read_bytes())
    with pytest.raises(ConfigError, match="duplicate") as info:
        load_dataset(tmp_path)
    assert "1.png" in str(info.value) and "copy.png" in str(info.value)


def test_csv_errors(tmp_path, photos):
    write_png(tmp_path / "x.png", photos["coffee"][:40, :40])
    write_png(tmp_path / "y.png", photos["chelsea"][:40, :40])
    bad = tmp_path / "m.csv"
    bad.write_text("file,label\nx.png,a\ny.png,b\n")
    with pytest.raises(ConfigError, match="no 'path' column"):
        load_dataset(bad)
    bad.write_text("path,label\nx.png,a\ny.png,b\ngone.png,a\n")
    with pytest.raises(ConfigError, match=r"1 listed file.*gone\.png"):
        load_dataset(bad)
    bad.write_text("path,label\nx.png,a\ny.png,a\n")
    with pytest.raises(ConfigError, match="'label' has 1 class"):
        load_dataset(bad)
    bad.write_text("path,label\nx.png,a\ny.png,b\nx.png,b\n")
    with pytest.raises(ConfigError, match="duplicate"):
        load_dataset(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_dataset(tmp_path / "nope")


# -- fitting on synthetic features ---------------------------------------------------------------------------

def test_fit_softmax_and_temperature():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 3 + 50.0  # offset and scale exercise the folded standardisation
    y = np.repeat(np.arange(3), [40, 10, 10])        # imbalanced
    x = centres[y] + rng.normal(size=(60, 16))
    w, b = fit_softmax(x, y, 3)
    assert w.shape == (3, 16) and b.shape == (3,)
    assert ((x @ w.T + b).argmax(1) == y).mean() == 1.0
    w2, _ = fit_softmax(x, y, 3)
    np.testing.assert_array_equal(w, w2)  # deterministic
    # over-confident logits with some errors want T > 1; under-confident correct ones want T < 1
    noisy = np.where(rng.random(200) < 0.3, 1 - (y_ := rng.integers(0, 2, 200)), y_)
    logits = np.eye(2)[noisy] * 20.0
    assert fit_temperature(logits, y_) > 1.0
    assert fit_temperature(np.eye(2)[y_] * 0.5, y_) < 1.0


# -- end to end with the real backbone -----------------------------------------------------------------------

@needs_weights
def test_train_save_load_predict(folder, tmp_path, photos, views):
    out = tmp_path / "model"
    stages = []
    summary = train_linear(load_dataset(folder), out, epochs=100,
                           progress=lambda event: stages.append(event.stage))
    head = summary["heads"][FOLDER_HEAD]
    assert summary["n_used"] == 24 and summary["skipped"] == []
    assert head["metrics"]["n"] >= 3 and head["metrics"]["accuracy"] >= 0.8
    assert head["temperature"] > 0 and {"embed", "fit"} <= set(stages)
    config = json.loads((out / "config.json").read_text())
    assert config["schema"] == SCHEMA and config["backbone"] == "efficientnet_lite0"
    assert config["features"]["pooling"] == "multi" and config["features"]["framing"] == "auto"
    assert config["heads"][0]["classes"] == list(CLASSES)

    clf = load_classifier(out)
    probe = views(photos["chelsea"], 2, seed=99) + views(photos["astronaut"], 1, seed=98)
    preds = clf.predict(probe, top_k=3)
    assert [p["label"] for p in preds] == ["chelsea", "chelsea", "astronaut"]
    for p in preds:
        probs = [q for _, q in p["topk"]]
        assert probs == sorted(probs, reverse=True) and len(probs) == 3
        assert sum(probs) == pytest.approx(1.0, abs=1e-6) and p["score"] == probs[0]
        assert p["heads"][FOLDER_HEAD]["label"] == p["label"]

    # a tampered config is refused with a clear message
    config["feature_dim"] = 7
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="feature_dim 7"):
        load_classifier(out)
    config["schema"] = "other/1"
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="schema"):
        load_classifier(out)


@needs_weights
def test_kfold_multi_head_with_unreadable_image(manifest, tmp_path):
    data = load_dataset(manifest)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    data.paths.append(broken)
    for h in data.labels:
        data.labels[h] = np.append(data.labels[h], 0)
    summary = train_linear(data, tmp_path / "m", kfold=3, epochs=100)
    assert summary["n_used"] == 24 and [s["path"] for s in summary["skipped"]] == [str(broken)]
    subject, kind = summary["heads"]["subject"], summary["heads"]["kind"]
    assert subject["metrics"]["folds"] == 3 and len(subject["metrics"]["per_fold"]) == 3
    assert subject["metrics"]["n"] == 24  # every readable row held out once
    assert kind["n_labelled"] == 23 and subject["metrics"]["accuracy"] >= 0.8
    clf = load_classifier(tmp_path / "m")
    result = clf.predict_features(np.zeros((1, clf.config["feature_dim"]), np.float32), top_k=5)[0]
    assert set(result["heads"]) == {"subject", "kind"} and len(result["heads"]["kind"]["topk"]) == 2
    assert result["label"] == result["heads"]["subject"]["label"]
