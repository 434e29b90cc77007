"""artlens.models.backbones: preprocessing, pooling, batching, loading; real-weight checks are marked
``weights``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from artlens import weights
from artlens.errors import ArtlensError, ConfigError, WeightsError
from artlens.models import backbones
from artlens.models.backbones import Backbone, BackboneSpec, device, get_backbone, registry
from artlens.models.backbones.efficientnet_lite import (
    LITE_SCALING,
    EfficientNetLite,
    _SameConv2d,
    round_filters,
    round_repeats,
)

CPU = torch.device("cpu")


def _calibrated(bb: Backbone, photos: dict[str, np.ndarray]) -> Backbone:
    """Give a randomly initialised network batch-norm statistics from real photos, so activations keep a
    sensible scale through the depth (with the default statistics they shrink towards zero)."""
    x = torch.stack([bb.preprocess(im) for im in photos.values()])
    for m in bb.trunk.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration pass
    bb.trunk.train()
    with torch.no_grad():
        bb.trunk(x)
    bb.trunk.eval()
    bb.model.eval()
    return bb


@pytest.fixture(scope="module")
def random_mobilenet(photos) -> Backbone:
    """MobileNetV2 with random weights (no weight file needed), classifier kept."""
    torch.manual_seed(0)
    spec = registry._SPECS["mobilenet_v2"]
    return _calibrated(registry._assemble("mobilenet_v2", spec, None, CPU, with_classifier=True), photos)


@pytest.fixture(scope="module")
def random_lite(photos) -> Backbone:
    torch.manual_seed(0)
    spec = registry._SPECS["efficientnet_lite0"]
    bb = registry._assemble("efficientnet_lite0", spec, None, CPU, with_classifier=False)
    return _calibrated(bb, photos)


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if anything tries torchvision's / torch hub's downloader."""
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch hub download attempted")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", forbidden)
    monkeypatch.setattr(torch.hub, "download_url_to_file", forbidden)
    monkeypatch.setattr(registry, "_cache", {})


# ------------------------------------------------------------------------------------------------------------
# Preprocessing
# ------------------------------------------------------------------------------------------------------------

