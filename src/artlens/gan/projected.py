"""The Projected-GAN discriminator: images judged in the feature space of a frozen pretrained network.

Real and generated images (in [-1, 1], at the training size; above 224 px resized to 224) pass through
the frozen EfficientNet-Lite0 trunk that artlens ships, and its maps at four depths (the last block
at strides 4, 8, 16 and 32) are mixed by fixed random projections: a 1x1 convolution per depth (cross-channel
mixing) and a random feature pyramid in which each coarser map, projected and up-sampled, is added to the
finer one (cross-scale mixing). A small trained discriminator per depth turns each mixed map into one logit.
Only those small discriminators learn; the trunk and the mixing stay as they were drawn, and gradients reach
the generator through them. Its logits take the hinge loss like FastGAN's; there is no reconstruction loss.

Judged by features of an ImageNet network, such a GAN can look better to scores computed on ImageNet
features than it is (Kynkäänniemi et al., ICLR 2023): ``benchmarks/gan.py`` therefore scores every run on a
second network too (MobileNetV2) besides the one this discriminator uses.

References
----------
.. [1] A. Sauer, K. Chitta, J. Müller and A. Geiger, "Projected GANs Converge Faster", NeurIPS 2021.
.. [2] T. Kynkäänniemi, T. Karras, M. Aittala, T. Aila and J. Lehtinen, "The Role of ImageNet Classes in
   Fréchet Inception Distance", ICLR 2023.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from artlens.models.backbones.taps import StageMaps, dry_run, trunk_blocks

__all__ = ["FEATURE_NET", "ProjectedDiscriminator", "feature_stages"]

#: The frozen network whose features the discriminator judges.
FEATURE_NET = "efficientnet_lite0"


def feature_stages(trunk: nn.Module, side: int, depths: int = 4) -> tuple[int, ...]:
    """Blocks of :func:`trunk_blocks` whose maps the discriminator reads: for each of the ``depths`` finest
    output sizes from stride 4 on, the last block of that size (the final 1x1 "head" block left out)."""
    blocks = trunk_blocks(trunk)
    taps = [b[-1] if isinstance(b, nn.ModuleList) else b for b in blocks]
    sizes: dict[int, int] = {}
    dry_run(trunk, taps, lambda i, out: sizes.__setitem__(i, int(out.shape[-1])), side=side)
    last: dict[int, int] = {}
    for i in sorted(sizes)[:-1]:
        if sizes[i] <= side // 4:
            last[sizes[i]] = i
    chosen = sorted(last.items(), reverse=True)[:depths]
    return tuple(sorted(i for _, i in chosen))


class _RandomConv(nn.Module):
    """A convolution with fixed random weights (Kaiming-normal, drawn from ``generator``); the weights are
    a buffer, so no optimiser or ``requires_grad_`` ever trains them, and checkpoints keep them."""

    def __init__(self, cin: int, cout: int, kernel: int, generator: torch.Generator) -> None:
        super().__init__()
        std = math.sqrt(2.0 / (cin * kernel * kernel))
        self.register_buffer("weight", torch.randn(cout, cin, kernel, kernel, generator=generator) * std)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight.to(x.dtype), padding=self.padding)


def _head(cin: int, side: int, width: int) -> nn.Sequential:
    """Strided spectral-normalised convolutions from a ``side`` x ``side`` map to 4 x 4 (or less), then one
    logit."""
    sn = nn.utils.spectral_norm
    layers: list[nn.Module] = []
    c = cin
    while side > 4:
        out = min(width * 2, 256) if c != cin else width
        layers += [sn(nn.Conv2d(c, out, 4, 2, 1, bias=False)), nn.BatchNorm2d(out), nn.LeakyReLU(0.2, True)]
        c, side = out, side // 2
    layers.append(sn(nn.Conv2d(c, 1, min(side, 4), 1, 0)))
    return nn.Sequential(*layers)


class ProjectedDiscriminator(nn.Module):
    """Images in [-1, 1], (N, 3, size, size), to (N, depths) logits on frozen, randomly mixed features.

    Parameters
    ----------
    size
        The training images' side.
    device
        Where the frozen feature network runs (the module itself is moved like any other).
    seed
        Draws the fixed random mixing.
    width
        Channels of the finest mixed map (doubling with depth) and of the heads' first layers.
    """

    def __init__(self, size: int, *, device: torch.device | str = "cpu", seed: int = 0,
                 width: int = 32) -> None:
        super().__init__()
        from artlens.models.backbones import get_backbone

        backbone = get_backbone(FEATURE_NET, device=str(device))
        self.side = min(size, backbone.spec.input_size)  # at twice the size: 4x the CPU time
        stages = feature_stages(backbone.trunk, self.side)
        maps = StageMaps(backbone.trunk, stages)
        # a tuple keeps the shared, frozen network out of this module's parameters and checkpoints
        self._features = (maps,)
        spec = backbone.spec
        self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(spec.std).view(1, 3, 1, 1))
        with torch.no_grad():
            param = next(backbone.trunk.parameters())
            probe = maps(torch.zeros(1, 3, self.side, self.side, device=param.device, dtype=param.dtype))
        sides = [int(m.shape[-1]) for m in probe]
        widths = [width * 2 ** i for i in range(len(stages))]
        gen = torch.Generator().manual_seed(seed)
        self.channel_mix = nn.ModuleList(_RandomConv(c, w, 1, gen) for c, w in zip(maps.channels, widths,
                                                                                     strict=True))
        self.scale_mix = nn.ModuleList(_RandomConv(widths[i + 1], widths[i], 3, gen)
                                       for i in range(len(stages) - 1))
        self.heads = nn.ModuleList(_head(w, s, width) for w, s in zip(widths, sides, strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        maps_of = self._features[0]
        if x.shape[-1] != self.side:
            x = F.interpolate(x, size=(self.side, self.side), mode="bilinear", align_corners=False)
        x = ((x + 1.0) * 0.5 - self.mean) / self.std
        feats = maps_of(x.contiguous(memory_format=torch.channels_last))
        mixed = [mix(f) for mix, f in zip(self.channel_mix, feats, strict=True)]
        for i in range(len(mixed) - 2, -1, -1):
            coarse = F.interpolate(self.scale_mix[i](mixed[i + 1]), size=mixed[i].shape[-2:], mode="bilinear",
                                   align_corners=False)
            mixed[i] = mixed[i] + coarse
        return torch.cat([head(m).flatten(1) for head, m in zip(self.heads, mixed, strict=True)], dim=1)
