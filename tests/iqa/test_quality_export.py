"""ONNX export of quality model folders: parity with PyTorch, the config record, stale exports, the CLI."""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from artlens import weights
from artlens.cli import app
from artlens.errors import ArtlensError, ConfigError
from artlens.iqa import export
from artlens.iqa.config import QualityModelConfig
from artlens.iqa.default import DEFAULT_MODEL_DIR, verify_default_model
from artlens.iqa.descriptors import DESCRIPTOR_NAMES
from artlens.iqa.export import OPSET, QUALITY_TOLERANCE, TOLERANCE, export_onnx
from artlens.iqa.heads import QualityHead
from artlens.iqa.model import QualityModel
from artlens.iqa.onnx_model import OnnxQualityModel
from artlens.models.backbones import Backbone

_REAL = weights.local_status("mobilenet_v2").state == "verified"



def _model(kind: str, backbone: Backbone) -> QualityModel:
    torch.manual_seed(3)
    if kind == "fused":
        config = QualityModelConfig(backbone="tiny", sizes=(96, 48), pooling=("mean", "std", "q90"),
                                    hidden=16, descriptors=DESCRIPTOR_NAMES,
                                    fusion=(0.1, 2.0, -0.3, 0.5, 2.0))
        descriptor_head = QualityHead(len(DESCRIPTOR_NAMES), 16).eval()
        descriptor_head.feature_mean.uniform_(-2.0, 2.0)  # NaN descriptors must read as these, not as 0
        return QualityModel(config, backbone=backbone, descriptor_head=descriptor_head)
    if kind == "stages":
        config = QualityModelConfig(backbone="tiny", sizes=(96, 48), pooling=("mean", "std", "q90"),
                                    stages=(0, 1), hidden=16, calibration=(40.0, -3.0))
        return QualityModel(config, backbone=backbone)
    if kind == "classes":
        config = QualityModelConfig(backbone="tiny", sizes=(64,), hidden=16, task="classes",
                                    classes=("bad", "ok", "good"))
        return QualityModel(config, backbone=backbone)
    config = QualityModelConfig(backbone="tiny", sizes=(96, 48), pooling=("mean", "std", "max", "q90"),
                                hidden=16, calibration=(40.0, -3.0))  # steep: quality differences magnified
    return QualityModel(config, backbone=backbone)


def _images(photos) -> list[np.ndarray]:
    flat = np.full((120, 160, 3), 128, np.uint8)  # NaN descriptors
    return [photos["astronaut"], photos["coffee"], photos["coins"][..., 0], flat, photos["rocket"]]


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", ["plain", "fused", "classes", "stages"])
def test_export_agrees_with_pytorch(kind, tiny_backbone, photos, tmp_path):
    model = _model(kind, tiny_backbone)
    folder = model.save(tmp_path / kind)
    result = export_onnx(folder, backbone=tiny_backbone)
    assert result["path"] == str(folder / "model.onnx") and (folder / "model.onnx").is_file()
    diff = result["max_abs_diff"]
    assert diff["raw"] <= TOLERANCE and diff["quality"] <= QUALITY_TOLERANCE
    scales = ["scale_0", "scale_1"][:len(model.config.sizes)]
    assert result["inputs"] == scales + (["descriptors"] if kind == "fused" else [])
    record = json.loads((folder / "config.json").read_text())["onnx"]
    assert record["opset"] == OPSET and record["weights_sha256"] == _sha(folder / "model.safetensors")
    assert record["inputs"] == result["inputs"] and record["outputs"] == ["raw", "quality"]
    loaded = QualityModel.load(folder, backbone=tiny_backbone)  # the record is a known key
    assert loaded.config == model.config and loaded.config.onnx == record

    runtime = OnnxQualityModel(folder)
    images = _images(photos)
    descriptors = model.describe(images)
    raw = model.raw_scores(model.embed(images), descriptors)
    got = runtime.raw_scores(images, descriptors=descriptors)
    assert got.shape == raw.shape and np.abs(got - raw).max() <= TOLERANCE
    np.testing.assert_allclose(runtime.score(images), model.score(images), atol=QUALITY_TOLERANCE)
    assert runtime.score(images).std() > 0  # not a constant graph
    # images of one padded shape run as a batch; the result does not depend on it
    pair = [photos["astronaut"], photos["astronaut"][::-1].copy()]
    np.testing.assert_allclose(runtime.score(pair, batch_size=2), runtime.score(pair), atol=1e-5)


def test_fine_tuned_backbone_is_part_of_the_export(tiny_backbone, photos, tmp_path):
    tuned = copy.deepcopy(tiny_backbone)
    with torch.no_grad():
        tuned.trunk[2].weight.mul_(1.5).add_(0.05)
    model = _model("classes", tuned)
    model.backbone_keys = ("2.bias", "2.weight")
    folder = model.save(tmp_path / "tuned")
    export_onnx(folder, backbone=tiny_backbone)  # load applies the stored tensors to a copy
    images = _images(photos)
    got = OnnxQualityModel(folder).raw_scores(images)
    assert np.abs(got - model.raw_scores(model.embed(images))).max() <= TOLERANCE
    untuned = QualityModel(model.config, model.head, tiny_backbone)
    assert np.abs(got - untuned.raw_scores(untuned.embed(images))).max() > 100 * TOLERANCE


