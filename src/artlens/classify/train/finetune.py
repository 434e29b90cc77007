"""``--mode finetune``: the last blocks of the backbone trained with the heads (LP-FT), resumable.

Recipe
------
1. Every readable image is decoded once and kept in memory twice: shrunk so its shorter side is about
   1.15 x the backbone's resize (the source of the random training crops, :mod:`artlens.classify.train.
   augment`), and as the exact uint8 centre crop inference sees (:meth:`artlens.models.backbones.Backbone.
   preprocess`).
2. The heads start from the linear-probe solution on cached frozen features (:func:`~artlens.classify.
   features.embed_paths`, :func:`~artlens.classify.train.linear.fit_heads`): fine-tuning from a good head
   distorts the pretrained features less than from a random one (LP-FT, Kumar et al., ICLR 2022).
3. A private copy of the trunk has its last ``unfreeze`` blocks trainable; batch-norm statistics stay frozen
   (eval mode: the batches are small). The shared loop :func:`artlens.training.finetune` trains them (its
   module cites the methods): AdamW with the trunk at ``lr * trunk_lr_scale``, no weight decay on biases and
   norm scales, a linear warm-up then a cosine decay over every step.
4. The loss is the sum over heads of class-balanced cross-entropy (:func:`artlens.training.class_weights`)
   with label smoothing [1]_; a missing label (-1) is ignored.
5. After each epoch (and once before the first) the held-out rows are scored with the evaluation transform;
   the state with the best macro-F1 averaged over heads (ties: lower validation loss) is kept and training
   stops after ``patience`` epochs without improvement. With ``kfold >= 2`` each fold is fine-tuned that
   way for out-of-fold logits, then a final run on every row lasts the median best epoch count.
6. The held-out logits give one temperature per head and the metrics (:func:`~artlens.classify.train.heldout.
   held_out_report`); the model folder holds the whole fine-tuned trunk.

After every epoch the run state is written to ``out_dir/checkpoint.pt`` (:func:`artlens.training.
save_checkpoint`: tensors and plain values only, read back with ``torch.load(weights_only=True)``);
``resume=True`` continues from it and it is removed once the model is saved. Randomness is drawn from
generators seeded by ``(seed, fold, epoch)``, so an interrupted and resumed run reproduces an uninterrupted
one on the same device and thread count.

References
----------
.. [1] C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens and Z. Wojna, "Rethinking the Inception Architecture for
   Computer Vision", CVPR 2016.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.classify.data import Dataset
from artlens.classify.features import embed_paths
from artlens.classify.model import ClassifierNet, save_model
from artlens.classify.train.augment import (
    AugmentSettings,
    downscale,
    normalise,
    train_view,
)
from artlens.classify.train.heldout import check_split_settings, held_out_report, make_config, split_rows
from artlens.classify.train.linear import fit_heads
from artlens.errors import ConfigError, ImageLoadError
from artlens.evaluation import classification_metrics
from artlens.imageio import load_image
from artlens.models.backbones import Backbone, get_backbone, trunk_blocks
from artlens.seeding import seeded
from artlens.training.checkpoints import load_checkpoint, save_checkpoint
from artlens.training.loop import FinetuneSettings, Validation, finetune
from artlens.training.losses import class_weights
from artlens.training.progress import Progress, report

__all__ = ["CHECKPOINT_FILE", "train_finetune"]

CHECKPOINT_FILE = "checkpoint.pt"
_STORE_FACTOR = 1.15  # stored shorter side / backbone resize: room for random crops above the eval scale
_WARMUP = 0.05        # fraction of the steps (at most one epoch) with a linearly rising learning rate
_EPS = 1e-12


# ------------------------------------------------------------------------------------------------------------
# Images in memory
# ------------------------------------------------------------------------------------------------------------

@dataclass
class _Images:
    """Decoded training sources (shorter side ~1.15 x resize) and exact evaluation crops, row-aligned."""

    train: list[np.ndarray] = field(default_factory=list)
    eval: list[np.ndarray] = field(default_factory=list)


def _eval_crop(backbone: Backbone, rgb: np.ndarray) -> np.ndarray:
    """The uint8 centre crop behind ``backbone.preprocess(rgb)`` (re-normalising it gives the same tensor)."""
    t = backbone.preprocess(rgb).numpy().transpose(1, 2, 0)
    std = np.asarray(backbone.spec.std, np.float32)
    mean = np.asarray(backbone.spec.mean, np.float32)
    return np.clip(np.rint((t * std + mean) * 255.0), 0, 255).astype(np.uint8)


def _decode(paths: list[Path], rows: np.ndarray, backbone: Backbone,
            progress: Progress | None) -> tuple[_Images, np.ndarray, list[dict]]:
    """Decode ``paths[rows]`` once; returns the images, the rows decoded and the failures."""
    short = round(_STORE_FACTOR * backbone.spec.resize)
    images, ok, skipped = _Images(), [], []
    for n, i in enumerate(rows):
        try:
            rgb = load_image(paths[i]).rgb
        except ImageLoadError as exc:
            skipped.append({"path": str(paths[i]), "reason": exc.reason})
            continue
        images.train.append(downscale(rgb, short))
        images.eval.append(_eval_crop(backbone, rgb))
        ok.append(i)
        if (n + 1) % 64 == 0:
            report(progress, "decode", n + 1, len(rows))
    return images, np.asarray(ok, np.int64), skipped


# ------------------------------------------------------------------------------------------------------------
# Network, optimiser, schedule
# ------------------------------------------------------------------------------------------------------------

def _tuned_names(trunk: nn.Module, unfreeze: int) -> list[str]:
    """Names (within ``trunk``) of the modules in its last ``unfreeze`` blocks (``trunk_blocks``)."""
    blocks = trunk_blocks(trunk)
    if unfreeze > len(blocks):
        raise ConfigError(f"unfreeze={unfreeze} exceeds the {len(blocks)} blocks of the backbone")
    names = {id(m): n for n, m in trunk.named_modules()}
    picked = blocks[len(blocks) - unfreeze:] if unfreeze else []
    return [names[id(m)] for b in picked for m in (b if isinstance(b, nn.ModuleList) else [b])]


def _build_net(backbone: Backbone, n_classes: list[int], tuned: list[str],
               heads: dict[str, tuple[np.ndarray, np.ndarray]]) -> ClassifierNet:
    trunk = copy.deepcopy(backbone.trunk)  # the cached, shared Backbone is never modified
    for p in trunk.parameters():
        p.requires_grad_(False)
    for name in tuned:
        for p in trunk.get_submodule(name).parameters():
            p.requires_grad_(True)
    net = ClassifierNet(trunk, backbone.spec.feature_dim, n_classes)
    with torch.no_grad():
        for layer, (w, b) in zip(net.heads, heads.values(), strict=True):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    # eval mode throughout: batch-norm running statistics stay as pretrained (the trunk has no dropout)
    return net.to(backbone.device, memory_format=torch.channels_last).eval()


def _trainable_state(net: nn.Module) -> dict[str, torch.Tensor]:
    return {k: p.detach().cpu().clone() for k, p in net.named_parameters() if p.requires_grad}


def _load_trainable(net: nn.Module, state: dict[str, torch.Tensor]) -> None:
    params = dict(net.named_parameters())
    expected = {k for k, p in params.items() if p.requires_grad}
    if set(state) != expected:
        raise ConfigError("the checkpoint's tensors do not fit this network; run without resume")
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v)


# ------------------------------------------------------------------------------------------------------------
# One training run (a fold, the single split, or the final run on every row)
# ------------------------------------------------------------------------------------------------------------

@dataclass
class _Context:
    backbone: Backbone
    data: Dataset
    images: _Images
    features: np.ndarray
    settings: dict
    augment: AugmentSettings
    tuned: list[str]
    finetune: FinetuneSettings
    checkpoint: Path
    fingerprint: str
    progress: Progress | None
    done: list[dict] = field(default_factory=list)  # finished runs: best_epoch, history, logits

    @property
    def y(self) -> list[np.ndarray]:
        return [self.data.labels[h] for h in self.data.heads]


def _batch(ctx: _Context, rows: np.ndarray, rng: np.random.Generator | None) -> torch.Tensor:
    spec = ctx.backbone.spec
    if rng is None:
        arrays = [normalise(ctx.images.eval[i], spec.mean, spec.std) for i in rows]
    else:
        fraction = spec.input_size / spec.resize
        arrays = [train_view(ctx.images.train[i], rng, ctx.augment, spec.input_size, spec.mean, spec.std,
                             fraction) for i in rows]
    return torch.from_numpy(np.stack(arrays)).to(ctx.backbone.device, memory_format=torch.channels_last)


def _logits(ctx: _Context, net: ClassifierNet, rows: np.ndarray) -> list[np.ndarray]:
    out: list[list[np.ndarray]] = [[] for _ in ctx.data.heads]
    bs = ctx.settings["batch_size"]
    with torch.inference_mode():
        for start in range(0, rows.size, bs):
            for j, z in enumerate(net(_batch(ctx, rows[start:start + bs], None))):
                out[j].append(z.float().cpu().numpy())
    k = [len(c) for c in ctx.data.heads.values()]
    return [np.concatenate(o) if o else np.zeros((0, kk), np.float32) for o, kk in zip(out, k, strict=True)]


def _validate(ctx: _Context, logits: list[np.ndarray], rows: np.ndarray,
              losses: list[nn.Module]) -> dict:
    """Macro-F1 and accuracy averaged over heads, and the training criterion, on the held-out rows."""
    f1, acc, loss = [], [], 0.0
    for z, y, classes, criterion in zip(logits, ctx.y, ctx.data.heads.values(), losses, strict=True):
        lab = y[rows] >= 0
        if not lab.any():
            continue
        m = classification_metrics(y[rows][lab], z[lab].argmax(1), classes)
        f1.append(m["macro"]["f1"])
        acc.append(m["accuracy"])
        loss += float(criterion(torch.from_numpy(z[lab]), torch.from_numpy(y[rows][lab])))
    if not f1:
        raise ConfigError("no held-out row carries a label")
    return {"val_macro_f1": float(np.mean(f1)), "val_accuracy": float(np.mean(acc)), "val_loss": loss}


def _save_checkpoint(ctx: _Context, run: dict | None) -> None:
    save_checkpoint(ctx.checkpoint, {"done": ctx.done, "run": run}, fingerprint=ctx.fingerprint)


def _record(r: dict, fold: int | str | None) -> dict:
    """One history record in the model's config: the fold, then the loop's figures (None where absent)."""
    keys = ("epoch", "loss", "val_macro_f1", "val_accuracy", "val_loss", "lr", "seconds")
    return {"fold": fold, **{k: r.get(k) for k in keys}}


def _run(ctx: _Context, stage: int, train: np.ndarray, val: np.ndarray | None, n_epochs: int,
         resume: dict | None) -> dict:
    """Fine-tune on ``train`` rows (:func:`artlens.training.finetune`); with ``val``, keep the best epoch and
    stop early.

    Returns ``{"best_epoch", "history", "logits", "state", "net"}``: the held-out logits of the kept state
    (one array per head, rows of ``val``) and its trainable tensors.
    """
    s = ctx.settings
    heads = fit_heads(ctx.features[train], ctx.data.subset(train))
    net = _build_net(ctx.backbone, [len(c) for c in ctx.data.heads.values()], ctx.tuned, heads)
    bs = s["batch_size"]
    device = ctx.backbone.device
    weights = [class_weights(y[train], len(c)) for y, c in zip(ctx.y, ctx.data.heads.values(), strict=True)]
    losses = [nn.CrossEntropyLoss(weight=w, ignore_index=-1, label_smoothing=s["label_smoothing"])
              for w in weights]
    train_losses = [nn.CrossEntropyLoss(weight=w.to(device), ignore_index=-1,
                                        label_smoothing=s["label_smoothing"]) for w in weights]
    targets = [torch.as_tensor(y, dtype=torch.int64) for y in ctx.y]
    fold = None if s["kfold"] < 2 else (stage if val is not None else "final")
    epoch_rng: list[np.random.Generator] = []

    def batches(epoch: int) -> list[np.ndarray]:
        # every draw of an epoch comes from a generator seeded by (seed, run, epoch): resumable
        rng = np.random.default_rng([s["seed"], stage, epoch])
        torch.manual_seed(int(rng.integers(2 ** 62)))
        epoch_rng[:] = [rng]
        order = rng.permutation(train)
        return [order[start:start + bs] for start in range(0, order.size, bs)]

    def loss(rows: np.ndarray) -> torch.Tensor:
        out = net(_batch(ctx, rows, epoch_rng[0]))
        total = torch.zeros((), device=device)
        for z, t, criterion in zip(out, targets, train_losses, strict=True):
            yt = t[rows].to(device)
            if (yt >= 0).any():  # no labelled row in the batch: no loss, and no optimiser step
                total = total + criterion(z, yt)
        return total

    def validate() -> Validation:
        logits = _logits(ctx, net, val)
        return Validation(_validate(ctx, logits, val, losses),
                          [torch.from_numpy(np.ascontiguousarray(z)) for z in logits])

    result = finetune(
        net, head=net.heads, body=[net.trunk.get_submodule(n) for n in ctx.tuned], batches=batches, loss=loss,
        steps_per_epoch=-(-train.size // bs), settings=replace(ctx.finetune, epochs=n_epochs),
        validate=validate if val is not None else None,
        monitor=lambda m: (m["val_macro_f1"], -m["val_loss"]), mode="max", min_delta=_EPS,
        train_modules=(),  # eval mode throughout: frozen batch-norm statistics, and the trunk has no dropout
        checkpoint=lambda state: _save_checkpoint(ctx, {"stage": stage, **state}), resume=resume,
        progress=ctx.progress, tags={"fold": fold} if isinstance(fold, int) else None)
    logits = [z.numpy() for z in result.best_outputs] if result.best_outputs is not None else []
    return {"best_epoch": result.best_epoch, "history": [_record(r, fold) for r in result.history],
            "logits": logits, "state": _trainable_state(net), "net": net}


# ------------------------------------------------------------------------------------------------------------
# Settings, fingerprint, checkpoint
# ------------------------------------------------------------------------------------------------------------

def _check(unfreeze: int, trunk_lr_scale: float, label_smoothing: float, batch_size: int) -> None:
    """The settings :class:`artlens.training.FinetuneSettings` does not check itself."""
    checks = [
        (isinstance(unfreeze, int) and unfreeze >= 0, f"unfreeze must be 0 or more blocks, got {unfreeze!r}"),
        (math.isfinite(trunk_lr_scale) and trunk_lr_scale >= 0,
         f"trunk_lr_scale must be 0 or more, got {trunk_lr_scale!r}"),
        (0 <= label_smoothing < 1, f"label_smoothing must lie in [0, 1), got {label_smoothing!r}"),
        (isinstance(batch_size, int) and batch_size >= 1,
         f"batch_size must be at least 1, got {batch_size!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)


def _fingerprint(dataset: Dataset, backbone: str, settings: dict) -> str:
    """SHA-256 of what decides the result: file contents (or paths), labels, classes and settings."""
    record = {"files": dataset.sha256 or [str(p) for p in dataset.paths],
              "heads": dataset.heads, "labels": {h: v.tolist() for h, v in dataset.labels.items()},
              "backbone": backbone, "settings": settings}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------------------

def train_finetune(dataset: Dataset, out_dir: str | Path, *, backbone: str = "mobilenet_v2",
                   val_split: float = 0.2, kfold: int = 0, seed: int = 0, epochs: int = 10, unfreeze: int = 3,
                   lr: float = 1e-3, trunk_lr_scale: float = 0.1, weight_decay: float = 1e-4,
                   label_smoothing: float = 0.1, patience: int = 3, batch_size: int = 32,
                   augment: AugmentSettings | dict | None = None, device: str | None = None,
                   cache: bool = True, resume: bool = False, progress: Progress | None = None) -> dict:
    """Fine-tune the last blocks of a pretrained backbone with the heads, validate, calibrate and save.

    Parameters
    ----------
    dataset
        From :func:`artlens.classify.data.load_dataset`.
    out_dir
        Model folder to write (created); also holds ``checkpoint.pt`` while training.
    backbone
        Pretrained backbone name (see :func:`artlens.models.backbones.list_backbones`).
    val_split
        Fraction of each class held out for model selection, early stopping and calibration (``kfold`` 0).
    kfold
        When at least 2, fine-tune once per fold for out-of-fold metrics and temperatures, then once on
        every row for the median best epoch count.
    seed
        Seeds the split, the batch order and the augmentation.
    epochs
        Most epochs per run.
    unfreeze
        Trunk blocks trained, counted from the end (:func:`artlens.models.backbones.trunk_blocks`); 0 trains
        the
        heads only.
    lr
        Peak learning rate of the heads.
    trunk_lr_scale
        The unfrozen blocks learn at ``lr * trunk_lr_scale``.
    weight_decay
        AdamW's decoupled weight decay (not on biases and norm scales).
    label_smoothing
        Of the cross-entropy, in [0, 1).
    patience
        Stop after this many epochs without a better validation score; 0 never stops early.
    batch_size
        Images per step.
    augment
        Training augmentation (:class:`~artlens.classify.train.augment.AugmentSettings` or its dict); default
        settings when None.
    device
        Passed to :func:`artlens.models.backbones.get_backbone` (CUDA when present by default).
    cache
        Use the feature cache for the linear-probe start.
    resume
        Continue from ``out_dir/checkpoint.pt`` (written after every epoch).
    progress
        Receives :class:`~artlens.training.ProgressEvent` records: stages ``embed``, ``decode``, ``step``
        (metrics: running ``loss``, ``epoch``), ``epoch`` (``loss``, ``val_macro_f1``, ``val_accuracy``,
        ``val_loss``, ``best_epoch``; ``fold`` with k folds) and, with k folds, ``fold`` after each run.

    Returns
    -------
    dict
        As :func:`artlens.classify.train.linear.train_linear` (``out_dir``, ``mode``, ``backbone``,
        ``n_images``, ``n_used``, ``skipped``, ``heads``, ``seconds``) plus ``history`` (one record per epoch
        and run: ``fold``, ``epoch``, ``loss``, ``val_macro_f1``, ``val_accuracy``, ``val_loss``, ``lr``,
        ``seconds``; epoch 0 is the linear-probe start) and ``best_epoch`` (with k folds, the epochs of the
        final run).

    Raises
    ------
    ConfigError
        Bad settings; too few readable labelled images; ``resume`` without a checkpoint or with one written
        for other data or settings.

    Notes
    -----
    Bit-identical results for a seed need the same device and thread count; on CUDA some convolution
    gradients are not deterministic unless cuDNN is told to be.
    """
    _check(unfreeze, float(trunk_lr_scale), float(label_smoothing), batch_size)
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ConfigError(f"epochs must be at least 1, got {epochs!r}")
    recipe = FinetuneSettings(epochs=epochs, lr=float(lr), body_lr_scale=float(trunk_lr_scale),
                              weight_decay=float(weight_decay), warmup=_WARMUP, patience=patience)
    check_split_settings(val_split, kfold)
    aug = augment if isinstance(augment, AugmentSettings) else AugmentSettings.from_dict(augment)
    if not dataset.heads:
        raise ConfigError("the dataset has no label heads")
    net0 = get_backbone(backbone, device=device)
    tuned = _tuned_names(net0.trunk, unfreeze)
    settings = {"mode": "finetune", "val_split": val_split if kfold < 2 else None, "kfold": kfold,
                "seed": seed, "epochs": epochs, "unfreeze": unfreeze, "lr": float(lr),
                "trunk_lr_scale": float(trunk_lr_scale), "weight_decay": float(weight_decay),
                "label_smoothing": float(label_smoothing), "patience": patience, "batch_size": batch_size,
                "augment": aug.to_dict(), "tuned_modules": tuned, "optimizer": "AdamW",
                "schedule": f"linear warm-up ({_WARMUP:.0%} of steps, <= 1 epoch), cosine",
                "head_init": "linear probe (LP-FT)", "batch_norm": "frozen statistics",
                "class_weighting": "balanced", "selection": "validation macro-F1, ties by loss",
                "validation": f"{kfold}-fold" if kfold >= 2 else "stratified split"}
    out = Path(out_dir)
    fingerprint = _fingerprint(dataset, net0.spec.name, settings)
    ckpt_path = out / CHECKPOINT_FILE
    saved = load_checkpoint(ckpt_path, fingerprint=fingerprint) if resume else None

    t0 = time.perf_counter()
    x, kept, skipped = embed_paths(dataset.paths, net0, sha256=dataset.sha256 or None, batch_size=batch_size,
                                   cache=cache, progress=progress)
    t_embed = time.perf_counter() - t0
    t0 = time.perf_counter()
    images, decoded, failed = _decode(dataset.paths, kept, net0, progress)
    t_decode = time.perf_counter() - t0
    if failed:  # readable when embedded, not now (changed on disk): drop them from the features too
        x = x[np.isin(kept, decoded)]
        skipped = skipped + failed
    if decoded.size == 0:
        raise ConfigError(f"none of the {len(dataset.paths)} images could be read")
    data = dataset.subset(decoded)
    folds = split_rows(data, val_split=val_split, kfold=kfold, seed=seed)

    ctx = _Context(net0, data, images, x, settings, aug, tuned, recipe, ckpt_path, fingerprint, progress)
    if saved is not None:
        ctx.done = list(saved["done"])
    t0 = time.perf_counter()
    n_stages = len(folds) + (1 if kfold >= 2 else 0)
    with seeded(seed):
        result = None
        for stage in range(len(ctx.done), n_stages):
            run_state = saved["run"] if saved is not None and saved["run"] is not None \
                and int(saved["run"]["stage"]) == stage else None
            if stage < len(folds):
                train, val = folds[stage]
                result = _run(ctx, stage, train, val, epochs, run_state)
            else:
                best = math.floor(float(np.median([d["best_epoch"] for d in ctx.done])) + 0.5)
                result = _run(ctx, stage, np.arange(len(data)), None, best, run_state) if best > 0 else None
            last = stage == n_stages - 1  # this run's weights become the model: keep them until saved
            ctx.done.append({"best_epoch": result["best_epoch"] if result else 0,
                             "history": result["history"] if result else [],
                             "logits": [torch.from_numpy(np.ascontiguousarray(z)) for z in result["logits"]]
                             if result else [],
                             "state": result["state"] if result and last else {}})
            _save_checkpoint(ctx, None)
            if kfold >= 2:
                report(progress, "fold", stage + 1, n_stages)
        if result is None:  # resumed after the last run had finished, or a zero-epoch final run
            result = {"net": _rebuild(ctx, folds)}
    t_train = time.perf_counter() - t0

    heads: dict[str, dict] = {}
    for j, (head, classes) in enumerate(data.heads.items()):
        held = np.zeros((len(data), len(classes)), np.float64)
        for (_, val), d in zip(folds, ctx.done, strict=False):
            held[val] = np.asarray(d["logits"][j], np.float64)
        temperature, metrics = held_out_report(data.labels[head], held, classes, folds)
        heads[head] = {"classes": list(classes), "n_labelled": int((data.labels[head] >= 0).sum()),
                       "temperature": temperature, "metrics": metrics}
    history = [r for d in ctx.done for r in d["history"]]
    best_epoch = int(ctx.done[-1]["best_epoch"])
    settings = dict(settings, best_epoch=best_epoch)
    if kfold >= 2:
        settings["fold_best_epochs"] = [int(d["best_epoch"]) for d in ctx.done[:-1]]
    config = make_config("finetune", net0, dataset, heads, settings, int(decoded.size), skipped)
    config["history"] = history
    save_model(out, config, result["net"], with_trunk=True)
    ckpt_path.unlink(missing_ok=True)
    return {"out_dir": str(out_dir), "mode": "finetune", "backbone": net0.spec.name,
            "n_images": len(dataset.paths), "n_used": int(decoded.size), "skipped": skipped, "heads": heads,
            "seconds": {"embed": t_embed, "decode": t_decode, "train": t_train}, "history": history,
            "best_epoch": best_epoch}


def _rebuild(ctx: _Context, folds: list) -> ClassifierNet:
    """The model's network from the finished runs when no run in this call built it.

    Either training was interrupted after the last run had finished (its weights are in the checkpoint), or
    the k-fold final run has zero epochs (the linear-probe start won the folds): the linear heads on every
    row over the pretrained trunk.
    """
    s = ctx.settings
    rows = np.arange(len(ctx.data)) if s["kfold"] >= 2 else folds[0][0]
    heads = fit_heads(ctx.features[rows], ctx.data.subset(rows))
    net = _build_net(ctx.backbone, [len(c) for c in ctx.data.heads.values()], ctx.tuned, heads)
    if ctx.done[-1]["state"]:
        _load_trainable(net, ctx.done[-1]["state"])
    return net
