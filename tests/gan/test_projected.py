"""The Projected-GAN discriminator: frozen features at four depths, fixed random mixing, trained heads."""

from __future__ import annotations

import pytest
import torch

from artlens.errors import ConfigError
from artlens.gan import GanTrainSettings
from artlens.gan.projected import ProjectedDiscriminator, feature_stages
from artlens.models.backbones import get_backbone


def test_it_reads_the_last_block_at_strides_4_to_32():
    trunk = get_backbone("efficientnet_lite0").trunk
    # EfficientNet-Lite0: 24 channels at stride 4, 40 at 8, 112 at 16, 320 at 32 (the 1280 head left out)
    assert feature_stages(trunk, 64) == (3, 5, 11, 16)


def test_only_the_heads_learn_and_the_frozen_network_stays_out_of_checkpoints():
    d = ProjectedDiscriminator(32, seed=1)
    trunk_ids = {id(p) for p in get_backbone("efficientnet_lite0").trunk.parameters()}
    assert not trunk_ids & {id(p) for p in d.parameters()}
    assert all(k.startswith("heads.") for k in (n for n, _ in d.named_parameters()))
    state = d.state_dict()
    assert any(k.startswith("channel_mix.") for k in state) and any(k.startswith("scale_mix.") for k in state)
    assert sum(t.numel() for t in state.values()) < 1_000_000
    # the same seed draws the same mixing; gradients reach the images through the frozen network
    again = ProjectedDiscriminator(32, seed=1)
    assert torch.equal(d.channel_mix[0].weight, again.channel_mix[0].weight)
    x = torch.rand(2, 3, 32, 32, requires_grad=True) * 2 - 1
    x.retain_grad()
    logits = d(x)
    assert logits.shape == (2, 4)
    logits.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    d.requires_grad_(True)  # what the training step does: the mixing stays fixed
    assert not any(b.requires_grad for b in d.buffers())


def test_it_trains_only_the_fastgan_generator():
    with pytest.raises(ConfigError, match="fastgan generator only"):
        GanTrainSettings(arch="dcgan", discriminator="projected").resolved()
    with pytest.raises(ConfigError, match="projected"):
        GanTrainSettings(discriminator="stylegan").resolved()
