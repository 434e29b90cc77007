"""The learned quality model: config, save/load, scores, batching, training set and head training."""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pytest
import torch
from torch import nn

from artlens import weights
from artlens.errors import ArtlensError, ConfigError, WeightsError
from artlens.iqa.config import QualityModelConfig
from artlens.iqa.heads import QualityHead, average_heads
from artlens.iqa.model import QualityModel
from artlens.iqa.train.head import train_head
from artlens.iqa.train.training_set import build_training_set, embed_training_set, level_target
from artlens.models.backbones import StageMaps

_REAL = weights.local_status("mobilenet_v2").state == "verified"
needs_weights = pytest.mark.skipif(not _REAL, reason="mobilenet_v2 weights not verified in the local cache")



@pytest.fixture(scope="module")
def tiny_model(tiny_backbone) -> QualityModel:
    config = QualityModelConfig(backbone="tiny", sizes=(96, 48), pooling=("mean", "std", "max", "q90"),
                                hidden=16)
    return QualityModel(config, backbone=tiny_backbone)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- config ------------------------------------------------------------------------------------------------

def test_config_round_trip_and_dimensions(tiny_model):
    c = tiny_model.config
    assert c.feature_dim == 8 and c.embed_dim == 8 * 4 * 2
    again = QualityModelConfig.from_dict(json.loads(json.dumps(c.to_dict())))
    assert again == c


@pytest.mark.parametrize("bad", [
    {"pooling": ["median"]}, {"pooling": []}, {"sizes": [16]}, {"schema": "artlens.quality-model/9"},
    {"calibration": [1.0]}, {"dropout": 1.5}, {"colour": "red"}, {"stages": [3, 1]}, {"stages": [2, 2]},
    {"stages": [-1]},
])
def test_invalid_config_raises(bad):
    with pytest.raises(ConfigError):
        QualityModelConfig.from_dict({**QualityModelConfig().to_dict(), **bad})


