"""Fine-tune the last backbone blocks of a quality model on the recipe's synthetic distortions.

The recipe (:mod:`artlens.quality.recipe`) first fits the CNN head on frozen, cached features. With
``finetune_blocks`` set, this module then trains that head together with the last blocks of a private copy
of the backbone, one pristine crop at a time: the crop and its graded distortions form a batch, and the loss
is the level regression plus RankIQA's margin ranking loss over every ordered pair in the batch (all of them
share the crop's content, so the ranking term only sees the defects). Batch-norm statistics stay as
pretrained (the batches are one crop's images).

The tuned tensors are rounded to float16 precision before anything is measured with them, so the model that
is saved (:meth:`QualityModel.save` stores exactly representable tensors as float16) scores exactly as the
one that was calibrated, and the shipped folder stays small.

References
----------
X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image Quality
Assessment", ICCV 2017 (fine-tuning the network with a ranking loss on synthetic distortion levels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.backbones import tunable_blocks
from artlens.errors import ConfigError
from artlens.quality.learned import QualityModel, _training_crops
from artlens.seeding import seeded

__all__ = ["finetune_on_synthetic", "ordered_pairs_loss"]


def ordered_pairs_loss(scores: torch.Tensor, targets: torch.Tensor, margin: float) -> torch.Tensor:
    """Mean of ``max(0, margin - (s_i - s_j))`` over every pair with ``target_i > target_j`` (0 if none)."""
    ordered = targets[:, None] > targets[None, :]
    if not bool(ordered.any()):
        return scores.sum() * 0.0
    return torch.relu(margin - (scores[:, None] - scores[None, :]))[ordered].mean()


def finetune_on_synthetic(model: QualityModel, pristine: Sequence[str | Path], *, blocks: int, epochs: int,
                          lr: float, seed: int, per_image: int, size: int, per_crop: int,
                          max_size: int | None = None, margin: float = 0.05,
                          progress: Callable[[str], None] | None = None) -> QualityModel:
    """Train ``model.head`` and the last ``blocks`` blocks of ``model.backbone`` in place; returns ``model``.

    ``model`` must own its backbone (a copy, not the shared cached one). The training crops are those of
    :func:`artlens.quality.learned.embed_training_set` with the same ``seed`` and set parameters, held in
    memory (about 0.6 MB per image). Afterwards ``model.backbone_keys`` names the tuned tensors, which hold
    float16-representable values, and the head is in eval mode.
    """
    if blocks < 1 or epochs < 1 or lr <= 0:
        raise ConfigError(f"fine-tuning needs blocks >= 1, epochs >= 1 and lr > 0, "
                          f"got {blocks}, {epochs} and {lr}")
    say = progress or (lambda _line: None)
    crops = [(images, torch.as_tensor(np.asarray(targets, np.float32)))
             for images, targets, _pairs in _training_crops(
                 [Path(p) for p in pristine], per_image=per_image, rng=np.random.default_rng(seed), size=size,
                 per_crop=per_crop, distortions=None, max_size=max_size)]
    trunk = model.backbone.trunk
    trunk.eval()  # batch-norm statistics stay as pretrained
    stages = model.config.stages
    tuned_blocks = tunable_blocks(trunk, blocks, deepest=stages[-1] if stages else None)
    for block in tuned_blocks:
        for p in block.parameters():
            p.requires_grad_(True)
    names = [k for k, p in trunk.named_parameters() if p.requires_grad]
    tuned = [p for p in trunk.parameters() if p.requires_grad]
    head = model.head
    opt = torch.optim.AdamW([*head.parameters(), *tuned], lr=lr, weight_decay=1e-3)
    rng = np.random.default_rng(seed)
    device = model.backbone.device
    try:
        with seeded(seed):  # dropout masks
            for epoch in range(1, epochs + 1):
                total = 0.0
                for c in rng.permutation(len(crops)):
                    images, targets = crops[c]
                    if rng.random() < 0.5:
                        images = [im[:, ::-1] for im in images]
                    head.train()
                    out = head(model._pooled(images, len(images)))
                    t = targets.to(device)
                    loss = nn.functional.mse_loss(out, t) + ordered_pairs_loss(out, t, margin)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += float(loss.detach())
                say(f"fine-tuning epoch {epoch}/{epochs}: mean loss {total / len(crops):.4f} over "
                    f"{len(crops)} crops")
    finally:
        head.eval()
        for p in trunk.parameters():
            p.requires_grad_(False)
            p.grad = None
    with torch.no_grad():
        for p in tuned:
            p.copy_(p.half().float())
    model.backbone_keys = tuple(sorted(names))
    return model
