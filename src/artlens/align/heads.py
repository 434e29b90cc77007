"""The trained part of the alignment: two projection heads into one space, a learned temperature, and the
Platt scaling that turns a similarity into a probability.

Stored as a folder: ``config.json`` (dimensions, backbone, feature statistics, calibration) and
``model.safetensors`` (the heads). The shipped heads live in ``align/models/default/``, pinned by SHA-256.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from artlens.errors import WeightsError
from artlens.files import atomic_write_text

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "AlignConfig", "AlignHeads", "calibrated", "load_heads",
           "save_heads"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


@dataclass
class AlignConfig:
    """What the heads expect and how their scores are calibrated.

    ``image_mean``/``image_std`` standardise the image-tower features; ``calibration`` holds the Platt
    scaling ``p = sigmoid(a * cosine + b)`` fitted on held-back pairs (Platt, 1999). With
    ``imagenet_weight`` w > 0 the cosine is ``(heads' cosine + w * ConSE cosine) / (1 + w)``, and the heads
    also hold the text vectors of the backbone's ImageNet class names.
    """

    image_dim: int
    text_dim: int = 384
    embed_dim: int = 256
    hidden: int = 1024
    dropout: float = 0.1
    backbone: str = "mobilenet_v2"
    image_mean: list[float] = field(default_factory=list)
    image_std: list[float] = field(default_factory=list)
    calibration: dict[str, float] = field(default_factory=lambda: {"a": 10.0, "b": -3.0})
    recipe: dict[str, object] = field(default_factory=dict)
    #: weight of the ConSE cosine (:mod:`artlens.align.conse`) beside the heads' cosine; 0: heads alone
    imagenet_weight: float = 0.0
    imagenet_classes: int = 1000
    imagenet_top: int = 5
    #: the ConSE weight of zero-shot classification when it differs from ``imagenet_weight`` (None: the same);
    #: search and tags keep ``imagenet_weight``, the weight stored image vectors were made with
    zero_shot_weight: float | None = None


class AlignHeads(nn.Module):
    """Image head (standardise, MLP) and text head (residual linear) to unit vectors; ``logit_scale`` is the
    log inverse temperature, learned (CLIP's initial value, 1/0.07)."""

    def __init__(self, config: AlignConfig) -> None:
        super().__init__()
        self.config = config
        mean = torch.tensor(config.image_mean or [0.0] * config.image_dim, dtype=torch.float32)
        std = torch.tensor(config.image_std or [1.0] * config.image_dim, dtype=torch.float32)
        self.register_buffer("image_mean", mean)
        self.register_buffer("image_std", std.clamp_min(1e-6))
        p = config.dropout
        self.image = nn.Sequential(nn.Dropout(p), nn.Linear(config.image_dim, config.hidden), nn.GELU(),
                                   nn.Dropout(p), nn.Linear(config.hidden, config.embed_dim))
        self.text = nn.Sequential(nn.Linear(config.text_dim, config.hidden), nn.GELU(),
                                  nn.Linear(config.hidden, config.embed_dim))
        self.text_skip = nn.Linear(config.text_dim, config.embed_dim, bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        if config.imagenet_weight > 0:
            self.register_buffer("imagenet_names", torch.zeros(config.imagenet_classes, config.text_dim))

    def attach_imagenet(self, names: torch.Tensor, weight: float) -> None:
        """Store the (C, text_dim) ImageNet class-name vectors and the ConSE weight (after training)."""
        self.config.imagenet_weight = float(weight)
        self.config.imagenet_classes = int(names.shape[0])
        self.register_buffer("imagenet_names", names.detach().float().clone())

    def embed_image(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, image_dim) image-tower features to (N, embed_dim) unit vectors."""
        x = (feats - self.image_mean) / self.image_std
        return nn.functional.normalize(self.image(x), dim=1)

    def embed_text(self, feats: torch.Tensor) -> torch.Tensor:
        """(N, 384) sentence embeddings to (N, embed_dim) unit vectors."""
        return nn.functional.normalize(self.text(feats) + self.text_skip(feats), dim=1)


def save_heads(heads: AlignHeads, folder: Path) -> Path:
    """Write ``config.json`` and ``model.safetensors`` into ``folder``.

    The weight matrices are stored as float16 (half the bytes, so the shipped heads stay under 5 MB; the
    cosines move by about 1e-3) and read back as float32; the normalisation statistics and the temperature
    stay float32.
    """
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.ndim == 2 else v).detach().cpu().contiguous()
             for k, v in heads.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE))
    atomic_write_text(folder / CONFIG_FILE, json.dumps(asdict(heads.config), indent=1) + "\n")
    return folder


def load_heads(folder: Path) -> AlignHeads:
    """Read heads saved by :func:`save_heads`; a damaged or foreign folder is a :class:`WeightsError`."""
    try:
        config = AlignConfig(**json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))
        state = load_file(str(folder / WEIGHTS_FILE))
        heads = AlignHeads(config)
        heads.load_state_dict(state, strict=True)
    except FileNotFoundError as exc:
        raise WeightsError(f"{folder}: not an alignment model folder ({Path(exc.filename or '').name} "
                           "missing)") from exc
    except Exception as exc:  # a damaged file is a message, never a traceback
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{folder}: cannot read the alignment heads: {reason}") from exc
    return heads.eval()


def calibrated(cosine: np.ndarray, calibration: dict[str, float]) -> np.ndarray:
    """Probability that a text applies to an image, from their cosine (Platt scaling)."""
    z = calibration["a"] * np.asarray(cosine, np.float64) + calibration["b"]
    return (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