def test_preprocess_shape_dtype_and_normalisation(random_mobilenet):
    spec = random_mobilenet.spec
    img = np.full((300, 500, 3), (10, 128, 250), np.uint8)
    x = random_mobilenet.preprocess(img)
    assert x.shape == (3, 224, 224) and x.dtype == torch.float32
    expected = (np.array([10, 128, 250]) / 255.0 - np.array(spec.mean)) / np.array(spec.std)
    np.testing.assert_allclose(x.mean(dim=(1, 2)).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(x.std(dim=(1, 2)).numpy(), 0, atol=1e-5)


def test_lite_preprocess_maps_to_minus_one_one(random_lite):
    black = random_lite.preprocess(np.zeros((224, 224, 3), np.uint8))
    white = random_lite.preprocess(np.full((224, 224, 3), 255, np.uint8))
    np.testing.assert_allclose(black.numpy(), -127 / 128, atol=1e-6)
    np.testing.assert_allclose(white.numpy(), 1.0, atol=1e-6)


@pytest.mark.parametrize("shape", [(200, 800), (800, 200)])
def test_preprocess_resizes_shorter_side_and_crops_centre(random_mobilenet, shape):
    h, w = shape
    img = np.zeros((h, w, 3), np.uint8)
    if w > h:
        img[:, : w // 2, 0] = 255  # left half red, right half blue
        img[:, w // 2:, 2] = 255
    else:
        img[: h // 2, :, 0] = 255  # top half red, bottom half blue
        img[h // 2:, :, 2] = 255
    x = random_mobilenet.preprocess(img)
    red = x[0] > x[2]
    # the shorter side becomes 256, so a centre 224 crop of the longer (1024) side straddles the boundary
    if w > h:
        assert red[:, :100].all() and not red[:, 124:].any()
    else:
        assert red[:100, :].all() and not red[124:, :].any()


def test_preprocess_accepts_grey_rgba_and_float(random_mobilenet, photos):
    rgb = photos["coffee"]
    ref = random_mobilenet.preprocess(rgb)
    rgba = np.concatenate([rgb, np.full((*rgb.shape[:2], 1), 7, np.uint8)], axis=2)
    assert torch.equal(random_mobilenet.preprocess(rgba), ref)
    assert torch.allclose(random_mobilenet.preprocess(rgb / 255.0), ref, atol=1e-6)
    grey = rgb[..., 1]
    g = random_mobilenet.preprocess(grey)
    assert torch.equal(g, random_mobilenet.preprocess(np.repeat(grey[..., None], 3, axis=2)))


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 5), np.uint8), np.zeros((0, 10, 3), np.uint8),
                                 np.zeros((10, 10, 3), np.int32)])
def test_preprocess_rejects_bad_images(random_mobilenet, bad):
    with pytest.raises(ArtlensError):
        random_mobilenet.preprocess(bad)


# ------------------------------------------------------------------------------------------------------------
# Features
# ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["random_mobilenet", "random_lite"])
def test_features_shape_normalisable_and_batch_invariant(which, photos, request):
    bb: Backbone = request.getfixturevalue(which)
    images = [photos[k] for k in ("astronaut", "coffee", "chelsea", "rocket", "coins")]
    feats = bb.features(images, batch_size=2)
    assert feats.shape == (5, bb.spec.feature_dim) == (5, 1280)
    assert feats.dtype == np.float32 and np.isfinite(feats).all()
    norms = np.linalg.norm(feats, axis=1)
    assert (norms > 1e-6).all()
    unit = feats / norms[:, None]
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    one_by_one = np.concatenate([bb.features([im]) for im in images])
    np.testing.assert_allclose(feats, one_by_one, rtol=1e-4, atol=1e-5)
    assert not np.allclose(feats[0], feats[1])  # different photos, different features
    stacked = torch.stack([bb.preprocess(im) for im in images])
    np.testing.assert_allclose(bb.features(stacked, batch_size=3), feats, rtol=1e-4, atol=1e-5)


def test_features_of_nothing_and_bad_batches(random_mobilenet, photos):
    assert random_mobilenet.features([]).shape == (0, 1280)
    with pytest.raises(ArtlensError, match="list of images"):
        random_mobilenet.features(photos["coffee"])  # one image, not a batch
    with pytest.raises(ArtlensError, match=r"\(N, 3, H, W\)"):
        random_mobilenet.features(torch.zeros(2, 224, 224, 3))
    with pytest.raises(ConfigError):
        random_mobilenet.features([photos["coffee"]], batch_size=0)


@pytest.mark.parametrize("which", ["random_mobilenet", "random_lite"])
def test_feature_maps_pool_to_features_and_carry_gradients(which, photos, request):
    bb: Backbone = request.getfixturevalue(which)
    x = torch.stack([bb.preprocess(photos["chelsea"]), bb.preprocess(photos["coffee"])])
    maps = bb.feature_maps(x)
    assert maps.shape == (2, 1280, 7, 7)
    np.testing.assert_allclose(maps.mean(dim=(2, 3)).detach().numpy(), bb.features(x), rtol=1e-4, atol=1e-5)
    x.requires_grad_(True)
    bb.feature_maps(x).sum().backward()  # usable for Grad-CAM-style saliency
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_logits_need_the_classifier(random_mobilenet, random_lite, photos):
    out = random_mobilenet.logits([photos["coffee"], photos["rocket"]])
    assert out.shape == (2, 1000) and out.dtype == np.float32
    with pytest.raises(ArtlensError, match="with_classifier=True"):
        random_lite.logits([photos["coffee"]])


# ------------------------------------------------------------------------------------------------------------
# EfficientNet-Lite architecture
# ------------------------------------------------------------------------------------------------------------

def test_lite_state_dict_layout_matches_efficientnet_pytorch():
    keys = EfficientNetLite().state_dict().keys()
    for key in ("_conv_stem.weight", "_bn0.running_var", "_blocks.0._depthwise_conv.weight",
                "_blocks.1._expand_conv.weight", "_blocks.15._project_conv.weight", "_blocks.15._bn2.bias",
                "_conv_head.weight", "_bn1.weight", "_fc.weight", "_fc.bias"):
        assert key in keys
    assert "_blocks.16._bn0.weight" not in keys and "_blocks.0._expand_conv.weight" not in keys
    assert not any("_se_" in k for k in keys)  # Lite: no squeeze-and-excitation
    n_params = sum(p.numel() for p in EfficientNetLite().parameters())
    assert 4.5e6 < n_params < 4.8e6  # EfficientNet-Lite0 has about 4.65 M parameters


@pytest.mark.parametrize(("name", "blocks", "widths", "size"), [
    ("efficientnet_lite1", 21, (16, 24, 40, 80, 112, 192, 320), 240),
    ("efficientnet_lite2", 21, (16, 24, 48, 88, 120, 208, 352), 260),
])
def test_lite1_lite2_follow_the_compound_scaling(name, blocks, widths, size):
    # block counts and widths as in the published Lite1/Lite2 state dicts (efficientnet_lite_builder.py)
    width, depth, input_size = LITE_SCALING[name]
    net = EfficientNetLite(width=width, depth=depth)
    assert len(net._blocks) == blocks and input_size == size
    outs = []
    for b in net._blocks:
        if b._project_conv.out_channels not in outs:
            outs.append(b._project_conv.out_channels)
    assert tuple(outs) == widths
    assert net._conv_head.out_channels == 1280 and net._conv_stem.out_channels == 32
    assert registry._SPECS[name].input_size == size and registry._SPECS[name].resize == size + 32


def test_round_filters_matches_the_reference():
    assert [round_filters(c, 1.1) for c in (16, 24, 40, 80, 112, 192, 320)] == [16, 24, 48, 88, 120, 208, 352]
    assert round_repeats(2, 1.1) == 3 and round_repeats(4, 1.2) == 5


def test_same_padding_follows_tensorflow():
    conv = _SameConv2d(1, 1, 3, stride=2)
    torch.nn.init.ones_(conv.weight)
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)  # the extra row/column goes last
    assert torch.equal(conv(x), expected)
    odd = torch.ones(1, 1, 5, 5)
    assert conv(odd).shape == (1, 1, 3, 3)
    assert EfficientNetLite().eval().forward_features(torch.zeros(1, 3, 225, 225)).shape == (1, 1280, 8, 8)


