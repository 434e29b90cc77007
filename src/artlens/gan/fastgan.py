"""FastGAN's networks, at light widths for CPUs.

The generator up-samples a 4x4 map from the latent vector with GLU blocks (noise injection in every other
block) and skip-layer excitation: a 4x4 map re-weights the channels of a map 16 times larger (SLE). The
discriminator is trained also as a self-supervised auto-encoder: small decoders reconstruct the real image
and one random quadrant from its 4x4 and 8x8 maps, which keeps its features informative on a few hundred
images. The reconstruction loss is L1 here (the paper uses a perceptual one, whose weights are not shipped).

References
----------
.. [1] B. Liu, Y. Zhu, K. Song and A. Elgammal, "Towards Faster and Stabilized GAN Training for
   High-fidelity Few-shot Image Synthesis", ICLR 2021.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

__all__ = ["FastGanDiscriminator", "FastGanGenerator"]


def _sn_conv(cin: int, cout: int, k: int, s: int = 1, p: int = 0, bias: bool = False) -> nn.Module:
    return spectral_norm(nn.Conv2d(cin, cout, k, s, p, bias=bias))


class _NoiseInjection(nn.Module):
    """Per-pixel noise scaled by a learnt weight (zero at first)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        return x + self.weight * torch.randn(b, 1, h, w, device=x.device, dtype=x.dtype)


def _up(cin: int, cout: int, noise: bool) -> nn.Sequential:
    """Nearest up-sampling, then one (or, with noise, two) 3x3 convolution + batch norm + GLU."""
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest"), _sn_conv(cin, cout * 2, 3, 1, 1)]
    if noise:
        layers.append(_NoiseInjection())
    layers += [nn.BatchNorm2d(cout * 2), nn.GLU(dim=1)]
    if noise:
        layers += [_sn_conv(cout, cout * 2, 3, 1, 1), _NoiseInjection(), nn.BatchNorm2d(cout * 2),
                   nn.GLU(dim=1)]
    return nn.Sequential(*layers)


class _SkipExcitation(nn.Module):
    """Skip-layer excitation: channel weights from a small map multiply a large one."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.main = nn.Sequential(nn.AdaptiveAvgPool2d(4), _sn_conv(cin, cout, 4), nn.SiLU(),
                                  _sn_conv(cout, cout, 1), nn.Sigmoid())

    def forward(self, small: torch.Tensor, big: torch.Tensor) -> torch.Tensor:
        return big * self.main(small)


def _widths(width: int, size: int) -> dict[int, int]:
    mult = {4: 16, 8: 8, 16: 4, 32: 2, 64: 1, 128: 0.5, 256: 0.25}
    return {r: max(8, int(m * width)) for r, m in mult.items() if r <= size}


class FastGanGenerator(nn.Module):
    """Latent (N, z_dim) to images (N, 3, size, size) in [-1, 1]."""

    def __init__(self, z_dim: int = 128, width: int = 16, size: int = 64) -> None:
        super().__init__()
        self.z_dim, self.size = z_dim, size
        ch = _widths(width, size)
        self.init = nn.Sequential(spectral_norm(nn.ConvTranspose2d(z_dim, ch[4] * 2, 4, 1, 0, bias=False)),
                                  nn.BatchNorm2d(ch[4] * 2), nn.GLU(dim=1))
        self.ups = nn.ModuleList()
        res = 4
        while res < size:
            self.ups.append(_up(ch[res], ch[res * 2], noise=(int(math.log2(res)) % 2 == 0)))
            res *= 2
        # SLE from the map at size/16 (at least 4x4) into the maps of 32 px and more.
        self.sle = nn.ModuleDict({str(r): _SkipExcitation(ch[max(4, r // 16)], ch[r])
                                  for r in (32, 64, 128, 256) if r <= size and r >= 32})
        self.to_rgb = _sn_conv(ch[size], 3, 3, 1, 1, bias=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.init(z.view(z.shape[0], -1, 1, 1))
        maps = {4: x}
        res = 4
        for up in self.ups:
            x = up(x)
            res *= 2
            if str(res) in self.sle:
                x = self.sle[str(res)](maps[max(4, res // 16)], x)
            maps[res] = x
        return torch.tanh(self.to_rgb(x))


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(_sn_conv(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


def _decoder(cin: int, steps: int, width: int) -> nn.Sequential:
    """A small decoder: ``steps`` nearest up-samplings (``width`` channels) from a map to an RGB image."""
    layers: list[nn.Module] = []
    c = cin
    for _ in range(steps):
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), _sn_conv(c, width * 2, 3, 1, 1),
                   nn.BatchNorm2d(width * 2), nn.GLU(dim=1)]
        c = width
    layers += [_sn_conv(c, 3, 3, 1, 1, bias=True), nn.Tanh()]
    return nn.Sequential(*layers)


class FastGanDiscriminator(nn.Module):
    """Images to a map of real/fake logits, with reconstruction decoders on the real images."""

    def __init__(self, width: int = 16, size: int = 64) -> None:
        super().__init__()
        self.size = size
        ch = _widths(width, size)
        layers: list[nn.Module] = [_sn_conv(3, ch[size // 2], 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        res = size // 2
        while res > 8:
            layers.append(_down(ch[res], ch[res // 2]))
            res //= 2
        self.to8 = nn.Sequential(*layers)
        self.to4 = _down(ch[8], ch[4])
        self.logits = nn.Sequential(_sn_conv(ch[4], ch[4], 1), nn.BatchNorm2d(ch[4]),
                                    nn.LeakyReLU(0.2, inplace=True), _sn_conv(ch[4], 1, 4, 1, 0, bias=True))
        self.recon_side = min(size, 32)
        steps = int(math.log2(self.recon_side // 4))
        self.decode_all = _decoder(ch[4], steps, width)
        self.decode_part = _decoder(ch[8], steps, width)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f8 = self.to8(x)
        return f8, self.to4(f8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(self.features(x)[1]).flatten(1)

    def forward_recon(self, x: torch.Tensor, part: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and the L1 reconstruction loss of the whole image and of quadrant ``part`` (0-3)."""
        f8, f4 = self.features(x)
        logits = self.logits(f4).flatten(1)
        side = self.recon_side
        whole = F.interpolate(x, size=(side, side), mode="area")
        rows, cols = divmod(part, 2)
        q = f8[:, :, rows * 4:rows * 4 + 4, cols * 4:cols * 4 + 4]
        half = x.shape[-1] // 2
        crop = x[:, :, rows * half:(rows + 1) * half, cols * half:(cols + 1) * half]
        crop = F.interpolate(crop, size=(side, side), mode="area") if crop.shape[-1] != side else crop
        recon = F.l1_loss(self.decode_all(f4), whole) + F.l1_loss(self.decode_part(q), crop)
        return logits, recon
