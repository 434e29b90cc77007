"""Training a GAN on a folder of images, on the shared loop of :mod:`artlens.training`.

Each step draws a batch (random horizontal flips), updates the discriminator on real and generated images,
then the generator against the updated discriminator, and folds the generator into its moving average (EMA,
with a warm-up), which is what the model folder keeps. FastGAN (the default) uses the hinge loss, DiffAugment
on both real and fake images and the discriminator's reconstruction loss; DCGAN, the baseline, the cross-
entropy loss and no augmentation. :func:`artlens.training.fit` runs the steps in ticks of ``tick`` steps:
after each tick a sample grid is written and a checkpoint from which ``resume`` continues bit-identically
(both networks, the optimiser, the EMA, every random generator, the step count); a budget in images (``kimg``)
or in training minutes ends the run, and a resumed run may be given a larger one.

References
----------
.. [1] B. Liu, Y. Zhu, K. Song and A. Elgammal, "Towards Faster and Stabilized GAN Training for
   High-fidelity Few-shot Image Synthesis", ICLR 2021.
.. [2] S. Zhao, Z. Liu, J. Lin, J.-Y. Zhu and S. Han, "Differentiable Augmentation for Data-Efficient GAN
   Training", NeurIPS 2020.
.. [3] J. H. Lim and J. C. Ye, "Geometric GAN", arXiv:1705.02894, 2017 (the hinge loss).
.. [4] T. Karras, T. Aila, S. Laine and J. Lehtinen, "Progressive Growing of GANs", ICLR 2018 (generator EMA).
.. [5] A. Sauer, K. Chitta, J. Müller and A. Geiger, "Projected GANs Converge Faster", NeurIPS 2021 (the
   ``discriminator="projected"`` option, :mod:`artlens.gan.projected`).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from artlens.errors import ConfigError
from artlens.gan.config import GanConfig
from artlens.gan.data import folder_name, load_folder
from artlens.gan.diffaug import diff_augment
from artlens.gan.model import GanModel, build_discriminator, build_generator
from artlens.gan.projected import ProjectedDiscriminator
from artlens.gan.sample import grid, latents, to_pil
from artlens.models.backbones.device import configure_threads, select_device
from artlens.training import (
    EarlyStopping,
    Progress,
    ProgressEvent,
    check_learning_rate,
    fit,
    load_checkpoint,
    make_optimizer,
    report,
)

__all__ = ["CHECKPOINT_FILE", "GanTrainSettings", "TrainedGan", "train_gan"]

CHECKPOINT_FILE = "checkpoint.pt"


@dataclass(frozen=True)
class GanTrainSettings:
    """The recipe of a run (the budget, ``kimg`` or minutes, is given to :func:`train_gan` apart, so that a
    resumed run may extend it)."""

    arch: str = "fastgan"
    size: int = 64
    width: int | None = None  # fastgan 16, dcgan 32
    z_dim: int | None = None  # fastgan 128, dcgan 100
    batch_size: int = 16
    lr: float = 2e-4
    diffaugment: bool | None = None  # fastgan yes, dcgan no
    ema: float | None = None  # fastgan 0.999, dcgan 0 (the plain generator)
    recon_weight: float = 1.0
    discriminator: str | None = None  # None: the arch's own; "projected" (fastgan only): Projected GAN's
    flips: bool = True
    tick: int = 100
    seed: int = 0

    def resolved(self) -> GanTrainSettings:
        """The settings with each arch default filled in, checked."""
        fast = self.arch == "fastgan"
        out = GanTrainSettings(**{**asdict(self),
                                  "width": self.width or (16 if fast else 32),
                                  "z_dim": self.z_dim or (128 if fast else 100),
                                  "diffaugment": fast if self.diffaugment is None else self.diffaugment,
                                  "ema": (0.999 if fast else 0.0) if self.ema is None else self.ema})
        out.config()
        if out.discriminator not in (None, "projected"):
            raise ConfigError(f"discriminator must be 'projected' or left out, not {out.discriminator!r}")
        if out.discriminator == "projected" and out.arch != "fastgan":
            raise ConfigError("the projected discriminator trains the fastgan generator only")
        for name in ("batch_size", "tick"):
            if int(getattr(out, name)) < 1:
                raise ConfigError(f"{name} must be at least 1, not {getattr(out, name)}")
        if not 0.0 <= out.ema < 1.0:
            raise ConfigError(f"ema must be in [0, 1), not {out.ema}")
        check_learning_rate(out.lr)
        return out

    def config(self) -> GanConfig:
        return GanConfig(arch=self.arch, size=self.size, z_dim=int(self.z_dim or 0),
                         width=int(self.width or 0)).check()


@dataclass
class TrainedGan:
    """What a run made: the model (EMA generator), its folder and figures."""

    model: GanModel
    folder: Path
    steps: int
    kimg: float
    train_seconds: float
    images_per_second: float
    cpu_seconds_per_image: float
    history: list[dict[str, Any]] = field(default_factory=list)


class _Pair(nn.Module):
    """Generator and discriminator as one module, so the shared loop checkpoints both."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module) -> None:
        super().__init__()
        self.generator, self.discriminator = generator, discriminator


