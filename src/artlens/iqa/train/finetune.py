"""Fine-tuning the last backbone blocks of a quality model together with its head.

Two callers share the pieces here: ``artlens train quality --labels ... --finetune``
(:mod:`artlens.iqa.train.labels`) and the recipe's optional step (:mod:`artlens.iqa.train.recipe`,
``finetune_blocks``). :func:`tuning_last_blocks` unfreezes the blocks and, afterwards, freezes them again and
records which tensors were tuned (:attr:`QualityModel.backbone_keys`, which :meth:`QualityModel.save` stores).
:func:`tune_last_blocks` runs the shared LP-FT loop (:func:`artlens.training.finetune`) over them: the head
was fitted on cached features first (the linear probe), then head and blocks train together with AdamW, no
weight decay on biases and norm scales, a warm-up and cosine schedule, batch-norm statistics frozen (the
trunk stays in eval mode; the head's dropout is on).

:func:`finetune_on_synthetic` is the recipe's step. After the CNN head is fitted on frozen, cached features,
it trains that head with the last blocks of a private copy of the backbone one pristine crop at a time: the
crop and its graded distortions form a batch, and the loss is the level regression plus the ranking term over
every ordered pair in the batch (:func:`artlens.training.ordered_pairs_loss`; all share the crop's content,
so the ranking term only sees the defects). The blocks learn at the head's rate (``body_lr_scale`` 1: the
recipe's ``finetune_lr`` is already low). The tuned tensors are rounded to float16 precision before anything
is measured with them, so the model that is saved (:meth:`QualityModel.save` stores exactly representable
tensors as float16) scores exactly as the one that was calibrated, and the folder stays small.

References
----------
X. Liu, J. van de Weijer and A. D. Bagdanov, "RankIQA: Learning from Rankings for No-reference Image Quality
Assessment", ICCV 2017 (fine-tuning the network with a ranking loss on synthetic distortion levels).
A. Kumar, A. Raghunathan, R. Jones, T. Ma and P. Liang, "Fine-Tuning can Distort Pretrained Features and
Underperform Out-of-Distribution", ICLR 2022 (LP-FT).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.iqa.model import QualityModel
from artlens.iqa.train.training_set import training_crops
from artlens.models.backbones import tunable_blocks
from artlens.seeding import seeded
from artlens.training.checkpoints import Generator
from artlens.training.loop import FinetuneSettings, FitResult, finetune
from artlens.training.losses import ordered_pairs_loss
from artlens.training.progress import Progress, report

__all__ = ["finetune_on_synthetic", "tune_last_blocks", "tuning_last_blocks"]

B = TypeVar("B")


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


def tune_last_blocks(model: QualityModel, blocks: int, batches: Callable[[int], Iterable[B]],
                     loss: Callable[[B], torch.Tensor], *, steps_per_epoch: int, settings: FinetuneSettings,
                     generators: Mapping[str, Generator] | None = None,
                     progress: Progress | None = None) -> FitResult:
    """Train ``model.head`` and the last ``blocks`` backbone blocks in place with :func:`artlens.training.
    finetune` (see the module notes); ``batches`` and ``loss`` as there, the head in train mode."""
    with tuning_last_blocks(model, blocks) as tuned:
        both = nn.ModuleDict({"head": model.head, "trunk": model.backbone.trunk})
        return finetune(both, head=model.head, body=tuned, batches=batches, loss=loss,
                        steps_per_epoch=steps_per_epoch, settings=settings, train_modules=[model.head],
                        generators=generators, progress=progress)


def finetune_on_synthetic(model: QualityModel, pristine: Sequence[str | Path], *, blocks: int, epochs: int,
                          lr: float, seed: int, per_image: int, size: int, per_crop: int,
                          max_size: int | None = None, native_share: float | None = None,
                          margin: float = 0.05, progress: Progress | None = None) -> np.ndarray:
    """Train ``model.head`` and the last ``blocks`` blocks of ``model.backbone`` in place.

    The training crops are those of :func:`artlens.iqa.train.training_set.embed_training_set` with the same
    ``seed`` and set parameters, held in memory (about 0.6 MB per image). Afterwards the tuned tensors hold
    float16-representable values, ``model`` runs its trunk with ONNX Runtime where it can, and the crops are
    embedded with it. ``progress`` receives the loop's ``step`` and ``epoch`` events, then ``embed``.

    Returns
    -------
    numpy.ndarray
        (N, config.embed_dim) features of the training images with the tuned blocks, in the order of
        :func:`~artlens.iqa.train.training_set.embed_training_set`.
    """
    if blocks < 1 or epochs < 1 or lr <= 0:
        raise ConfigError(f"fine-tuning needs blocks >= 1, epochs >= 1 and lr > 0, "
                          f"got {blocks}, {epochs} and {lr}")
    crops = [(images, torch.as_tensor(np.asarray(targets, np.float32)))
             for images, targets, _pairs in training_crops(
                 [Path(p) for p in pristine], per_image=per_image, rng=np.random.default_rng(seed), size=size,
                 per_crop=per_crop, distortions=None, max_size=max_size, native_share=native_share)]
    rng = np.random.default_rng(seed)
    device = model.backbone.device

    def batches(_epoch: int) -> list[int]:
        return [int(c) for c in rng.permutation(len(crops))]  # one crop and its distortions per step

    def loss(c: int) -> torch.Tensor:
        images, targets = crops[c]
        if rng.random() < 0.5:
            images = [im[:, ::-1] for im in images]
        out = model.head(model.pooled(images, len(images)))
        t = targets.to(device)
        return nn.functional.mse_loss(out, t) + ordered_pairs_loss(out, t, margin)

    settings = FinetuneSettings(epochs=epochs, lr=lr, body_lr_scale=1.0, weight_decay=1e-3)
    with seeded(seed):  # dropout masks
        tune_last_blocks(model, blocks, batches, loss, steps_per_epoch=len(crops), settings=settings,
                         generators={"crops": rng}, progress=progress)
    params = dict(model.backbone.trunk.named_parameters())
    with torch.no_grad():
        for name in model.backbone_keys:
            params[name].copy_(params[name].half().float())
    report(progress, "embed", 0, len(crops))
    model.use_onnx()  # the tuned trunk, exported and checked against PyTorch
    features = [model.embed(images).numpy() for images, _targets in crops]
    report(progress, "embed", len(crops), len(crops))
    return np.concatenate(features)
