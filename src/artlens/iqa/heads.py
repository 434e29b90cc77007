"""The trained part of a quality model: a small MLP head on pooled features, a seed ensemble of heads as
one network, the fusion with the descriptor head and the calibration to 0-100."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from artlens.errors import ArtlensError
from artlens.iqa.config import QualityModelConfig
from artlens.seeding import seeded

__all__ = ["QualityHead", "average_heads", "calibrated", "fuse_heads", "known_descriptors", "new_head",
           "quality_from_raw"]


class QualityHead(nn.Module):
    """Standardise the pooled features, then Linear -> ReLU -> Dropout -> Linear -> raw score(s).

    Parameters
    ----------
    in_dim
        Length of the input feature vector.
    hidden
        Hidden width.
    dropout
        Dropout rate (active in training mode only).
    out_dim
        Outputs: 1 for a scalar score (the output is then squeezed to (N,)), K for K class logits.
    """

    def __init__(self, in_dim: int, hidden: int = 128, dropout: float = 0.25, out_dim: int = 1) -> None:
        super().__init__()
        self.register_buffer("feature_mean", torch.zeros(in_dim))
        self.register_buffer("feature_scale", torch.ones(in_dim))
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, out_dim))

    @property
    def in_dim(self) -> int:
        return int(self.feature_mean.shape[0])

    @property
    def out_dim(self) -> int:
        return int(self.net[-1].out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_dim) features -> (N,) raw scores, or (N, out_dim) logits when ``out_dim > 1``."""
        return self.net((x - self.feature_mean) / self.feature_scale).squeeze(-1)


def average_heads(heads: Sequence[QualityHead]) -> QualityHead:
    """One head whose output is the mean of ``heads``' outputs: a seed ensemble as a single, wider network.

    The hidden layers are set side by side and the output layer divided by their number; as ReLU acts per
    unit (and dropout only in training), the result equals the average exactly. Averaging heads fitted from
    different seeds removes most of the run-to-run spread of one head (Lakshminarayanan et al., "Simple and
    scalable predictive uncertainty estimation using deep ensembles", NeurIPS 2017). The heads must share
    their input standardisation (fitted on the same features) and output size.
    """
    if not heads:
        raise ArtlensError("average_heads needs at least one head")
    first = heads[0]
    for h in heads[1:]:
        if not (torch.equal(h.feature_mean, first.feature_mean)
                and torch.equal(h.feature_scale, first.feature_scale) and h.out_dim == first.out_dim):
            raise ArtlensError("average_heads: the heads differ in input standardisation or output size")
    inner = [h.net[0] for h in heads]
    outer = [h.net[-1] for h in heads]
    merged = QualityHead(first.in_dim, sum(layer.out_features for layer in inner), first.net[2].p,
                         first.out_dim)
    with torch.no_grad():
        merged.feature_mean.copy_(first.feature_mean)
        merged.feature_scale.copy_(first.feature_scale)
        merged.net[0].weight.copy_(torch.cat([layer.weight for layer in inner]))
        merged.net[0].bias.copy_(torch.cat([layer.bias for layer in inner]))
        merged.net[-1].weight.copy_(torch.cat([layer.weight for layer in outer], dim=1) / len(heads))
        merged.net[-1].bias.copy_(torch.stack([layer.bias for layer in outer]).mean(dim=0))
    return merged.eval()


def new_head(in_dim: int, hidden: int, dropout: float, seed: int = 0, out_dim: int = 1) -> QualityHead:
    with seeded(seed):
        return QualityHead(in_dim, hidden, dropout, out_dim)


def known_descriptors(descriptors: torch.Tensor, descriptor_head: QualityHead) -> torch.Tensor:
    """``descriptors`` with undefined entries (a flat image has no local structure to fit) replaced by the
    descriptor head's training mean, as the head reads them."""
    return torch.where(torch.isfinite(descriptors), descriptors, descriptor_head.feature_mean)


def fuse_heads(raw: torch.Tensor, descriptors: torch.Tensor | None, config: QualityModelConfig,
               descriptor_head: QualityHead | None) -> torch.Tensor:
    """The model's raw score: the CNN head's output ``raw``, fused with the descriptor head's as
    ``config.fusion`` says when the model has one (computed in ``raw``'s dtype).

    Undefined descriptors read as the training mean (:func:`known_descriptors`). Used by
    :meth:`QualityModel.raw_scores` and by the exported ONNX graph (:mod:`artlens.iqa.export`).
    """
    if descriptor_head is None:
        return raw
    desc = descriptor_head(known_descriptors(descriptors, descriptor_head)).to(raw.dtype)
    cnn_mean, cnn_std, desc_mean, desc_std, weight = config.fusion
    return (raw - cnn_mean) / cnn_std + weight * (desc - desc_mean) / desc_std


def calibrated(raw: torch.Tensor, calibration: Sequence[float]) -> torch.Tensor:
    """``100 * sigmoid(a * raw + b)`` with ``(a, b) = calibration`` (the logit clipped to +-60)."""
    a, b = calibration
    return 100.0 * torch.sigmoid(torch.clamp(a * raw + b, -60.0, 60.0))


def quality_from_raw(raw: torch.Tensor, config: QualityModelConfig) -> torch.Tensor:
    """Quality 0-100 from raw outputs: calibrated (score task), or the expected position of the class on the
    worst-to-best scale of ``config.classes`` (class task)."""
    if config.task == "classes":
        k = len(config.classes)
        positions = torch.arange(k, dtype=raw.dtype) / (k - 1)
        return 100.0 * (torch.softmax(raw, dim=1) * positions).sum(dim=1)
    return calibrated(raw, config.calibration)