class _GeneratorEma(nn.Module):
    """An exponential moving average of the generator's weights (buffers copied as they are), with a warm-up:
    after ``n`` updates the decay is ``min(decay, (1 + n) / (10 + n))``, so that a short run's average is not
    dominated by the random initial weights (the rule of TensorFlow's ``ExponentialMovingAverage``)."""

    def __init__(self, generator: nn.Module, decay: float) -> None:
        super().__init__()
        self.module = copy.deepcopy(generator).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update_parameters(self, pair: _Pair) -> None:
        n = int(self.updates)
        decay = min(self.decay, (1 + n) / (10 + n))
        self.updates += 1
        for avg, new in zip(self.module.parameters(), pair.generator.parameters(), strict=True):
            avg.lerp_(new.detach(), 1.0 - decay)
        for avg, new in zip(self.module.buffers(), pair.generator.buffers(), strict=True):
            avg.copy_(new)


class _Budget(EarlyStopping):
    """Never judges an epoch worse (the last state is kept); stops once ``minutes`` of training are spent,
    counted over resumed runs too."""

    def __init__(self, minutes: float | None) -> None:
        super().__init__(None, mode="max")
        self.limit = None if minutes is None else 60.0 * minutes
        self.elapsed, self._mark = 0.0, time.perf_counter()

    def update(self, value: Any) -> bool:
        now = time.perf_counter()
        self.elapsed += now - self._mark
        self._mark = now
        return True

    @property
    def should_stop(self) -> bool:
        return self.limit is not None and self.elapsed >= self.limit

    def state_dict(self) -> dict[str, Any]:
        return {"elapsed": self.elapsed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.elapsed, self._mark = float(state["elapsed"]), time.perf_counter()


def _fingerprint(digest: str, settings: GanTrainSettings) -> str:
    """What a checkpoint must match to be resumed: the images and the recipe (a ``discriminator`` left at
    None is left out, so checkpoints from before that setting existed still resume)."""
    recipe = {k: v for k, v in asdict(settings).items() if not (k == "discriminator" and v is None)}
    return hashlib.sha256((digest + json.dumps(recipe, sort_keys=True)).encode()).hexdigest()


def train_gan(source: str | os.PathLike[str], out: str | os.PathLike[str], *,
              settings: GanTrainSettings | None = None, kimg: float | None = None,
              minutes: float | None = None, resume: bool = False, device: str | None = None,
              images: np.ndarray | None = None, max_pixels: int | None = None,
              progress: Progress | None = None, on_error: Any = None) -> TrainedGan:
    """Train a GAN on the images under ``source`` and save it in ``out``.

    Parameters
    ----------
    source
        A folder of images (read through :mod:`artlens.imageio`; unreadable files reported and skipped).
    out
        Receives ``config.json`` and ``model.safetensors`` (the EMA generator), ``checkpoint.pt`` and
        ``samples/step-NNNNNN.png`` after every tick.
    settings
        The recipe (:class:`GanTrainSettings`).
    kimg, minutes
        The budget: thousands of real images shown, and/or minutes of training (whichever ends first;
        counted over resumed runs too). At least one is needed.
    resume
        Continue from ``out/checkpoint.pt`` exactly (same data and settings).
    images
        The training images already loaded, (N, size, size, 3) uint8 (then ``source`` only names them).
    max_pixels
        Larger image files are skipped (default: :data:`artlens.imageio.DEFAULT_MAX_PIXELS`).
    progress
        Receives ``read`` events, ``gan`` events per step (``d_loss``, ``g_loss``, ``images_per_s``,
        ``kimg``) and ``tick`` events per tick. A minutes budget is checked after each tick.
    """
    settings = (settings or GanTrainSettings()).resolved()
    if kimg is None and minutes is None:
        raise ConfigError("give a training budget: kimg (thousands of images) or minutes")
    if (kimg is not None and not kimg > 0) or (minutes is not None and not minutes > 0):
        raise ConfigError(f"the budget must be positive (kimg={kimg}, minutes={minutes})")
    config = settings.config()
    if images is None:
        images, digest = load_folder(source, config.size, max_pixels=max_pixels, on_error=on_error,
                                     progress=progress)
    else:
        digest = hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()
    dev = select_device(device)
    if dev.type == "cpu":
        configure_threads()
    out = Path(out)
    fingerprint = _fingerprint(digest, settings)
    state = load_checkpoint(out / CHECKPOINT_FILE, fingerprint=fingerprint) if resume else None

    torch.manual_seed(settings.seed)
    fmt = torch.channels_last
    projected = settings.discriminator == "projected"
    generator = build_generator(config)  # first: the seed draws the generator's weights, then the critic's
    critic = ProjectedDiscriminator(config.size, device=dev, seed=settings.seed) if projected \
        else build_discriminator(config)
    pair = _Pair(generator, critic).to(dev, memory_format=fmt)
    G, D = pair.generator, pair.discriminator
    ema = _GeneratorEma(G, settings.ema)
    optimizer = make_optimizer([{"params": list(G.parameters())}, {"params": list(D.parameters())}],
                               lr=settings.lr, name="adam", betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(settings.seed)
    data = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
    B = settings.batch_size
    total_steps = math.ceil(kimg * 1000 / B) if kimg is not None else None
    done = {"steps": int(state["step"]) if state else 0, "epochs": int(state["epoch"]) if state else 0}
    done["current"] = done["steps"]
    left = None if total_steps is None else max(0, total_steps - done["steps"])
    epochs = done["epochs"] + (math.ceil(left / settings.tick) if left is not None else 10 ** 9)
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else contextlib.nullcontext()
    augment = diff_augment if settings.diffaugment else (lambda x, generator=None: x)
    fixed_z = latents(min(64, max(16, B)), config.z_dim, seed=settings.seed)
    run = {"images": 0, "t0": None, "cpu0": None, "d": 0.0, "g": 0.0}

    def batches(epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        n = settings.tick if total_steps is None else min(settings.tick, total_steps - done["steps"])
        done["steps"] += n
        return [(torch.randint(0, len(data), (B,), generator=gen), torch.rand(B, generator=gen) < 0.5)
                for _ in range(n)]

    def step(batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        if run["t0"] is None:
            run["t0"], run["cpu0"] = time.perf_counter(), time.process_time()
        idx, flip = batch
        real = data[idx].to(dev).float().div_(127.5).sub_(1.0)
        if settings.flips:
            real = torch.where(flip.to(dev).view(-1, 1, 1, 1), real.flip(3), real)
        real = real.contiguous(memory_format=fmt)
        z = torch.randn(B, config.z_dim, generator=gen).to(dev)
        D.requires_grad_(True)
        with amp:
            fake = G(z)
            if config.arch == "fastgan" and not projected:
                part = int(torch.randint(0, 4, (1,), generator=gen))
                logits_real, recon = D.forward_recon(augment(real, generator=gen), part)
                logits_fake = D(augment(fake.detach(), generator=gen))
                d_loss = F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean() \
                    + settings.recon_weight * recon
            else:
                logits_real = D(augment(real, generator=gen))
                logits_fake = D(augment(fake.detach(), generator=gen))
                d_loss = F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean() if projected else \
                    F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real)) \
                    + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake))
        optimizer.zero_grad(set_to_none=True)
        d_loss.float().backward()
        optimizer.step()  # only the discriminator has gradients
        D.requires_grad_(False)
        with amp:
            logits = D(augment(fake, generator=gen))
            g_loss = -logits.mean() if config.arch == "fastgan" else \
                F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        run["images"] += B
        run["d"], run["g"] = float(d_loss.detach()), float(g_loss.detach())
        seconds = time.perf_counter() - run["t0"]
        done["current"] += 1
        report(progress, "gan", done["current"], total_steps,
               {"d_loss": run["d"], "g_loss": run["g"], "kimg": done["current"] * B / 1000,
                "images_per_s": run["images"] / seconds if seconds > 0 else float("nan")})
        return g_loss.float()

    def validate() -> dict[str, float]:
        samples = to_pil(ema.module(fixed_z.to(dev)).float())
        path = out / "samples" / f"step-{done['steps']:07d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        grid(samples).save(path)
        return {"kimg": done["steps"] * B / 1000, "d_loss": run["d"], "g_loss": run["g"]}

    def save_state(saved: dict[str, Any]) -> None:
        from artlens.training import save_checkpoint

        save_checkpoint(out / CHECKPOINT_FILE, saved, fingerprint=fingerprint)

    def ticks(event: ProgressEvent) -> None:
        """The loop's epochs are ticks here; its per-step events repeat the ``gan`` ones and are dropped."""
        if event.stage == "epoch":
            shown = {k: v for k, v in event.metrics.items() if k in ("kimg", "d_loss", "g_loss")}
            report(progress, "tick", event.done, None if total_steps is None else event.total, shown)

    budget = _Budget(minutes)
    result = fit(pair, optimizer, batches, step, epochs=epochs, validate=validate, monitor="kimg",
                 stopping=budget, train_modules=[G, D], ema=ema, generators={"gan": gen},
                 checkpoint=save_state, resume=state, progress=ticks if progress is not None else None)
    steps = done["current"]
    wall = time.perf_counter() - run["t0"] if run["t0"] is not None else 0.0
    cpu = time.process_time() - run["cpu0"] if run["cpu0"] is not None else 0.0
    ips = run["images"] / wall if wall > 0 else float("nan")
    cpi = cpu / run["images"] if run["images"] else float("nan")
    config.training = {"source": folder_name(source), "images": len(data), "settings": asdict(settings),
                       "steps": steps, "kimg": round(steps * B / 1000, 3),
                       "train_seconds": round(budget.elapsed, 1), "device": str(dev),
                       "images_per_second": round(ips, 2)}
    model = GanModel(config, ema.module.eval(), out)
    model.save(out)
    return TrainedGan(model, out, steps, steps * B / 1000, budget.elapsed, ips, cpi, result.history)
