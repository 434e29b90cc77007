"""A trained classifier end to end: ONNX export and parity, predictions report, evaluation, Grad-CAM, CLI."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
from safetensors.torch import load_file, save_file

from artlens.classify.data import load_dataset
from artlens.classify.evaluate import evaluate_classifier
from artlens.classify.explain import crop_box, grad_cam, write_grad_cam
from artlens.classify.export import TOLERANCE, export_onnx, onnx_parity
from artlens.classify.model import load_classifier
from artlens.classify.predict import classify_paths, load_report_schema, write_csv
from artlens.classify.train.linear import train_linear
from artlens.errors import ConfigError

from .conftest import CLASSES, needs_weights, write_png

pytestmark = needs_weights


def artlens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "artlens", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=300, check=False)


@pytest.fixture(scope="module")
def model_dir(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m"
    train_linear(load_dataset(folder), out, epochs=100)
    return out


def test_onnx_export_agrees_with_pytorch(model_dir, tmp_path, folder):
    copy = tmp_path / "m"
    shutil.copytree(model_dir, copy)
    result = export_onnx(copy)
    assert Path(result["path"]).is_file() and result["max_abs_diff"] <= TOLERANCE
    assert onnx_parity(copy, n=3, seed=1) <= TOLERANCE
    fast, slow = load_classifier(copy), load_classifier(copy, use_onnx=False)
    assert fast.onnx is not None and slow.onnx is None
    files = sorted((folder / "chelsea").glob("*.png"))[:3]
    rgbs = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]
    p_fast, p_slow = fast.probabilities(rgbs), slow.probabilities(rgbs)
    np.testing.assert_allclose(p_fast["label"], p_slow["label"], atol=1e-5)

    # retraining into the folder removes the stale export; a tampered weights file disables a kept one
    config = json.loads((copy / "config.json").read_text())
    tensors = load_file(copy / "model.safetensors")
    tensors["heads.0.bias"] += 0.5
    save_file(tensors, copy / "model.safetensors")
    assert load_classifier(copy).onnx is None
    with pytest.raises(ConfigError, match="other weights"):
        load_classifier(copy, use_onnx=True)
    train_linear(load_dataset(folder), copy, epochs=20)
    assert not (copy / "model.onnx").exists() and "onnx" not in json.loads((copy / "config.json").read_text())
    assert config["onnx"]["opset"] == result["opset"]


def test_mismatched_folder_is_refused(model_dir, tmp_path):
    copy = tmp_path / "m"
    shutil.copytree(model_dir, copy)
    config = json.loads((copy / "config.json").read_text())
    config["preprocessing"]["input_size"] = 299
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="preprocessing input_size"):
        load_classifier(copy)
    config["preprocessing"]["input_size"] = 224
    config["mode"] = "finetune"
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="must hold its trunk"):
        load_classifier(copy)
    (copy / "model.safetensors").unlink()
    with pytest.raises(ConfigError, match="not a classifier folder"):
        load_classifier(copy)


def test_classify_report_validates_and_lists_bad_files(model_dir, folder, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    report = classify_paths(load_classifier(model_dir), [folder / "coffee", bad, tmp_path / "gone.png"],
                            top_k=2)
    jsonschema.validate(report, load_report_schema())
    assert [Path(im["path"]).parent.name for im in report["images"]] == ["coffee"] * 8
    assert {Path(e["path"]).name for e in report["errors"]} == {"broken.jpg", "gone.png"}
    assert all(len(im["topk"]) == 2 for im in report["images"])
    assert sum(im["label"] == "coffee" for im in report["images"]) >= 7
    rows = list(csv.reader(write_csv(report, tmp_path / "p.csv").open()))
    assert rows[0] == ["path", "label", "score", "topk", "unknown"] and len(rows) == 9
    assert [r[4] for r in rows[1:]] == ["true" if im["unknown"] else "false" for im in report["images"]]


def test_out_of_domain_images_are_unknown(model_dir, folder, tmp_path, photos, views):
    """The threshold chosen on the held-out split keeps the trained classes and turns away the rest."""
    clf = load_classifier(model_dir)
    (head,) = clf.config["heads"]
    threshold = head["domain_min"]
    probe = tmp_path / "probe"
    for i, rgb in enumerate(views(photos["chelsea"], 3, seed=77) + views(photos["coffee"], 3, seed=78)):
        write_png(probe / f"known{i}.png", rgb)
    rng = np.random.default_rng(0)
    write_png(probe / "noise.png", rng.integers(0, 256, (96, 96, 3), dtype=np.uint8))
    write_png(probe / "grey.png", np.full((96, 96, 3), 128, np.uint8))
    write_png(probe / "rocket.png", cv2.resize(photos["rocket"], (96, 96), interpolation=cv2.INTER_AREA))
    report = classify_paths(clf, [probe])
    jsonschema.validate(report, load_report_schema())
    assert report["model"]["unknown"] == {"domain_min": {head["name"]: threshold}}
    by_name = {Path(im["path"]).stem: im for im in report["images"]}
    seen = {name: (round(im["domain_score"], 2), round(im["score"], 3)) for name, im in by_name.items()}
    assert not any(by_name[f"known{i}"]["unknown"] for i in range(6)), (threshold, seen)
    assert all(by_name[name]["unknown"] for name in ("noise", "grey", "rocket")), (threshold, seen)
    for im in report["images"]:  # a class is still given, and the flag follows the threshold
        assert im["label"] in CLASSES and im["unknown"] == (im["domain_score"] < threshold)
        assert im["heads"][head["name"]]["unknown"] == im["unknown"]

    # --min-score adds a floor on the calibrated probability; without the domain check only it applies
    strict = classify_paths(clf, [probe], min_score=0.999999, domain_check=False)
    assert strict["model"]["unknown"] == {"min_score": 0.999999}
    assert [im["unknown"] for im in strict["images"]] == [im["score"] < 0.999999 for im in strict["images"]]
    off = classify_paths(clf, [probe], domain_check=False)
    assert all("unknown" not in im for im in off["images"]) and "unknown" not in off["model"]
    jsonschema.validate(off, load_report_schema())
    with pytest.raises(ConfigError, match="min-score"):
        classify_paths(clf, [probe], min_score=1.5)


def test_evaluate_writes_confusion_and_misclassified(model_dir, folder, tmp_path, photos):
    clf = load_classifier(model_dir)
    result = evaluate_classifier(clf, load_dataset(folder), out_dir=tmp_path / "ev")
    m = result["heads"]["label"]
    assert result["n"] == 24 and m["accuracy"] >= 0.9 and set(m["per_class"]) == set(CLASSES)
    assert np.asarray(m["confusion_matrix"]).sum() == 24
    assert Path(result["files"]["confusion"]["label"]).stat().st_size > 1000
    page = Path(result["files"]["misclassified_html"]).read_text()
    assert page.count('class="card"') == len(result["misclassified"])

    # a set whose labels are swapped gets everything wrong, and the page lists every image
    swapped = tmp_path / "swapped"
    for src, dst in (("chelsea", "coffee"), ("coffee", "chelsea")):
        for f in sorted((folder / src).glob("[0-3].png")):
            (swapped / dst).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, swapped / dst / f.name)
    result = evaluate_classifier(clf, load_dataset(swapped), out_dir=tmp_path / "ev2")
    assert result["heads"]["label"]["accuracy"] <= 0.25 and len(result["misclassified"]) >= 6
    assert "data:image/jpeg;base64," in Path(result["files"]["misclassified_html"]).read_text()

    unknown = tmp_path / "unknown"
    write_png(unknown / "rocket" / "1.png", photos["rocket"][:64, :64])
    write_png(unknown / "coffee" / "1.png", photos["coffee"][:64, :64])
    with pytest.raises(ConfigError, match="rocket"):
        evaluate_classifier(clf, load_dataset(unknown))


def test_grad_cam_points_at_the_evidence(model_dir, photos, tmp_path):
    """Left half a cat, right half coffee: each class's map weighs more on its own half."""
    half = 128
    cat = cv2.resize(photos["chelsea"][:, 60:360], (half, 2 * half), interpolation=cv2.INTER_AREA)
    cup = cv2.resize(photos["coffee"][:, 100:400], (half, 2 * half), interpolation=cv2.INTER_AREA)
    both = np.ascontiguousarray(np.concatenate([cat, cup], axis=1))
    clf = load_classifier(model_dir)
    for name, side in (("chelsea", 0), ("coffee", 1)):
        cam, label, prob = grad_cam(clf, both, class_name=name)
        assert label == name and 0.0 <= prob <= 1.0 and cam.shape == (224, 224)
        left, right = cam[:, :112].sum(), cam[:, 112:].sum()
        assert (left, right)[side] > 1.5 * (left, right)[1 - side], (name, left, right)
    record = write_grad_cam(clf, both, tmp_path / "cam" / "x.png")
    assert record["crop"] == list(crop_box(256, 256, 256, 224)) == [16, 16, 240, 240]
    assert cv2.imread(record["path"]).shape == (256, 256, 3)