# ------------------------------------------------------------------------------------------------------------
# Names, weights, devices, threads
# ------------------------------------------------------------------------------------------------------------

def test_list_backbones_includes_the_two_builtins():
    names = backbones.list_backbones()
    assert {"mobilenet_v2", "efficientnet_lite0"} <= set(names)
    assert names == sorted(names)
    assert "resnet18" not in names  # its weight file is not registered


def test_unknown_name_is_a_clear_error(no_download):
    with pytest.raises(ArtlensError, match=r"unknown backbone 'no_such_net'.*mobilenet_v2") as info:
        get_backbone("no_such_net", device="cpu")
    assert not isinstance(info.value, WeightsError)


def test_unregistered_torchvision_model_is_a_weights_error(no_download, monkeypatch):
    def no_resolve(name: str) -> Path:
        raise AssertionError(f"resolve({name!r}) should not be reached")

    monkeypatch.setattr(weights, "resolve", no_resolve)
    with pytest.raises(WeightsError, match=r"'resnet18' are not registered.*resnet18-f37072fd\.pth"):
        get_backbone("resnet18", device="cpu")


def test_registered_torchvision_model_loads_from_the_registry(no_download, tmp_path, monkeypatch, photos):
    import torchvision.models as tvm

    torch.manual_seed(1)
    net = tvm.resnet18(weights=None)
    wdir = tmp_path / "w"
    wdir.mkdir()
    path = wdir / "resnet18-f37072fd.pth"  # torchvision's file name for ResNet18_Weights.IMAGENET1K_V1
    torch.save(net.state_dict(), path)
    monkeypatch.setattr(weights, "REGISTRY", dict(weights.REGISTRY))
    monkeypatch.setenv("ARTLENS_WEIGHTS_DIR", str(wdir))
    weights.register(weights.WeightFile(
        name="test_resnet18", filename=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        sources=(), license="test", description="random ResNet18"))
    assert "resnet18" in backbones.list_backbones()
    bb = get_backbone("resnet18", device="cpu", with_classifier=True)
    assert bb.spec.weight_name == "test_resnet18" and bb.spec.feature_dim == 512
    assert (bb.spec.input_size, bb.spec.resize) == (224, 256) and len(bb.spec.categories) == 1000
    assert get_backbone("resnet18", device="cpu", with_classifier=True) is bb  # loaded once per process
    x = torch.stack([bb.preprocess(photos["coffee"])])
    net.eval()
    with torch.inference_mode():
        np.testing.assert_allclose(bb.logits(x), net(x).numpy(), rtol=1e-4, atol=1e-4)
    assert bb.features([photos["coffee"]]).shape == (1, 512)