def test_stale_export_is_refused_and_re_exported(tiny_backbone, photos, tmp_path):
    folder = _model("plain", tiny_backbone).save(tmp_path / "m")
    export_onnx(folder, backbone=tiny_backbone)
    tensors = load_file(folder / "model.safetensors")
    tensors["net.3.bias"] += 0.5
    save_file(tensors, folder / "model.safetensors")
    with pytest.raises(ConfigError, match="export again"):
        OnnxQualityModel(folder)
    export_onnx(folder, backbone=tiny_backbone)
    changed = QualityModel.load(folder, backbone=tiny_backbone)
    np.testing.assert_allclose(OnnxQualityModel(folder).score([photos["coffee"]]),
                               changed.score([photos["coffee"]]), atol=QUALITY_TOLERANCE)
    # a recalibrated config is stale too: the calibration is inside the graph
    data = json.loads((folder / "config.json").read_text())
    data["calibration"] = [1.0, 0.0]
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="export again"):
        OnnxQualityModel(folder)
    # saving a model into the folder drops the export and its record
    changed.save(folder)
    assert not (folder / "model.onnx").exists()
    assert "onnx" not in json.loads((folder / "config.json").read_text())
    with pytest.raises(ConfigError, match="no ONNX export"):
        OnnxQualityModel(folder)


def test_a_mismatching_export_is_not_kept(tiny_backbone, tmp_path, monkeypatch):
    folder = _model("fused", tiny_backbone).save(tmp_path / "m")
    before = (folder / "config.json").read_text()
    monkeypatch.setattr(export, "TOLERANCE", -1.0)  # no difference passes
    with pytest.raises(ArtlensError, match="differs from PyTorch"):
        export_onnx(folder, backbone=tiny_backbone)
    assert not (folder / "model.onnx").exists() and (folder / "config.json").read_text() == before


def test_config_record_round_trips_and_is_omitted_when_empty():
    shipped = json.loads((DEFAULT_MODEL_DIR / "config.json").read_text())
    assert QualityModelConfig.from_dict(shipped).to_dict() == shipped
    record = {"opset": OPSET, "weights_sha256": "0" * 64}
    config = QualityModelConfig.from_dict({**shipped, "onnx": record})
    assert config.onnx == record and config.to_dict()["onnx"] == record
    with pytest.raises(ConfigError, match="onnx"):
        QualityModelConfig.from_dict({**shipped, "onnx": "model.onnx"})


def test_cli_exports_a_quality_folder(tiny_backbone, tmp_path, monkeypatch):
    monkeypatch.setattr("artlens.iqa.model.get_backbone", lambda name, device=None: tiny_backbone)
    folder = _model("fused", tiny_backbone).save(tmp_path / "m")
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(folder), "--onnx", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["path"] == str(folder / "model.onnx")
    copy_dir = tmp_path / "copy"
    result = runner.invoke(app, ["export", str(folder), "--onnx", "--out", str(copy_dir)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in copy_dir.iterdir()) == ["config.json", "model.onnx", "model.safetensors"]
    assert OnnxQualityModel(copy_dir).config.descriptors == DESCRIPTOR_NAMES
    assert runner.invoke(app, ["export", str(folder)]).exit_code == 2  # no format chosen
    (tmp_path / "other" / "x.txt").parent.mkdir()
    (tmp_path / "other" / "x.txt").write_text("keep")
    busy = runner.invoke(app, ["export", str(folder), "--onnx", "--out", str(tmp_path / "other")])
    assert isinstance(busy.exception, ConfigError) and "other files" in str(busy.exception)
    classifier = runner.invoke(app, ["export", str(tmp_path / "nothing"), "--onnx", "--out", str(copy_dir)])
    assert classifier.exit_code == 2 and "--out applies to quality models" in classifier.output


def test_shipped_folder_is_never_written(tmp_path):
    before = {p.name: _sha(p) for p in DEFAULT_MODEL_DIR.iterdir()}
    result = CliRunner().invoke(app, ["export", str(DEFAULT_MODEL_DIR), "--onnx"])
    assert isinstance(result.exception, ConfigError) and "--out" in str(result.exception)
    with pytest.raises(ConfigError, match="shipped"):
        export_onnx(tmp_path / "m", out=DEFAULT_MODEL_DIR)
    with pytest.raises(ConfigError, match="shipped"):
        export_onnx(DEFAULT_MODEL_DIR, out=DEFAULT_MODEL_DIR / ".." / DEFAULT_MODEL_DIR.name)
    assert {p.name: _sha(p) for p in DEFAULT_MODEL_DIR.iterdir()} == before
    verify_default_model()


@pytest.mark.weights
@pytest.mark.slow
@pytest.mark.skipif(not _REAL, reason="mobilenet_v2 weights not verified in the local cache")
def test_shipped_model_exports_into_a_copy(photos, tmp_path):
    before = {p.name: _sha(p) for p in DEFAULT_MODEL_DIR.iterdir()}
    result = export_onnx(DEFAULT_MODEL_DIR, out=tmp_path / "shipped")
    assert result["inputs"] == ["scale_0", "scale_1", "descriptors"]
    assert result["max_abs_diff"]["raw"] <= TOLERANCE
    assert {p.name: _sha(p) for p in DEFAULT_MODEL_DIR.iterdir()} == before
    assert _sha(tmp_path / "shipped" / "model.safetensors") == before["model.safetensors"]
    images = [photos["chelsea"], photos["coffee"]]
    np.testing.assert_allclose(OnnxQualityModel(tmp_path / "shipped").score(images),
                               QualityModel.load(DEFAULT_MODEL_DIR).score(images), atol=QUALITY_TOLERANCE)
