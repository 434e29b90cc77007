"""Code paths that run on CUDA when it is present: models stay on their device and give the CPU's results.

CI has no GPU, so the ``cuda`` cases skip there; they need no weight file (tiny random networks wrapped in
the real :class:`~artlens.models.backbones.Backbone`), so any CUDA host runs them. The ``cpu`` cases run the
same
assertions everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from artlens.classify.model import Classifier, ClassifierNet
from artlens.models.backbones import Backbone, BackboneSpec

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=needs_cuda)]


def _tiny_backbone(device: str) -> Backbone:
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU())
    spec = BackboneSpec("tiny", "tiny", 16, 32, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), 36)
    return Backbone(trunk, trunk, spec, torch.device(device))


def _classifier(device: str) -> Classifier:
    backbone = _tiny_backbone(device)
    torch.manual_seed(1)
    net = ClassifierNet(backbone.trunk, 16, [3]).eval().to(backbone.device)
    config = {"backbone": "tiny", "mode": "linear",
              "heads": [{"name": "subject", "classes": ["a", "b", "c"], "temperature": 1.0}]}
    return Classifier(config, net, backbone)


def _images(n: int = 4) -> list[np.ndarray]:
    return [np.random.default_rng(i).integers(0, 256, (40, 52, 3), dtype=np.uint8) for i in range(n)]


@pytest.mark.parametrize("device", DEVICES)
def test_predict_features_leaves_the_model_on_its_device(device, monkeypatch) -> None:
    clf = _classifier(device)
    rgbs = _images()
    direct = clf.predict(rgbs)
    feats = clf.backbone.features(rgbs)

    def moved(self):  # Module.cpu() moves a module in place: on CUDA the heads then stay on the CPU
        raise AssertionError("predict_features moved a module to the CPU")

    with monkeypatch.context() as m:
        m.setattr(nn.Module, "cpu", moved)
        from_features = clf.predict_features(feats)
    assert {p.device.type for p in clf.net.parameters()} == {device}
    again = clf.predict(rgbs)  # raised a device mismatch on CUDA before the fix
    assert [r["label"] for r in from_features] == [r["label"] for r in direct] == [r["label"] for r in again]
    np.testing.assert_allclose([r["score"] for r in from_features], [r["score"] for r in direct], atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_grad_cam_runs_on_the_models_device(device) -> None:
    from artlens.classify.explain import grad_cam

    clf = _classifier(device)
    cam, name, prob = grad_cam(clf, _images(1)[0])
    assert cam.shape == (32, 32) and np.isfinite(cam).all() and cam.max() <= 1.0
    assert name in ("a", "b", "c") and 0.0 <= prob <= 1.0


def random_vgg16():
    """A VGG16 encoder with random weights (He initialisation): the style code's layers without a weight file
    (also used by ``scripts/gpu_check.py``)."""
    from artlens.style.vgg import VGGEncoder, _Preprocess

    torch.manual_seed(0)
    encoder = VGGEncoder("vgg16", _Preprocess(False, 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
                         "vgg16_hed")
    with torch.no_grad():  # He initialisation: activations stay of order one through the 13 layers
        for conv in encoder.convs():
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            conv.bias.zero_()
    return encoder


def _style_pair() -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:64, 0:80]
    content = np.stack([xx * 3, yy * 4, (xx + yy) * 2], axis=2).clip(0, 255).astype(np.uint8)
    stripes = np.array([[230, 190, 40], [30, 60, 160], [200, 60, 30]], np.uint8)[((xx + yy) // 5) % 3]
    return content, stripes


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("weights", [{}, {"content_weight": 0.0, "tv_weight": 0.0}])
def test_gatys_optimises_on_the_encoders_device(device, weights) -> None:
    from artlens.style.gatys import GatysSettings, optimise

    content, style = _style_pair()
    losses: list[float] = []
    settings = GatysSettings(scales=(1.0,), steps=(12,), patience=0, style_weight=1e3, **weights)
    result = optimise(random_vgg16().to(device), content, [(style, 1.0)], (64, 80), settings, seed=0,
                      progress=lambda stage, step, total, parts: losses.append(parts["total"]))
    assert result.image.shape == (64, 80, 3) and np.isfinite(result.image).all()
    assert np.isfinite(losses).all() and min(losses) < losses[0]


@needs_cuda
def test_gatys_loss_is_the_same_on_cpu_and_cuda() -> None:
    from artlens.style.gatys import GatysSettings, evaluate

    content, style = _style_pair()
    settings = GatysSettings(style_weight=1e3)
    encoder = random_vgg16()
    on_cpu = evaluate(encoder, content, content, [(style, 1.0)], settings)
    on_cuda = evaluate(encoder.to("cuda"), content, content, [(style, 1.0)], settings)
    for key in ("total", "style", "tv"):  # TF32 convolutions on CUDA: agreement to about 1e-3
        assert on_cuda[key] == pytest.approx(on_cpu[key], rel=2e-2, abs=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_quality_label_finetune_keeps_model_and_shared_backbone_on_device(device, tmp_path,
                                                                          monkeypatch) -> None:
    from PIL import Image

    import artlens.models.backbones
    from artlens.iqa.config import QualityModelConfig
    from artlens.iqa.train.labels import train_from_labels

    shared = _tiny_backbone(device)
    before = {k: v.detach().clone() for k, v in shared.trunk.state_dict().items()}
    monkeypatch.setattr(artlens.models.backbones, "get_backbone", lambda name, device=None: shared)
    rows = ["path,label"]
    for i in range(8):
        noise = np.random.default_rng(i).integers(0, 256, (48, 48, 3), dtype=np.uint8)
        img = noise if i % 2 else np.full((48, 48, 3), 90, np.uint8)
        Image.fromarray(img).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{'noisy' if i % 2 else 'flat'}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    summary = train_from_labels(tmp_path / "labels.csv", tmp_path / "model", finetune=True, epochs=2,
                                device=device, val_split=0.0, batch_size=4,
                                config=QualityModelConfig(sizes=(48,), hidden=8))
    assert summary["settings"]["finetune"] and summary["evaluation"]["method"] == "none"
    after = shared.trunk.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # fine-tuning works on a private copy
    assert all(p.device.type == device and not p.requires_grad for p in shared.trunk.parameters())


@pytest.mark.parametrize("device", DEVICES)
def test_seeded_training_leaves_the_callers_random_state_alone(device) -> None:
    from artlens.seeding import seeded

    torch.manual_seed(123)
    expected = torch.rand(3, device=device)
    torch.manual_seed(123)
    with seeded(7):
        inside = torch.rand(3, device=device)
    after = torch.rand(3, device=device)
    torch.manual_seed(7)
    assert torch.equal(inside, torch.rand(3, device=device))  # the block is seeded
    assert torch.equal(after, expected)  # and the caller's stream goes on as if it had not run