def test_weight_file_that_does_not_fit_is_a_weights_error():
    spec = registry._SPECS["efficientnet_lite0"]
    state = EfficientNetLite().state_dict()
    del state["_fc.bias"]
    with pytest.raises(WeightsError, match="does not fit"):
        registry._assemble("efficientnet_lite0", spec, state, CPU, with_classifier=True)


def test_select_device(monkeypatch):
    monkeypatch.delenv("ARTLENS_DEVICE", raising=False)
    assert backbones.select_device("cpu") == CPU
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert backbones.select_device().type == expected
    monkeypatch.setenv("ARTLENS_DEVICE", "cpu")
    assert backbones.select_device() == CPU
    with pytest.raises(ConfigError, match="unknown device"):
        backbones.select_device("gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            backbones.select_device("cuda")


def test_configure_threads(monkeypatch):
    monkeypatch.setattr(device, "_threads_set", None)
    before = torch.get_num_threads()
    try:
        assert backbones.configure_threads(1) == 1 and torch.get_num_threads() == 1
        assert backbones.configure_threads() == 1  # an explicit setting is kept
        monkeypatch.setattr(device, "_threads_set", None)
        monkeypatch.setenv("ARTLENS_THREADS", "2")
        assert backbones.configure_threads() == 2
        monkeypatch.setattr(device, "_threads_set", None)
        monkeypatch.delenv("ARTLENS_THREADS")
        assert 1 <= backbones.configure_threads() <= (os.cpu_count() or 1)
        with pytest.raises(ConfigError):
            backbones.configure_threads(0)
    finally:
        torch.set_num_threads(before)


def test_spec_is_frozen():
    spec = registry._SPECS["mobilenet_v2"]
    assert isinstance(spec, BackboneSpec)
    with pytest.raises(AttributeError):
        spec.mean = (0.5, 0.5, 0.5)  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------------------
# Real weights (resolved offline from the artlens cache)
# ------------------------------------------------------------------------------------------------------------

def _real(name: str, with_classifier: bool = True) -> Backbone:
    status = weights.local_status(name)
    if status.state != "verified":
        pytest.skip(f"weight file {name!r} is {status.state}: {status.detail}")
    return get_backbone(name, device="cpu", with_classifier=with_classifier)


@pytest.mark.weights
def test_mobilenet_v2_classifies_cat_and_espresso(photos):
    bb = _real("mobilenet_v2")
    top = bb.logits([photos["chelsea"], photos["coffee"]]).argmax(axis=1)
    assert top.tolist() == [285, 967]  # Egyptian cat, espresso
    assert bb.spec.categories[285] == "Egyptian cat" and bb.spec.categories[967] == "espresso"


@pytest.mark.weights
def test_efficientnet_lite0_classifies_cat_and_espresso(photos):
    bb = _real("efficientnet_lite0")
    top = bb.logits([photos["chelsea"], photos["coffee"]]).argmax(axis=1)
    assert 281 <= top[0] <= 285  # a domestic cat class
    assert top[1] == 967  # espresso


@pytest.mark.weights
@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_lite0"])
def test_real_features_put_like_with_like(name, photos):
    bb = _real(name, with_classifier=False)
    feats = bb.features([photos["chelsea"], photos["chelsea"][:, ::-1], photos["coffee"]])
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    sim = unit @ unit.T
    assert sim[0, 1] > sim[0, 2] + 0.2  # a mirrored cat is closer to the cat than the coffee is


def test_one_thread_restores_the_setting():
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    with backbones.one_thread():
        assert torch.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert torch.get_num_threads() == before
