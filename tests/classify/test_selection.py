"""Feature variants (pooling, normalisation, flip) and inner-CV model selection of linear heads."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from artlens.classify.data import FOLDER_HEAD, load_dataset
from artlens.classify.explain import grad_cam
from artlens.classify.export import export_onnx
from artlens.classify.features import pooled_features
from artlens.classify.model import ClassifierNet, feature_settings_of, load_classifier
from artlens.classify.pooling import PooledTrunk, gem_pool, multi_depth_stages, normalise_pooled, pooled_dim
from artlens.classify.train.linear import train_linear
from artlens.classify.train.selection import (
    FeatureSet,
    choose,
    fit_selected,
    inner_folds,
    normalise_features,
    score_candidates,
)
from artlens.errors import ConfigError

from .conftest import needs_weights


def tiny_trunk() -> nn.Sequential:
    """A 4-block sequential trunk: stride 2, 4, 8, 8 (widths 4, 8, 12, 16)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(4, 8, 3, 2, 1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(8, 12, 3, 2, 1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(12, 16, 1), nn.ReLU()),
    ).eval()


def test_gem_between_mean_and_max():
    maps = torch.rand(2, 3, 5, 5)
    g = gem_pool(maps)
    assert torch.all(g >= maps.mean(dim=(2, 3)) - 1e-6)
    assert torch.all(g <= maps.amax(dim=(2, 3)) + 1e-6)


def test_multi_depth_pools_taps_then_last():
    trunk = tiny_trunk()
    assert multi_depth_stages(trunk) == (2,)
    x = torch.rand(2, 3, 32, 32)
    pooled = PooledTrunk(trunk, "multi")(x)
    assert pooled.shape == (2, 12 + 16) and pooled_dim(trunk, "multi") == 28
    with torch.no_grad():
        last = trunk(x).mean(dim=(2, 3))
        third = trunk[:3](x).mean(dim=(2, 3))
    assert torch.allclose(pooled[:, -16:], last, atol=1e-6)
    assert torch.allclose(pooled[:, :12], third, atol=1e-6)
    with pytest.raises(ConfigError):
        PooledTrunk(trunk, "multi", stages=[3])  # the last block is pooled anyway
    with pytest.raises(ConfigError):
        PooledTrunk(trunk, "max")


def test_normalisations_agree_between_numpy_and_model():
    x = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    for norm in ("none", "l2", "sqrt"):
        a = normalise_features(x, norm)
        b = normalise_pooled(torch.from_numpy(x), norm).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(normalise_features(x, "sqrt"), axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ConfigError):
        normalise_features(x, "zca")


def test_classifier_net_flip_and_settings_round_trip():
    trunk = tiny_trunk()
    net = ClassifierNet(trunk, 28, [3], pooling="multi", stages=(2,), norm="sqrt", flip=True).eval()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        both = net.pooled(x)
        plain = net.pooled(x, flip=False)
        mirror = net.pooled(x.flip(3), flip=False)
    assert not torch.allclose(plain, mirror)
    with torch.no_grad():
        raw = 0.5 * (PooledTrunk(trunk, "multi", (2,))(x) + PooledTrunk(trunk, "multi", (2,))(x.flip(3)))
    assert torch.allclose(both, normalise_pooled(raw, "sqrt"), atol=1e-6)
    assert feature_settings_of({"features": net.feature_settings()}) == net.feature_settings()
    assert feature_settings_of({}) == {"pooling": "avg", "stages": [], "norm": "none", "flip": False,
                                       "framing": "crop"}


def _two_sets(seed: int = 0) -> tuple[list[FeatureSet], np.ndarray]:
    """An informative feature set and a noise set, imbalanced classes 30/30/8."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [30, 30, 8])
    centres = rng.normal(size=(3, 6)) * 3
    good = (centres[y] + rng.normal(size=(y.size, 6))).astype(np.float32)
    noise = rng.normal(size=(y.size, 6)).astype(np.float32)
    return [FeatureSet("noise", noise), FeatureSet("good", good)], y


def test_selection_prefers_informative_features():
    sets, y = _two_sets()
    sel = fit_selected(sets, y, 3, norms=("none",), weight_decays=(1e-2, 1.0), folds=3)
    assert sel.feature_set == "good" and sel.inner_macro_f1 > 0.9
    assert len(sel.scores) == 4 and {r["feature_set"] for r in sel.scores} == {"noise", "good"}
    x = normalise_features(sets[1].x, sel.norm)
    assert ((x @ sel.weight.T + sel.bias).argmax(1) == y).mean() > 0.9


def test_choose_breaks_ties_towards_stronger_penalty_and_joins_heads():
    head_a = [{"feature_set": "a", "norm": "none", "weight_decay": 0.01, "macro_f1": 0.8},
              {"feature_set": "a", "norm": "none", "weight_decay": 1.0, "macro_f1": 0.8},
              {"feature_set": "b", "norm": "none", "weight_decay": 0.01, "macro_f1": 0.9}]
    head_b = [{"feature_set": "a", "norm": "none", "weight_decay": 0.1, "macro_f1": 0.9},
              {"feature_set": "b", "norm": "none", "weight_decay": 0.1, "macro_f1": 0.5}]
    assert choose([head_a]) == ("b", "none", [0.01])
    assert choose([head_a, head_b]) == ("a", "none", [1.0, 0.1])


def test_inner_folds_shrink_to_the_rarest_class_and_ignore_missing_labels():
    y = np.array([0] * 10 + [1] * 3 + [-1] * 4)
    folds = inner_folds(y[y >= 0])
    assert len(folds) == 3
    scores = score_candidates([FeatureSet("f", np.random.default_rng(1).normal(size=(y.size, 4)))], y, 2,
                              norms=("l2",), weight_decays=(0.1,))
    assert len(scores) == 1 and 0.0 <= scores[0]["macro_f1"] <= 1.0
    with pytest.raises(ConfigError):
        score_candidates([], y, 2)


@needs_weights
def test_multi_depth_flip_model_round_trip(folder, tmp_path, photos, views):
    """A model with multi-depth pooling, sqrt normalisation and flip averaging: saved, loaded, exported to
    ONNX with the same outputs, explained by Grad-CAM; features-in prediction agrees with images-in."""
    out = tmp_path / "multi"
    summary = train_linear(load_dataset(folder), out, backbone="mobilenet_v2", epochs=100, pooling="multi",
                           norm="sqrt", flip=True, weight_decay=0.01)
    assert summary["features"]["pooling"] == "multi" and summary["features"]["flip"] is True
    config = json.loads((out / "config.json").read_text())
    assert config["feature_dim"] == 1952 and config["features"]["stages"] == [6, 10, 13, 16, 17]
    clf = load_classifier(out, use_onnx=False)
    probe = views(photos["chelsea"], 2, seed=99) + views(photos["astronaut"], 1, seed=98)
    assert [p["label"] for p in clf.predict(probe)] == ["chelsea", "chelsea", "astronaut"]
    raw = pooled_features(clf.backbone, probe, pooling="multi", flip=True)
    np.testing.assert_allclose(clf.probabilities_from_features(raw)[FOLDER_HEAD],
                               clf.probabilities(probe)[FOLDER_HEAD], atol=1e-4)
    export_onnx(out)
    onnx_clf = load_classifier(out, use_onnx=True)
    np.testing.assert_allclose(onnx_clf.probabilities(probe)[FOLDER_HEAD],
                               clf.probabilities(probe)[FOLDER_HEAD], atol=1e-3)
    cam, label, _ = grad_cam(clf, probe[0])
    assert label == "chelsea" and cam.max() == pytest.approx(1.0)
