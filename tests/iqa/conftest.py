"""Fixtures shared by the learned quality model's tests (run time and training)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from artlens.models.backbones import Backbone, BackboneSpec


@pytest.fixture(scope="module")
def tiny_backbone() -> Backbone:
    """A random stride-32 convolutional trunk with 8 channels: exercises the plumbing without weights."""
    torch.manual_seed(0)
    trunk = nn.Sequential(nn.Conv2d(3, 8, 4, stride=4), nn.ReLU(), nn.Conv2d(8, 8, 8, stride=8), nn.ReLU())
    spec = BackboneSpec("tiny", "mobilenet_v2", 8, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 256)
    return Backbone(trunk, trunk, spec, torch.device("cpu"))


def degrade(img: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian blur (sigma up to 4) and noise (sd up to 25) growing with ``amount`` in [0, 1]."""
    out = img.astype(np.float32)
    if amount > 0:
        out = cv2.GaussianBlur(out, (0, 0), 0.5 + 3.5 * amount)
        out = out + rng.normal(0, 25 * amount, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)
