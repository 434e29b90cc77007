"""Fine-tuning the last backbone blocks of a quality model together with its head.

Two callers share the pieces here: ``artlens train quality --labels ... --finetune``
(:mod:`artlens.iqa.train.labels`) and the recipe's optional step (:mod:`artlens.iqa.train.recipe`,
``finetune_blocks``). :func:`tuning_last_blocks` unfreezes the blocks and, afterwards, freezes them again and
records which tensors were tuned (:attr:`QualityModel.backbone_keys`, which :meth:`QualityModel.save` stores);
:func:`ordered_pairs_loss` is the margin ranking term over the ordered pairs of a batch.

:func:`finetune_on_synthetic` is the recipe's step. After the CNN head is fitted on frozen, cached features,
it trains that head with the last blocks of a private copy of the backbone one pristine crop at a time: the
crop and its graded distortions form a batch, and the loss is the level regression plus the ranking term over
every ordered pair in the batch (all share the crop's content, so the ranking term only sees the defects).
Batch-norm statistics stay as pretrained (the batches are one crop's images). The tuned tensors are rounded to
float16 precision before anything is measured with them, so the model that is saved
(:meth:`QualityModel.save` stores exactly representable tensors as float16) scores exactly as the one that was
calibrated, and the folder stays small.

References
----------
X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image Quality
Assessment", ICCV 2017 (fine-tuning the network with a ranking loss on synthetic distortion levels).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.iqa.model import QualityModel
from artlens.iqa.train.training_set import training_crops
from artlens.models.backbones import tunable_blocks
from artlens.seeding import seeded

__all__ = ["finetune_on_synthetic", "ordered_pairs_loss", "tuning_last_blocks"]


def ordered_pairs_loss(scores: torch.Tensor, targets: torch.Tensor, margin: float) -> torch.Tensor:
    """Mean of ``max(0, margin - (s_i - s_j))`` over every pair with ``target_i > target_j`` (0 if none)."""
    ordered = targets[:, None] > targets[None, :]
    if not bool(ordered.any()):
        return scores.sum() * 0.0
    return torch.relu(margin - (scores[:, None] - scores[None, :]))[ordered].mean()


@contextlib.contextmanager
def tuning_last_blocks(model: QualityModel, blocks: int) -> Iterator[list[nn.Parameter]]:
    """Unfreeze the last ``blocks`` blocks of ``model``'s backbone (up to its deepest stage) for the ``with``
    body, which gets their parameters; batch-norm statistics stay frozen (the trunk is in eval mode).

    On exit the head is put in eval mode, the trunk is frozen again with its gradients dropped, and
    ``model.backbone_keys`` names the tensors that received gradients. ``model`` must own its backbone (a
    copy, not the shared cached one).
    """
    trunk = model.backbone.trunk
    trunk.eval()
    stages = model.config.stages
    for block in tunable_blocks(trunk, blocks, deepest=stages[-1] if stages else None):
        for p in block.parameters():
            p.requires_grad_(True)
    try:
        yield [p for p in trunk.parameters() if p.requires_grad]
    finally:
        model.head.eval()
        names = [k for k, p in trunk.named_parameters() if p.requires_grad and p.grad is not None]
        for p in trunk.parameters():
            p.requires_grad_(False)
            p.grad = None
        model.backbone_keys = tuple(sorted(names))


def finetune_on_synthetic(model: QualityModel, pristine: Sequence[str | Path], *, blocks: int, epochs: int,
                          lr: float, seed: int, per_image: int, size: int, per_crop: int,
                          max_size: int | None = None, native_share: float | None = None,
                          margin: float = 0.05,
                          progress: Callable[[str], None] | None = None) -> np.ndarray:
    """Train ``model.head`` and the last ``blocks`` blocks of ``model.backbone`` in place.

    The training crops are those of :func:`artlens.iqa.model.embed_training_set` with the same
    ``seed`` and set parameters, held in memory (about 0.6 MB per image). Afterwards the tuned tensors hold
    float16-representable values, ``model`` runs its trunk with ONNX Runtime where it can, and the crops are
    embedded with it.

    Returns
    -------
    numpy.ndarray
        (N, config.embed_dim) features of the training images with the tuned blocks, in the order of
        :func:`~artlens.iqa.model.embed_training_set`.
    """
    if blocks < 1 or epochs < 1 or lr <= 0:
        raise ConfigError(f"fine-tuning needs blocks >= 1, epochs >= 1 and lr > 0, "
                          f"got {blocks}, {epochs} and {lr}")
    say = progress or (lambda _line: None)
    crops = [(images, torch.as_tensor(np.asarray(targets, np.float32)))
             for images, targets, _pairs in training_crops(
                 [Path(p) for p in pristine], per_image=per_image, rng=np.random.default_rng(seed), size=size,
                 per_crop=per_crop, distortions=None, max_size=max_size, native_share=native_share)]
    head = model.head
    rng = np.random.default_rng(seed)
    device = model.backbone.device
    with tuning_last_blocks(model, blocks) as tuned, seeded(seed):  # seeded: dropout masks
        opt = torch.optim.AdamW([*head.parameters(), *tuned], lr=lr, weight_decay=1e-3)
        for epoch in range(1, epochs + 1):
            total = 0.0
            for c in rng.permutation(len(crops)):
                images, targets = crops[c]
                if rng.random() < 0.5:
                    images = [im[:, ::-1] for im in images]
                head.train()
                out = head(model.pooled(images, len(images)))
                t = targets.to(device)
                loss = nn.functional.mse_loss(out, t) + ordered_pairs_loss(out, t, margin)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
            say(f"fine-tuning epoch {epoch}/{epochs}: mean loss {total / len(crops):.4f} over "
                f"{len(crops)} crops")
    with torch.no_grad():
        for p in tuned:
            p.copy_(p.half().float())
    say("embedding the training set again with the fine-tuned blocks")
    model.use_onnx()  # the tuned trunk, exported and checked against PyTorch
    return np.concatenate([model.embed(images).numpy() for images, _targets in crops])