def test_cli_train_classify_export_evaluate(folder, tmp_path):
    out = tmp_path / "cli-model"
    train = artlens("train", "classify", str(folder), "--out", str(out), "--epochs", "50", "-q", "--json")
    assert train.returncode == 0, train.stderr
    assert json.loads(train.stdout)["heads"]["label"]["metrics"]["accuracy"] >= 0.8
    assert artlens("export", str(out), "--onnx").returncode == 0 and (out / "model.onnx").is_file()
    bad = tmp_path / "bad.png"
    bad.write_text("no")
    pred = artlens("classify", str(out), str(folder / "chelsea" / "0.png"), str(bad), "--quiet",
                   "--explain", str(tmp_path / "cams"), "--min-score", "0.5", "--json")
    assert pred.returncode == 1 and pred.stderr.count("bad.png") == 1
    report = json.loads(pred.stdout)
    assert report["model"]["runtime"] == "onnxruntime" and report["images"][0]["label"] == "chelsea"
    assert report["model"]["unknown"]["min_score"] == 0.5 and report["images"][0]["unknown"] is False
    assert Path(report["images"][0]["explanation"]["path"]).is_file()
    ev = artlens("evaluate", str(out), str(folder), "--json", "--out", str(tmp_path / "ev"))
    assert ev.returncode == 0 and json.loads(ev.stdout)["heads"]["label"]["accuracy"] >= 0.9
    wrong = artlens("evaluate", str(out))
    assert wrong.returncode == 2 and "labelled data" in wrong.stderr
