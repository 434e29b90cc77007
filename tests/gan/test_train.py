"""Training: a tiny GAN learns shapes, resumes bit-identically, keeps budgets, and refuses bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from PIL import Image

from artlens.errors import ConfigError
from artlens.gan import GanModel, GanTrainSettings, kernel_inception_distance, train_gan
from artlens.gan.errors import GanDataError
from artlens.gan.sample import as_array, generate
from artlens.training import CheckpointError

from .conftest import shapes

TINY = GanTrainSettings(arch="fastgan", size=32, width=8, z_dim=32, batch_size=16, tick=10, seed=3)


def _pixels(images: np.ndarray) -> np.ndarray:
    """Cheap features for tests: 8x8 colour thumbnails."""
    t = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    return torch.nn.functional.adaptive_avg_pool2d(t, 8).flatten(1).numpy()


def _digest(folder) -> str:
    return hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()


@pytest.mark.slow
def test_a_tiny_gan_moves_towards_the_shapes(tmp_path):
    real = shapes(64, 32, seed=1)
    events = []
    before = train_gan("shapes", tmp_path / "a", settings=TINY, kimg=0.016, images=real,
                       progress=events.append)
    kid_before = kernel_inception_distance(_pixels(real), _pixels(as_array(generate(before.model, 64))),
                                           subsets=20, subset_size=64).kid
    after = train_gan("shapes", tmp_path / "a", settings=TINY, kimg=1.6, images=real, resume=True,
                      progress=events.append)
    kid_after = kernel_inception_distance(_pixels(real), _pixels(as_array(generate(after.model, 64))),
                                          subsets=20, subset_size=64).kid
    assert kid_after < 0.8 * kid_before
    g = [e.metrics["g_loss"] for e in events if e.stage == "gan"]
    d = [e.metrics["d_loss"] for e in events if e.stage == "gan"]
    assert np.isfinite(g).all() and np.isfinite(d).all()
    # the discriminator learns to tell the shapes from the first samples: its loss falls from the start
    assert np.mean(d[-20:]) < np.mean(d[:3])
    assert after.steps == 100 and (tmp_path / "a" / "samples").is_dir()


@pytest.mark.parametrize(("arch", "discriminator"),
                         [("fastgan", None), ("dcgan", None), ("fastgan", "projected")])
def test_resume_continues_bit_identically(tmp_path, arch, discriminator):
    real = shapes(24, 32)
    settings = GanTrainSettings(**{**TINY.__dict__, "arch": arch, "width": 8, "tick": 3, "batch_size": 8,
                                   "discriminator": discriminator})
    whole = train_gan("shapes", tmp_path / "whole", settings=settings, kimg=0.048, images=real)
    train_gan("shapes", tmp_path / "part", settings=settings, kimg=0.024, images=real)
    resumed = train_gan("shapes", tmp_path / "part", settings=settings, kimg=0.048, images=real, resume=True)
    assert whole.steps == resumed.steps == 6
    assert _digest(tmp_path / "whole") == _digest(tmp_path / "part")


def test_resume_refuses_other_settings(tmp_path):
    real = shapes(16, 32)
    small = GanTrainSettings(**{**TINY.__dict__, "tick": 2, "batch_size": 8})
    train_gan("shapes", tmp_path, settings=small, kimg=0.016, images=real)
    other = GanTrainSettings(**{**small.__dict__, "lr": 1e-3})
    with pytest.raises(CheckpointError, match="other data or settings"):
        train_gan("shapes", tmp_path, settings=other, kimg=0.032, images=real, resume=True)


def test_the_model_folder_holds_the_ema_generator(tmp_path):
    real = shapes(16, 32)
    run = train_gan("shapes", tmp_path, settings=GanTrainSettings(**{**TINY.__dict__, "tick": 2}), kimg=0.032,
                    images=real)
    loaded = GanModel.load(tmp_path)
    assert loaded.config.training["steps"] == run.steps == 2
    assert set(loaded.generator.state_dict()) == set(run.model.generator.state_dict())
    assert not any(k.startswith("discriminator") for k in loaded.generator.state_dict())


def test_bad_files_are_skipped_with_a_message(tmp_path, shapes_folder):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i, arr in enumerate(shapes(6, 32)):
        Image.fromarray(arr).save(folder / f"ok{i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (folder / "notes.jpg").write_text("hello")
    seen = []
    run = train_gan(folder, tmp_path / "out", settings=GanTrainSettings(**{**TINY.__dict__, "tick": 1}),
                    kimg=0.016, on_error=seen.append)
    assert sorted(str(e).split(":")[0].rsplit("/", 1)[-1] for e in seen) == ["broken.png", "notes.jpg"]
    assert all("\n" not in str(e) for e in seen)
    assert run.model.config.training["images"] == 6


def test_too_few_images_and_no_budget_are_errors(tmp_path):
    (tmp_path / "one").mkdir()
    Image.fromarray(shapes(1, 32)[0]).save(tmp_path / "one" / "a.png")
    with pytest.raises(GanDataError, match="1 readable image"):
        train_gan(tmp_path / "one", tmp_path / "out", settings=TINY, kimg=1)
    with pytest.raises(ConfigError, match="budget"):
        train_gan(tmp_path / "one", tmp_path / "out", settings=TINY)
    with pytest.raises(ConfigError, match="size"):
        train_gan("x", tmp_path / "out", settings=GanTrainSettings(size=48), kimg=1, images=shapes(4, 48))


def test_a_minutes_budget_stops_the_run(tmp_path):
    run = train_gan("shapes", tmp_path, settings=GanTrainSettings(**{**TINY.__dict__, "tick": 1}),
                    minutes=1e-6, images=shapes(8, 32))
    assert run.steps == 1
