"""Fine-tuning (LP-FT) end to end on generated textures, resume after interruption, augmentation, settings."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from artlens import weights
from artlens.classify.data import FOLDER_HEAD, load_dataset
from artlens.classify.model import load_classifier
from artlens.classify.train.augment import (
    AugmentSettings,
    centre_crop,
    color_jitter,
    downscale,
    normalise,
    random_resized_crop,
    train_view,
)
from artlens.classify.train.finetune import CHECKPOINT_FILE, _eval_crop, train_finetune
from artlens.errors import ArtlensError, ConfigError
from artlens.models.backbones import get_backbone, trunk_blocks
from artlens.training import ProgressEvent, load_checkpoint

_REAL = weights.local_status("mobilenet_v2").state == "verified"
needs_weights = pytest.mark.skipif(not _REAL, reason="mobilenet_v2 weights not verified in the local cache")

TEXTURES = ("checks", "dots", "stripes")
FAST = {"unfreeze": 1, "batch_size": 16}  # one block: quick on a CPU


def _texture(kind: str, rng: np.random.Generator, size: int = 80) -> np.ndarray:
    """An RGB image of one texture kind in random colours, scale and phase."""
    fg, bg = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    while np.abs(fg - bg).sum() < 200:
        fg = rng.integers(0, 256, 3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    period = rng.uniform(10, 18)
    if kind == "stripes":
        theta = rng.uniform(0, np.pi)
        mask = np.sin((xx * np.cos(theta) + yy * np.sin(theta)) * 2 * np.pi / period + rng.uniform(0, 6)) > 0
    elif kind == "checks":
        ox, oy = rng.uniform(0, period, 2)
        mask = (np.floor((xx + ox) / period) + np.floor((yy + oy) / period)) % 2 == 0
    else:
        mask = np.zeros((size, size), bool)
        for cy, cx in rng.uniform(0, size, (14, 2)):
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 < (period / 3) ** 2
    img = np.where(mask[..., None], fg, bg).astype(np.float32) + rng.normal(0, 6, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _write(path, rgb: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


@pytest.fixture(scope="module")
def textures(tmp_path_factory):
    """An ImageFolder tree of 3 texture classes x 12 images (80 px)."""
    root = tmp_path_factory.mktemp("textures")
    rng = np.random.default_rng(7)
    for kind in TEXTURES:
        for i in range(12):
            _write(root / kind / f"{i}.png", _texture(kind, rng))
    return root


# -- augmentation --------------------------------------------------------------------------------------------

def test_augment_settings_roundtrip_and_errors():
    s = AugmentSettings(scale=[0.5, 1.0], flip=0.0)
    d = s.to_dict()
    assert d["scale"] == [0.5, 1.0] and d["flip"] == 0.0
    assert AugmentSettings.from_dict(json.loads(json.dumps(d))) == s
    assert AugmentSettings.from_dict(None) == AugmentSettings()
    off = AugmentSettings.none()
    assert off.to_dict()["crop"] is False and AugmentSettings.from_dict(off.to_dict()) == off
    for bad in ({"scale": (0.0, 1.0)}, {"scale": (0.9, 0.5)}, {"ratio": (-1, 2)}, {"flip": 1.5},
                {"brightness": 1.0}, {"contrast": "lots"}, {"scale": 3}, {"hue": 0.1}, {"crop": "yes"}):
        with pytest.raises(ConfigError, match="augment"):
            AugmentSettings.from_dict(bad)


def test_augment_ops(photos):
    img = photos["chelsea"]  # 300 x 451
    small = downscale(img, 120)
    assert min(small.shape[:2]) == 120 and small.shape[1] == round(451 * 120 / 300)
    np.testing.assert_array_equal(downscale(small, 500), small)  # never enlarged
    assert centre_crop(img, 50, 0.5).shape == (50, 50, 3)

    # a full-image crop at the image's own ratio is a plain resize; flip=1 mirrors it
    whole = AugmentSettings(scale=(1.0, 1.0), ratio=(451 / 300,) * 2, flip=1.0,
                            brightness=0.0, contrast=0.0, saturation=0.0)
    crop = random_resized_crop(img, np.random.default_rng(0), 64, whole.scale, whole.ratio)
    expected = cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(crop, expected)
    view = train_view(img, np.random.default_rng(0), whole, 64, (0.0,) * 3, (1 / 255,) * 3)
    np.testing.assert_allclose(view, expected[:, ::-1].transpose(2, 0, 1).astype(np.float32), atol=1e-3)

    # jitter: no-op at zero strength, changes the image otherwise, stays in range
    same = color_jitter(img, np.random.default_rng(1), 0, 0, 0)
    np.testing.assert_array_equal(same, img.astype(np.float32))
    jit = color_jitter(img, np.random.default_rng(1), 0.5, 0.5, 0.5)
    assert jit.dtype == np.float32 and jit.min() >= 0 and jit.max() <= 255 and np.abs(jit - img).mean() > 1

    # the same generator state gives the same view; another seed another one
    s = AugmentSettings()
    a, b, c = (train_view(img, np.random.default_rng(k), s, 96, (0.5,) * 3, (0.25,) * 3) for k in (3, 3, 4))
    assert a.shape == (3, 96, 96) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)

    # without augmentation a view is the evaluation crop: resize so the shorter side is 256, centre 224
    bb_like = cv2.resize(img, (round(451 * 256 / 300), 256), interpolation=cv2.INTER_AREA)
    top, left = (256 - 224) // 2, (bb_like.shape[1] - 224) // 2
    eval_crop = bb_like[top:top + 224, left:left + 224].astype(np.float32)
    plain = train_view(img, np.random.default_rng(5), AugmentSettings.none(), 224, (0.0,) * 3, (1 / 255,) * 3,
                       224 / 256)
    assert np.abs(plain.transpose(1, 2, 0) - eval_crop).mean() < 4.0


@needs_weights
def test_eval_crop_is_exact(photos):
    bb = get_backbone("mobilenet_v2")
    crop = _eval_crop(bb, photos["astronaut"])
    assert crop.shape == (224, 224, 3) and crop.dtype == np.uint8
    got = torch.from_numpy(normalise(crop, bb.spec.mean, bb.spec.std))
    assert torch.equal(got, bb.preprocess(photos["astronaut"]))


@needs_weights
def test_trainable_blocks_skip_unused_and_join_norms():
    for name in ("mobilenet_v2", "efficientnet_lite0"):
        trunk = get_backbone(name).trunk
        blocks = trunk_blocks(trunk)
        assert len(blocks) >= 10
        names = {id(m): n for n, m in trunk.named_modules()}
        assert not any(names.get(id(b), "").endswith("_fc") for b in blocks)  # the unused classifier
        last = {id(p) for p in blocks[-1].parameters()}
        assert len(last) >= 3  # the head convolution with its batch norm, not a lone norm layer


# -- training end to end -------------------------------------------------------------------------------------

@needs_weights
def test_finetune_end_to_end(textures, tmp_path):
    out = tmp_path / "model"
    calls: list[ProgressEvent] = []
    shared = get_backbone("mobilenet_v2")
    before = {k: v.clone() for k, v in shared.trunk.state_dict().items()}
    summary = train_finetune(load_dataset(textures), out, epochs=2, patience=0, **FAST,
                             progress=calls.append)
    head = summary["heads"][FOLDER_HEAD]
    assert summary["mode"] == "finetune" and summary["n_used"] == 36 and summary["skipped"] == []
    assert head["metrics"]["n"] >= 6 and head["metrics"]["accuracy"] >= 0.85
    assert head["temperature"] > 0 and 0 <= summary["best_epoch"] <= 2
    epochs = [c for c in calls if c.stage == "epoch"]
    assert [c.done for c in epochs] == [1, 2] and {"step", "embed"} <= {c.stage for c in calls}
    assert all({"loss", "val_macro_f1", "val_accuracy", "best_epoch"} <= set(c.metrics) for c in epochs)
    assert [r["epoch"] for r in summary["history"]] == [0, 1, 2]  # 0: the linear-probe start
    assert summary["history"][-1]["val_accuracy"] >= 0.85 and summary["history"][-1]["loss"] > 0
    assert not (out / CHECKPOINT_FILE).exists()

    config = json.loads((out / "config.json").read_text())
    assert config["mode"] == "finetune" and config["settings"]["unfreeze"] == 1
    assert config["settings"]["augment"] == AugmentSettings().to_dict()
    assert config["settings"]["best_epoch"] == summary["best_epoch"]
    tensors = load_file(str(out / "model.safetensors"))
    assert any(k.startswith("trunk.") for k in tensors)
    # the shared, cached backbone is untouched
    assert all(torch.equal(v, shared.trunk.state_dict()[k]) for k, v in before.items())

    clf = load_classifier(out, use_onnx=False)
    rng = np.random.default_rng(123)
    probe = [_texture(k, rng) for k in TEXTURES for _ in range(2)]
    labels = [p["label"] for p in clf.predict(probe)]
    assert np.mean([a == b for a, b in zip(labels, np.repeat(TEXTURES, 2), strict=True)]) >= 5 / 6


@needs_weights
def test_resume_matches_uninterrupted_run(textures, tmp_path):
    data = load_dataset(textures)
    common = dict(epochs=2, patience=0, seed=3, **FAST)
    train_finetune(data, tmp_path / "ref", **common)

    def stop_after_first(event: ProgressEvent) -> None:
        if event.stage == "epoch" and event.done == 1:
            raise KeyboardInterrupt

    out = tmp_path / "resumed"
    with pytest.raises(ConfigError, match="no checkpoint"):
        train_finetune(data, out, resume=True, **common)
    with pytest.raises(KeyboardInterrupt):
        train_finetune(data, out, progress=stop_after_first, **common)
    ckpt = load_checkpoint(out / CHECKPOINT_FILE)
    assert ckpt["run"]["fit"]["epoch"] == 1 and not (out / "config.json").exists()
    with pytest.raises(ConfigError, match="other data or settings"):
        train_finetune(data, out, resume=True, **dict(common, lr=5e-4))
    seen = []
    summary = train_finetune(data, out, resume=True, progress=seen.append, **common)
    assert [e.done for e in seen if e.stage == "epoch"] == [2]  # only the missing epoch ran
    assert [r["epoch"] for r in summary["history"]] == [0, 1, 2]
    assert not (out / CHECKPOINT_FILE).exists()

    # bit-identical: same seed, same device and threads, every random draw seeded per (seed, fold, epoch)
    ref = load_file(str(tmp_path / "ref" / "model.safetensors"))
    got = load_file(str(out / "model.safetensors"))
    assert ref.keys() == got.keys()
    assert all(torch.equal(ref[k], got[k]) for k in ref)
    cfg_ref = json.loads((tmp_path / "ref" / "config.json").read_text())
    cfg_got = json.loads((out / "config.json").read_text())
    assert cfg_ref["metrics"] == cfg_got["metrics"] and cfg_ref["heads"] == cfg_got["heads"]
    # ... and the tuned block did move away from the pretrained weights, while earlier blocks did not
    pretrained = get_backbone("mobilenet_v2").trunk.state_dict()
    assert not torch.equal(got["trunk.18.0.weight"], pretrained["18.0.weight"])
    assert torch.equal(got["trunk.17.conv.0.0.weight"], pretrained["17.conv.0.0.weight"])


@needs_weights
def test_multi_task_kfold_with_missing_label_and_unreadable(tmp_path):
    """Two heads (texture, warm/cool colour), one label missing, one broken file; 2-fold then a final run."""
    rng = np.random.default_rng(11)
    lines = ["path,texture,tone"]
    for kind in TEXTURES[:2]:
        for i in range(5):
            img = _texture(kind, rng, size=64)
            tone = "warm" if i % 2 else "cool"
            img[..., 0 if tone == "warm" else 2] = 255
            _write(tmp_path / f"{kind}{i}.png", img)
            lines.append(f"{kind}{i}.png,{kind},{'' if (kind, i) == ('dots', 0) else tone}")
    (tmp_path / "broken.png").write_bytes(b"no image here")
    lines.append("broken.png,dots,warm")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    summary = train_finetune(load_dataset(tmp_path / "labels.csv"), tmp_path / "m", kfold=2, epochs=1, **FAST)
    assert summary["n_used"] == 10
    assert [s["path"] for s in summary["skipped"]] == [str(tmp_path / "broken.png")]
    assert set(summary["heads"]) == {"texture", "tone"}
    assert summary["heads"]["tone"]["n_labelled"] == 9 and summary["heads"]["texture"]["metrics"]["n"] == 10
    assert summary["heads"]["texture"]["metrics"]["folds"] == 2
    assert {r["fold"] for r in summary["history"]} >= {0, 1}
    clf = load_classifier(tmp_path / "m", use_onnx=False)
    pred = clf.predict([_texture("checks", rng, size=64)])[0]
    assert set(pred["heads"]) == {"texture", "tone"} and pred["label"] == pred["heads"]["texture"]["label"]


@needs_weights
@pytest.mark.parametrize(("setting", "match"), [
    ({"epochs": 0}, "epochs"), ({"unfreeze": -1}, "unfreeze"), ({"unfreeze": 99}, "exceeds"),
    ({"lr": 0.0}, "lr"), ({"trunk_lr_scale": -1.0}, "trunk_lr_scale"),
    ({"weight_decay": -1e-3}, "weight_decay"),
    ({"label_smoothing": 1.0}, "label_smoothing"), ({"patience": -1}, "patience"),
    ({"batch_size": 0}, "batch_size"), ({"kfold": 1}, "kfold"), ({"val_split": 1.0}, "val_split"),
    ({"augment": {"scale": (0.2, 3.0)}}, "augment"), ({"backbone": "nonexistent_net"}, "backbone"),
])
def test_bad_settings(textures, tmp_path, setting, match):
    with pytest.raises(ArtlensError, match=match):  # ConfigError, or ArtlensError for an unknown backbone
        train_finetune(load_dataset(textures), tmp_path / "m", **setting)
    assert not (tmp_path / "m").exists()