def test_stages_pool_each_chosen_block_and_round_trip(tiny_backbone, photos, tmp_path):
    config = QualityModelConfig(backbone="tiny", sizes=(96, 48), pooling=("mean", "std"), stages=(0, 1),
                                hidden=16)
    model = QualityModel(config, backbone=tiny_backbone)
    assert model.config.feature_dim == 16 and model.config.embed_dim == 16 * 2 * 2
    assert "stages" not in QualityModelConfig().to_dict()  # older models keep their file layout
    again = QualityModelConfig.from_dict(json.loads(json.dumps(model.config.to_dict())))
    assert again == model.config and again.stages == (0, 1)
    image = photos["astronaut"]
    feats = model.embed([image])[0]
    # the first stage is the first convolution's output (before its ReLU), pooled at the largest scale
    x, _ = model._prepare(image, 96)
    with torch.inference_mode():
        first = tiny_backbone.trunk[0](torch.from_numpy(x)[None]).flatten(2)
    torch.testing.assert_close(feats[:8], first.mean(2)[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(feats[8:16], first.std(2, correction=0)[0], rtol=1e-5, atol=1e-5)
    loaded = QualityModel.load(model.save(tmp_path / "m"), backbone=tiny_backbone)
    np.testing.assert_array_equal(loaded.score([image]), model.score([image]))
    with pytest.raises(ConfigError, match="stages"):  # the tiny trunk has two blocks
        QualityModel(QualityModelConfig(backbone="tiny", stages=(0, 2)), backbone=tiny_backbone)


def test_stage_maps_stop_a_sequential_trunk_at_the_deepest_stage():
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.Conv2d(4, 6, 3, stride=2), nn.Conv2d(6, 5, 3))
    maps = StageMaps(trunk, [0, 1])
    assert maps.channels == (4, 6) and len(maps.trunk) == 2 and maps.trunk[0] is trunk[0]
    x = torch.randn(2, 3, 40, 30)
    with torch.inference_mode():
        a, b = maps(x)
        torch.testing.assert_close(a, trunk[0](x))
        torch.testing.assert_close(b, trunk[1](trunk[0](x)))
    assert not trunk[0]._forward_hooks  # a sequence runs block by block, without hooks


class _SlowTrunk(nn.Module):
    """Two convolutions with a pause between them (not a sequence: its stages are taken by hooks)."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.first, self.second = nn.Conv2d(3, 4, 3, stride=2), nn.Conv2d(4, 5, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.first(x)
        time.sleep(0.02)  # lets other threads' passes run in between
        return self.second(torch.relu(x))


def test_stage_maps_of_a_hooked_trunk_are_per_pass_under_threads():
    from concurrent.futures import ThreadPoolExecutor

    trunk = _SlowTrunk()
    maps = StageMaps(trunk, [0, 1])
    assert maps.trunk is trunk and maps.channels == (4, 5)
    inputs = [torch.randn(1, 3, 32, 48, generator=torch.Generator().manual_seed(i)) for i in range(8)]
    with torch.inference_mode():
        expected = [(trunk.first(x), trunk(x)) for x in inputs]
        with ThreadPoolExecutor(8) as pool:
            got = list(pool.map(maps, inputs))
    for (first, last), (a, b) in zip(expected, got, strict=True):
        torch.testing.assert_close(a, first)
        torch.testing.assert_close(b, last)
    assert not trunk.first._forward_hooks  # the taps are removed after each pass


def test_onnx_trunk_gives_every_stage(tiny_backbone, photos, tmp_path, monkeypatch):
    pytest.importorskip("onnx")
    monkeypatch.setenv("ARTLENS_CACHE", str(tmp_path))
    config = QualityModelConfig(backbone="tiny", sizes=(96, 48), pooling=("mean", "max"), stages=(0, 1),
                                hidden=16)
    model = QualityModel(config, backbone=tiny_backbone)
    images = [photos["astronaut"], photos["coffee"][:101, :157]]
    eager = model.embed(images)
    assert model.use_onnx()
    torch.testing.assert_close(model.embed(images), eager, rtol=1e-4, atol=1e-4)


# -- embedding and scores ----------------------------------------------------------------------------------

def test_embed_shapes_any_frame(tiny_model, photos):
    images = [photos["astronaut"], photos["coffee"], np.zeros((5, 300, 3), np.uint8), photos["coins"][..., 0]]
    feats = tiny_model.embed(images)
    assert feats.shape == (4, tiny_model.config.embed_dim) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all()
    # a large frame is downscaled, not cropped: the same picture at twice the size embeds nearly the same
    big = np.repeat(np.repeat(photos["astronaut"], 2, axis=0), 2, axis=1)
    assert torch.allclose(tiny_model.embed([big])[0], feats[0], rtol=0.05, atol=0.05)


def test_scores_in_range_and_batching_invariant(tiny_model, photos):
    images = [photos["astronaut"], photos["chelsea"], photos["rocket"], photos["astronaut"][::-1].copy()]
    one = np.concatenate([tiny_model.score([im], batch_size=1) for im in images])
    together = tiny_model.score(images, batch_size=4)
    assert one.shape == (4,) and np.all((one >= 0) & (one <= 100))
    np.testing.assert_allclose(together, one, rtol=1e-5, atol=1e-4)
    stacked = tiny_model.score(np.stack([images[0], images[3]]), batch_size=2)
    np.testing.assert_allclose(stacked, one[[0, 3]], rtol=1e-5, atol=1e-4)


def test_calibration_maps_raw_to_0_100(tiny_model):
    a, b = tiny_model.config.calibration
    out = tiny_model.calibrate(np.array([-1e9, -b / a, 1e9]))
    np.testing.assert_allclose(out, [0.0, 50.0, 100.0], atol=1e-9)


# -- persistence -------------------------------------------------------------------------------------------

def test_save_load_round_trip_is_stable(tiny_model, tiny_backbone, photos, tmp_path):
    first = tiny_model.save(tmp_path / "a")
    assert sorted(p.name for p in first.iterdir()) == ["config.json", "model.safetensors"]
    loaded = QualityModel.load(first, backbone=tiny_backbone)
    assert loaded.config == tiny_model.config
    images = [photos["coffee"], photos["rocket"]]
    np.testing.assert_array_equal(loaded.score(images), tiny_model.score(images))
    second = loaded.save(tmp_path / "b")
    for name in ("config.json", "model.safetensors"):
        assert _sha(first / name) == _sha(second / name)
    tiny_model.save(tmp_path / "a")
    assert _sha(first / "model.safetensors") == _sha(second / "model.safetensors")


def test_load_errors(tiny_model, tiny_backbone, tmp_path):
    with pytest.raises(ConfigError):
        QualityModel.load(tmp_path / "nothing", backbone=tiny_backbone)
    folder = tiny_model.save(tmp_path / "m")
    (folder / "model.safetensors").unlink()
    with pytest.raises(WeightsError):
        QualityModel.load(folder, backbone=tiny_backbone)
    other = QualityModel(QualityModelConfig(backbone="tiny", sizes=(96,), hidden=16), backbone=tiny_backbone)
    other.save(tmp_path / "o")
    (folder / "model.safetensors").write_bytes((tmp_path / "o" / "model.safetensors").read_bytes())
    with pytest.raises(WeightsError):
        QualityModel.load(folder, backbone=tiny_backbone)


def test_feature_dim_mismatch_raises(tiny_backbone):
    with pytest.raises(ConfigError):
        QualityModel(QualityModelConfig(backbone="tiny", feature_dim=1280), backbone=tiny_backbone)


# -- training set ------------------------------------------------------------------------------------------

def test_build_training_set_structure(photos):
    pristine = [photos["astronaut"], photos["coffee"]]
    images, targets, pairs = build_training_set(pristine, per_image=2, rng=np.random.default_rng(0),
                                                size=64, per_crop=3)
    per_crop = 1 + 3 * 5
    assert len(images) == len(targets) == 2 * 2 * per_crop
    assert all(im.shape == (64, 64, 3) and im.dtype == np.uint8 for im in images)
    assert np.sum(targets == 1.0) == 4
    np.testing.assert_allclose(np.unique(targets), sorted(level_target(lv) for lv in range(6)), rtol=1e-6)
    assert pairs.shape == (4 * (15 + 3 * 10), 2)
    assert np.all(targets[pairs[:, 0]] > targets[pairs[:, 1]])  # every pair is ordered by level
    assert np.all(pairs[:, 0] // per_crop == pairs[:, 1] // per_crop)  # and within one crop
    again = build_training_set(pristine, per_image=2, rng=np.random.default_rng(0), size=64, per_crop=3)
    for a, b in zip(images, again[0], strict=True):
        np.testing.assert_array_equal(a, b)


def test_build_training_set_draws_crop_sides_up_to_max_size(photos):
    pristine = [photos["astronaut"], photos["coffee"]]
    images, _, _ = build_training_set(pristine, per_image=6, rng=np.random.default_rng(0), size=48,
                                      per_crop=1, max_size=160)
    sides = {im.shape[:2] for im in images}
    assert all(h == w and 48 <= h <= 160 for h, w in sides)
    assert len(sides) > 3  # the side varies from crop to crop
    clean_and_distorted = images[:6]  # one crop: its distortions keep its size
    assert len({im.shape for im in clean_and_distorted}) == 1
    with pytest.raises(ArtlensError, match="max_size"):
        build_training_set(pristine, per_image=1, rng=np.random.default_rng(0), size=64, max_size=32)


def test_native_share_cuts_crops_at_the_photos_own_resolution(photos):
    photo = photos["astronaut"]  # 512 px: a 64 px crop is otherwise cut after a downscale to 64-128 px
    images, _, _ = build_training_set([photo], per_image=4, rng=np.random.default_rng(0), size=64,
                                      per_crop=1, native_share=1.0)
    clean = images[::6]
    windows = np.lib.stride_tricks.sliding_window_view(photo, (64, 64, 3))[..., 0, :, :, :]
    for crop in clean:  # each clean crop is a window of the photo's own pixels
        assert (windows == crop).all(axis=(-3, -2, -1)).any()
    shrunk, _, _ = build_training_set([photo], per_image=4, rng=np.random.default_rng(0), size=64,
                                      per_crop=1)
    assert not any((windows == crop).all(axis=(-3, -2, -1)).any() for crop in shrunk[::6])
    with pytest.raises(ArtlensError, match="native_share"):
        build_training_set([photo], per_image=1, rng=np.random.default_rng(0), size=64, native_share=1.5)


def test_build_training_set_reads_files_and_rejects_bad_ones(photos, tmp_path):
    from PIL import Image

    path = tmp_path / "p.png"
    Image.fromarray(photos["chelsea"]).save(path)
    images, targets, _ = build_training_set([path], per_image=1, rng=np.random.default_rng(1), size=48,
                                            per_crop=1)
    assert len(images) == 6 and targets[0] == 1.0
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ArtlensError):
        build_training_set([bad], per_image=1, rng=np.random.default_rng(1), size=48)


def test_embed_training_set_caches(tiny_model, photos, tmp_path):
    from PIL import Image

    path = tmp_path / "p.png"
    Image.fromarray(photos["coffee"]).save(path)
    cache = tmp_path / "cache" / "feats.npz"
    f1, t1, p1 = embed_training_set(tiny_model, [path], seed=3, per_image=1, size=64, per_crop=2, cache=cache)
    assert cache.is_file() and f1.shape == (11, tiny_model.config.embed_dim) and p1.shape == (10 + 2 * 10, 2)
    stamp = cache.stat().st_mtime_ns
    f2, t2, p2 = embed_training_set(tiny_model, [path], seed=3, per_image=1, size=64, per_crop=2, cache=cache)
    assert cache.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_array_equal(p1, p2)
    images, targets, pairs = build_training_set([path], per_image=1, rng=np.random.default_rng(3), size=64,
                                                per_crop=2)
    np.testing.assert_allclose(f1, tiny_model.embed(images).numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(targets, t1)
    np.testing.assert_array_equal(pairs, p1)


def test_training_set_cache_is_not_reused_after_the_distortion_code_changed(tiny_model, photos, tmp_path,
                                                                           monkeypatch):
    from PIL import Image

    from artlens.iqa.train import distortions, training_set

    path = tmp_path / "p.png"
    Image.fromarray(photos["coffee"]).save(path)
    cache = tmp_path / "feats.npz"
    settings = {"seed": 3, "per_image": 1, "size": 64, "per_crop": 1, "distortions": ["gaussian_blur"],
                "cache": cache}
    before, _, _ = embed_training_set(tiny_model, [path], **settings)

    def no_blur(rgb, level, rng):  # the blur of an older or newer artlens: here, none at all
        return rgb.copy()

    monkeypatch.setattr(training_set, "set_code_digest", lambda: "other code")
    monkeypatch.setitem(distortions.DISTORTIONS, "gaussian_blur", no_blur)
    after, _, _ = embed_training_set(tiny_model, [path], **settings)  # recomputed, not read back
    np.testing.assert_allclose(after, np.repeat(after[:1], len(after), axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(before, after)


@pytest.mark.parametrize(("digest_name", "edited_name"), [("set_code_digest", "level_target"),
                                                        ("descriptor_code_digest", "niqe")])
def test_cache_code_digests_follow_the_source(digest_name, edited_name, monkeypatch):
    import inspect

    from artlens.iqa.train import training_set
    from artlens.screening import niqe

    digest = getattr(training_set, digest_name)
    before = digest()
    digest.cache_clear()
    edited = {"level_target": training_set.level_target, "niqe": niqe}[edited_name]
    real = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda obj: real(obj) + ("# edited" if obj is edited else ""))
    try:
        assert digest() != before
    finally:
        digest.cache_clear()


# -- head training -----------------------------------------------------------------------------------------

def test_train_head_learns_an_ordering_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 20)).astype(np.float32)
    y = (1 / (1 + np.exp(-x[:, 0] + 0.5 * x[:, 1]))).astype(np.float32)
    order = np.argsort(-y)
    pairs = np.stack([order[:-1], order[1:]], axis=1)
    head = train_head(x[:200], y[:200], pairs[np.all(pairs < 200, axis=1)], epochs=60, seed=1)
    with torch.no_grad():
        pred = head(torch.from_numpy(x[200:])).numpy()
    assert np.corrcoef(pred, y[200:])[0, 1] > 0.8
    again = train_head(x[:200], y[:200], pairs[np.all(pairs < 200, axis=1)], epochs=60, seed=1)
    for (k, v), (_, w) in zip(head.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(v, w), k


def test_train_head_rejects_bad_input():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ArtlensError):
        train_head(x, np.zeros(3), [])
    with pytest.raises(ArtlensError):
        train_head(x, np.zeros(4), [(0, 9)])


@needs_weights
@pytest.mark.weights
def test_real_backbone_ranks_held_out_distortions_below_clean(photos, tmp_path):
    from skimage import data

    config = QualityModelConfig(sizes=(160, 96), hidden=64)
    model = QualityModel(config)
    pristine = [photos["astronaut"], photos["coffee"], photos["rocket"], photos["chelsea"],
                data.immunohistochemistry(), data.hubble_deep_field()]
    names = ["gaussian_blur", "gaussian_noise", "jpeg", "pixelate", "motion_blur", "impulse_noise"]
    # held out: other crops of the photos, other distortion draws (new photos need far more training data)
    tr_images, tr_targets, tr_pairs = build_training_set(
        pristine, per_image=2, rng=np.random.default_rng(0), size=160, per_crop=3, distortions=names)
    te_images, te_targets, te_pairs = build_training_set(
        pristine, per_image=1, rng=np.random.default_rng(1), size=160, per_crop=3, distortions=names)
    head = train_head(model.embed(tr_images), tr_targets, tr_pairs, epochs=80, seed=0, hidden=64)
    trained = QualityModel(config, head, model.backbone)
    scores = trained.score(te_images)
    assert np.all((scores >= 0) & (scores <= 100))
    clean = te_targets == 1.0
    clean_pairs = te_pairs[clean[te_pairs[:, 0]]]
    accuracy = np.mean(scores[clean_pairs[:, 0]] > scores[clean_pairs[:, 1]])
    assert accuracy > 0.75, accuracy  # chance is 0.5
    # the trained model survives a save/load round trip
    loaded = QualityModel.load(trained.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.score(te_images[:3]), scores[:3], rtol=1e-5)


# -- descriptor head (late fusion) -------------------------------------------------------------------------

def _fused(tiny_backbone, weight: float = 2.0, names: tuple[str, ...] | None = None) -> QualityModel:
    from artlens.iqa.descriptors import DESCRIPTOR_NAMES

    names = DESCRIPTOR_NAMES if names is None else names
    config = QualityModelConfig(backbone="tiny", sizes=(96,), hidden=16, descriptors=names,
                                fusion=(0.1, 2.0, -0.3, 0.5, weight))
    torch.manual_seed(1)
    plain = QualityModelConfig(backbone="tiny", sizes=(96,), hidden=16)
    head = QualityModel(plain, backbone=tiny_backbone).head
    return QualityModel(config, head=head, backbone=tiny_backbone,
                        descriptor_head=QualityHead(len(names), 16).eval())


def test_descriptor_head_fuses_standardised_outputs(tiny_backbone, photos):
    model = _fused(tiny_backbone)
    images = [photos["coffee"], photos["rocket"], photos["chelsea"]]
    feats, desc = model.embed(images), model.describe(images)
    assert desc.shape == (3, len(model.config.descriptors))
    with torch.inference_mode():
        cnn = model.head(feats).double().numpy()
        d = model.descriptor_head(torch.from_numpy(desc)).double().numpy()
    expected = (cnn - 0.1) / 2.0 + 2.0 * (d + 0.3) / 0.5
    np.testing.assert_allclose(model.raw_scores(feats, desc), expected, rtol=1e-6)
    np.testing.assert_allclose(model.score(images), model.calibrate(expected), rtol=1e-6)
    with pytest.raises(ArtlensError, match="descriptors"):
        model.raw_scores(feats)
    flat = np.full((120, 160, 3), 128, np.uint8)  # BRISQUE and NIQE are undefined: a neutral descriptor
    assert np.isnan(model.describe([flat])).any() and np.isfinite(model.score([flat])).all()


def test_a_model_reads_the_descriptors_it_was_trained_on(tiny_backbone, photos, tmp_path):
    from artlens.iqa.descriptors import DESCRIPTOR_NAMES, describe

    older = DESCRIPTOR_NAMES[:43]  # the layout of models trained before the detail bands were added
    model = _fused(tiny_backbone, names=older)
    images = [photos["coffee"], photos["astronaut"]]
    np.testing.assert_array_equal(model.describe(images), describe(images)[:, :43])
    loaded = QualityModel.load(model.save(tmp_path / "older"), backbone=tiny_backbone)
    assert loaded.config.descriptors == older
    np.testing.assert_array_equal(loaded.score(images), model.score(images))


def test_descriptor_model_round_trips(tiny_backbone, photos, tmp_path):
    model = _fused(tiny_backbone)
    folder = model.save(tmp_path / "fused")
    data = json.loads((folder / "config.json").read_text())
    assert data["descriptors"] == list(model.config.descriptors) and len(data["fusion"]) == 5
    loaded = QualityModel.load(folder, backbone=tiny_backbone)
    assert loaded.config == model.config and loaded.descriptor_head is not None
    images = [photos["coffee"], photos["astronaut"]]
    np.testing.assert_array_equal(loaded.score(images), model.score(images))
    # a CNN-only config keeps its original layout (no descriptor keys) and refuses stray descriptor tensors
    plain = QualityModelConfig(backbone="tiny", sizes=(96,), hidden=16, feature_dim=8)
    (folder / "config.json").write_text(json.dumps(plain.to_dict()))
    assert "descriptors" not in plain.to_dict()
    with pytest.raises(WeightsError, match="descriptor head that its config does not declare"):
        QualityModel.load(folder, backbone=tiny_backbone)


def test_averaged_heads_are_one_head_giving_the_mean_output(tiny_backbone, photos, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 12)).astype(np.float32)
    targets = rng.uniform(size=40)
    members = [train_head(x, targets, [], epochs=3, hidden=8, seed=seed) for seed in range(3)]
    merged = average_heads(members)
    assert merged.net[0].out_features == 24 and not merged.training
    with torch.inference_mode():
        want = torch.stack([h(torch.as_tensor(x)) for h in members]).mean(dim=0)
        torch.testing.assert_close(merged(torch.as_tensor(x)), want, rtol=1e-5, atol=1e-6)
    # a model keeps its averaged descriptor head, wider than config.hidden, through save and load
    model = _fused(tiny_backbone)
    names = model.config.descriptors
    wide = average_heads([QualityHead(len(names), 16).eval() for _ in range(2)])
    model = QualityModel(model.config, head=model.head, backbone=tiny_backbone, descriptor_head=wide)
    loaded = QualityModel.load(model.save(tmp_path / "averaged"), backbone=tiny_backbone)
    assert loaded.descriptor_head.net[0].out_features == 32
    images = [photos["coffee"], photos["chelsea"]]
    np.testing.assert_array_equal(loaded.score(images), model.score(images))


def test_heads_fitted_on_other_features_are_not_averaged():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 5)).astype(np.float32)
    a = train_head(x, rng.uniform(size=20), [], epochs=1, hidden=4)
    b = train_head(x * 2, rng.uniform(size=20), [], epochs=1, hidden=4)
    with pytest.raises(ArtlensError, match="input standardisation"):
        average_heads([a, b])
    with pytest.raises(ArtlensError, match="at least one"):
        average_heads([])


@pytest.mark.parametrize("kwargs", [
    {"fusion": (0.0, 1.0, 0.0, 1.0, 1.0)},  # fusion without descriptors
    {"descriptors": ("brisque_00", "sharpness"), "fusion": (0.0, 1.0, 0.0, 1.0, 1.0)},  # unknown name
    {"descriptors": ("niqe", "niqe"), "fusion": (0.0, 1.0, 0.0, 1.0, 1.0)},  # repeated name
    {"descriptors": "DEFAULT", "fusion": (0.0, 0.0, 0.0, 1.0, 1.0)},  # zero scale
    {"descriptors": "DEFAULT", "fusion": (0.0, 1.0)},  # too short
])
def test_invalid_descriptor_config_raises(kwargs):
    from artlens.iqa.descriptors import DESCRIPTOR_NAMES

    if kwargs.get("descriptors") == "DEFAULT":
        kwargs = {**kwargs, "descriptors": DESCRIPTOR_NAMES}
    with pytest.raises(ConfigError):
        QualityModelConfig(**kwargs)


def test_describe_training_set_matches_the_embedded_images_and_caches(photos, tmp_path):
    from PIL import Image

    from artlens.iqa.descriptors import describe
    from artlens.iqa.train.training_set import describe_training_set

    path = tmp_path / "p.png"
    Image.fromarray(photos["chelsea"]).save(path)
    cache = tmp_path / "d.npz"
    d1 = describe_training_set([path], seed=2, per_image=1, size=128, per_crop=2, cache=cache)
    stamp = cache.stat().st_mtime_ns
    d2 = describe_training_set([path], seed=2, per_image=1, size=128, per_crop=2, cache=cache)
    assert cache.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(d1, d2)
    images, _, _ = build_training_set([path], per_image=1, rng=np.random.default_rng(2), size=128, per_crop=2)
    np.testing.assert_allclose(d1, describe(images), rtol=1e-6)
