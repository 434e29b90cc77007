"""Symmetric InfoNCE with a learned temperature, as CLIP (Radford et al., ICML 2021) and LiT (Zhai et al.,
CVPR 2022) train their towers.

Rows of a batch that happen to share a caption have identical text vectors, so their logits are equal and
the gradient is the same whichever of them is called the target: no special case is needed for them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["contrastive_loss"]


def contrastive_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Mean of the image-to-text and text-to-image cross-entropies over a batch of matched rows.

    ``image`` and ``text`` are (N, E) unit vectors, row i of one matching row i of the other; ``logit_scale``
    is the log of the inverse temperature (its exponential is capped at 100, as in CLIP).
    """
    logits = logit_scale.exp().clamp(max=100.0) * image @ text.t()
    target = torch.arange(len(image), device=image.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
