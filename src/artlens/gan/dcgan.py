"""DCGAN, the baseline: the all-convolutional generator and discriminator most tutorials train.

Transposed 4x4 convolutions with batch norm and ReLU up from a 1x1 latent; strided 4x4 convolutions with
batch norm and leaky ReLU down to one logit; no augmentation, the non-saturating (cross-entropy) loss.

References
----------
.. [1] A. Radford, L. Metz and S. Chintala, "Unsupervised Representation Learning with Deep Convolutional
   Generative Adversarial Networks", ICLR 2016.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["DcganDiscriminator", "DcganGenerator"]


class DcganGenerator(nn.Module):
    """Latent (N, z_dim) to images (N, 3, size, size) in [-1, 1]."""

    def __init__(self, z_dim: int = 100, width: int = 64, size: int = 64) -> None:
        super().__init__()
        self.z_dim, self.size = z_dim, size
        steps = int(math.log2(size)) - 3  # 4x4 -> size
        c = width * 2 ** steps
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, c, 4, 1, 0, bias=False), nn.BatchNorm2d(c),
                                   nn.ReLU(True)]
        for _ in range(steps):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2),
                       nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.shape[0], -1, 1, 1))


class DcganDiscriminator(nn.Module):
    """Images to one real/fake logit each."""

    def __init__(self, width: int = 64, size: int = 64) -> None:
        super().__init__()
        steps = int(math.log2(size)) - 3
        c = width
        layers: list[nn.Module] = [nn.Conv2d(3, c, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for _ in range(steps):
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2),
                       nn.LeakyReLU(0.2, True)]
            c *= 2
        layers.append(nn.Conv2d(c, 1, 4, 1, 0, bias=False))
        self.main = nn.Sequential(*layers)
        self.apply(_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten(1)


def _init(module: nn.Module) -> None:
    """DCGAN's initialisation: N(0, 0.02) weights, batch-norm scales N(1, 0.02)."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
