"""DiffAugment: the same differentiable augmentations on real and generated images before the
discriminator, so it cannot memorise a small training set and the generator still gets gradients.

Colour (brightness, saturation, contrast), translation by up to 1/8 of the side (zero padding) and cutout
of a square half the side, each drawn per image, as in the reference code.

References
----------
.. [1] S. Zhao, Z. Liu, J. Lin, J.-Y. Zhu and S. Han, "Differentiable Augmentation for Data-Efficient GAN
   Training", NeurIPS 2020.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["diff_augment"]


def _rand(n: int, gen: torch.Generator | None, device: torch.device, *shape: int) -> torch.Tensor:
    return torch.rand(n, *shape, generator=gen).to(device)


def _colour(x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    n, dev = x.shape[0], x.device
    x = x + (_rand(n, gen, dev, 1, 1, 1) - 0.5).to(x.dtype)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, gen, dev, 1, 1, 1) * 2).to(x.dtype) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, gen, dev, 1, 1, 1) + 0.5).to(x.dtype) + mean


def _translation(x: torch.Tensor, gen: torch.Generator | None, ratio: float = 0.125) -> torch.Tensor:
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen).to(x.device)
    ty = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen).to(x.device)
    bi, gx, gy = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    return padded.permute(0, 2, 3, 1)[bi, gx, gy].permute(0, 3, 1, 2).contiguous(
        memory_format=torch.channels_last)


def _cutout(x: torch.Tensor, gen: torch.Generator | None, ratio: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen).to(x.device)
    oy = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen).to(x.device)
    gx = torch.arange(h, device=x.device).view(1, h, 1)
    gy = torch.arange(w, device=x.device).view(1, 1, w)
    rx, ry = gx - ox + ch // 2, gy - oy + cw // 2
    inside = (rx >= 0) & (rx < ch) & (ry >= 0) & (ry < cw)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Colour, translation and cutout, drawn per image from ``generator`` (a CPU generator)."""
    return _cutout(_translation(_colour(x, generator), generator), generator)
