"""Sampling a trained generator: images, grids and latent walks.

The truncation trick draws each latent coordinate from a normal distribution cut at ``±truncation``
(values outside are drawn again), trading variety for fidelity.

References
----------
.. [1] A. Brock, J. Donahue and K. Simonyan, "Large Scale GAN Training for High Fidelity Natural Image
   Synthesis", ICLR 2019 (the truncation trick).
.. [2] T. White, "Sampling Generative Networks", arXiv:1609.04468, 2016 (spherical interpolation).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from artlens.errors import ConfigError
from artlens.gan.model import GanModel
from artlens.seeding import seeded

__all__ = ["generate", "grid", "interpolate", "latents", "save_walk", "to_pil"]


def latents(n: int, z_dim: int, *, seed: int = 0, truncation: float | None = None) -> torch.Tensor:
    """``n`` latent vectors from ``seed``; with ``truncation`` (> 0) each coordinate lies in its bounds."""
    if n < 0:
        raise ConfigError(f"the number of images must be 0 or more, not {n}")
    gen = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, z_dim, generator=gen)
    if truncation is not None:
        if not truncation > 0:
            raise ConfigError(f"truncation must be positive, not {truncation}")
        for _ in range(1000):
            outside = z.abs() > truncation
            if not outside.any():
                break
            z[outside] = torch.randn(int(outside.sum()), generator=gen)
    return z


def to_pil(images: torch.Tensor) -> list[Image.Image]:
    """Generator outputs in [-1, 1], (N, 3, H, W), as RGB PIL images."""
    arr = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return [Image.fromarray(a.permute(1, 2, 0).cpu().numpy()) for a in arr]


def _run(model: GanModel, z: torch.Tensor, seed: int, batch_size: int = 64) -> list[Image.Image]:
    """The generator's images of latents ``z``; its per-pixel noise is drawn from ``seed`` too."""
    net = model.generator.eval()
    device = next(net.parameters()).device
    out: list[Image.Image] = []
    with torch.inference_mode(), seeded(seed):
        for i in range(0, len(z), batch_size):
            out += to_pil(net(z[i:i + batch_size].to(device)))
    return out


def generate(model: GanModel | str | os.PathLike[str], n: int = 16, *, seed: int = 0,
             truncation: float | None = None) -> list[Image.Image]:
    """``n`` new images from a model (a :class:`GanModel` or its folder), repeatable by ``seed``."""
    gan = model if isinstance(model, GanModel) else GanModel.load(model)
    return _run(gan, latents(n, gan.config.z_dim, seed=seed, truncation=truncation), seed)


def _slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    cos = float(torch.dot(a, b) / (a.norm() * b.norm()).clamp_min(1e-8))
    omega = math.acos(max(-1.0, min(1.0, cos)))
    if omega < 1e-4:
        return (1 - t) * a + t * b
    return (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)


def interpolate(model: GanModel | str | os.PathLike[str], frames: int = 8, *, seed: int = 0,
                keys: int = 2, truncation: float | None = None) -> list[Image.Image]:
    """A latent walk: ``frames`` images between each of ``keys`` random latents (spherical interpolation)."""
    if frames < 2 or keys < 2:
        raise ConfigError(f"a walk needs at least 2 frames and 2 keys, not {frames} and {keys}")
    gan = model if isinstance(model, GanModel) else GanModel.load(model)
    ends = latents(keys, gan.config.z_dim, seed=seed, truncation=truncation)
    path = [_slerp(ends[k], ends[k + 1], i / (frames - 1)) for k in range(keys - 1)
            for i in range(frames if k == keys - 2 else frames - 1)]
    return _run(gan, torch.stack(path), seed)


def grid(images: list[Image.Image], columns: int | None = None, pad: int = 2) -> Image.Image:
    """Images side by side in rows of ``columns`` (default: a near-square grid) on white."""
    if not images:
        raise ConfigError("no image to put in a grid")
    cols = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    w, h = images[0].size
    sheet = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + pad) + pad), "white")
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        sheet.paste(im, (pad + c * (w + pad), pad + r * (h + pad)))
    return sheet


def save_walk(frames: list[Image.Image], path: str | os.PathLike[str]) -> Path:
    """A walk as an animated GIF (``.gif``, there and back) or a one-row strip (any other image suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        loop = frames + frames[-2:0:-1]
        loop[0].save(path, save_all=True, append_images=loop[1:], duration=120, loop=0)
    else:
        grid(frames, columns=len(frames)).save(path)
    return path


def as_array(images: list[Image.Image]) -> np.ndarray:
    """PIL images as an (N, H, W, 3) uint8 array."""
    return np.stack([np.asarray(im.convert("RGB")) for im in images])
