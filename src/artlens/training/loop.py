"""The training loops every artlens trainer runs: :func:`fit` (epochs) and :func:`finetune` (LP-FT on it).

:func:`fit` is generic over "a model, an optimiser, a batch iterator and a loss function": per epoch it puts
the training modules in train mode, steps the optimiser (and scheduler, and an exponential moving average of
the weights when given) over the batches, validates, tracks the best state by an early-stopping score,
reports :class:`~artlens.training.progress.ProgressEvent` records and writes a checkpoint from which a resumed
run continues bit-identically (model, optimiser, scheduler, moving average, early stopping, history and every
random generator: :mod:`artlens.training.checkpoints`). A music LSTM, a GAN's bookkeeping or a classifier
head use it as it is.

:func:`finetune` is the one fine-tuning recipe of pretrained backbones, LP-FT [1]_: the head(s) are trained
first with the backbone frozen (``probe_epochs`` here, or a closed-form probe on cached features by the
caller), then the last blocks are unfrozen and trained with the head at a lower learning rate
(``lr * body_lr_scale``). AdamW [2]_ with no weight decay on biases and normalisation parameters
(:func:`~artlens.training.optim.parameter_groups`), a linear warm-up then a cosine decay over every step [3]_,
and, with a validation callback, early stopping that keeps the best epoch, the starting point (epoch 0)
included: if tuning only hurts, the probe is kept.

References
----------
.. [1] A. Kumar, A. Raghunathan, R. Jones, T. Ma and P. Liang, "Fine-Tuning can Distort Pretrained Features
   and Underperform Out-of-Distribution", ICLR 2022.
.. [2] I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
.. [3] I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.training.checkpoints import Generator, capture_rng, restore_rng, save_checkpoint
from artlens.training.optim import cosine_schedule, make_optimizer, parameter_groups
from artlens.training.progress import Progress, report
from artlens.training.stopping import EarlyStopping, Score

__all__ = ["FinetuneSettings", "FitResult", "Validation", "finetune", "fit"]

B = TypeVar("B")

#: Where a loop's state goes after every epoch: a file (:func:`~artlens.training.checkpoints.save_checkpoint`)
#: or a function that stores it (e.g. inside a larger checkpoint of the caller's).
Checkpoint = str | Path | Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Validation:
    """What a validation callback returns: figures (the loop's score reads them) and, optionally, outputs to
    keep for the best epoch (e.g. held-out logits, as tensors so they can be checkpointed)."""

    metrics: Mapping[str, float]
    outputs: Any = None


@dataclass
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    best_epoch
        The epoch whose state the model holds at the end (0: the state before training; without validation,
        the last epoch).
    epochs
        Epochs trained in all (resumed ones included).
    history
        One record per epoch: ``epoch``, ``loss`` (the mean batch loss weighted by batch length; None for the
        epoch-0 validation), the validation metrics, ``lr`` (the first group's rate at the epoch's end),
        ``seconds``.
    best_metrics, best_outputs
        The validation of the best epoch (None without validation).
    stopped_early
        Whether early stopping ended training before ``epochs``.
    """

    best_epoch: int
    epochs: int
    history: list[dict[str, Any]] = field(default_factory=list)
    best_metrics: dict[str, float] | None = None
    best_outputs: Any = None
    stopped_early: bool = False


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def _as_validation(value: Validation | Mapping[str, float]) -> Validation:
    return value if isinstance(value, Validation) else Validation(dict(value))


def _scorer(monitor: str | Callable[[Mapping[str, float]], Score]) -> Callable[[Mapping[str, float]], Score]:
    if callable(monitor):
        return monitor

    def read(metrics: Mapping[str, float]) -> Score:
        if monitor not in metrics:
            raise ConfigError(f"the validation gives no {monitor!r} to monitor (it gives {sorted(metrics)})")
        return float(metrics[monitor])
    return read


def _save(checkpoint: Checkpoint, state: dict[str, Any]) -> None:
    if callable(checkpoint):
        checkpoint(state)
    else:
        save_checkpoint(checkpoint, state)


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, batches: Callable[[int], Iterable[B]],
        loss: Callable[[B], torch.Tensor], *, epochs: int,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        validate: Callable[[], Validation | Mapping[str, float]] | None = None,
        monitor: str | Callable[[Mapping[str, float]], Score] = "val_loss",
        stopping: EarlyStopping | None = None, validate_start: bool = False,
        train_modules: Sequence[nn.Module] | None = None, ema: nn.Module | None = None,
        generators: Mapping[str, Generator] | None = None, checkpoint: Checkpoint | None = None,
        resume: Mapping[str, Any] | None = None, progress: Progress | None = None,
        tags: Mapping[str, float] | None = None) -> FitResult:
    """Train ``model`` for up to ``epochs`` epochs; validate, stop early, checkpoint and report on the way.

    Parameters
    ----------
    model
        What is trained (and checkpointed: its whole ``state_dict``, buffers included).
    optimizer
        Over the model's trainable parameters (:func:`~artlens.training.optim.make_optimizer`).
    batches
        ``batches(epoch)`` (epoch counted from 0) gives that epoch's batches; draw randomness from
        ``generators`` or from generators seeded by the epoch, so a resumed run draws the same.
    loss
        ``loss(batch)``: the batch's loss. When it needs no gradient (nothing to learn in the batch), the
        optimiser does not step; the scheduler always does.
    epochs
        The most epochs (a resumed run counts those already done).
    scheduler
        Stepped after every batch.
    validate
        Called after every epoch (and before the first with ``validate_start``) in no-grad mode with the
        training modules in eval mode; returns metrics or a :class:`Validation`.
    monitor
        The metric that decides the best epoch, or a function of the metrics giving a score (a tuple compares
        in order), judged by ``stopping``.
    stopping
        Early stopping (default: never stops, lower is better); its patience counts validations.
    validate_start
        Also validate before training: the starting state is a candidate for the best (epoch 0).
    train_modules
        Put in train mode for the batches and back in eval mode afterwards; default ``[model]``. Pass ``()``
        to keep everything in eval mode (e.g. frozen batch-norm statistics and no dropout).
    ema
        A moving average of the model (``torch.optim.swa_utils.AveragedModel``), updated after every
        optimiser step and checkpointed.
    generators
        Private random generators the batches or loss draw from, checkpointed with the global ones.
    checkpoint
        After every epoch the loop state goes to this file or function; ``resume`` takes that state back.
    resume
        A state given to ``checkpoint`` earlier: training continues after its epoch, exactly as if it had not
        stopped (same device and thread count).
    progress
        Receives ``step`` events (done of the epoch's batches; metrics ``loss``, ``epoch``) and ``epoch``
        events (done of ``epochs``; ``loss``, the validation metrics, ``best_epoch``); ``tags`` are added.
    tags
        Figures added to every event and history record (e.g. ``{"fold": 2}``).

    Returns
    -------
    FitResult
        The model holds the best epoch's state (the last epoch's without validation).
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ConfigError(f"epochs must be 0 or more, got {epochs!r}")
    stopping = stopping if stopping is not None else EarlyStopping(None, mode="min")
    score = _scorer(monitor)
    modules = [model] if train_modules is None else list(train_modules)
    extra = dict(tags or {})
    epoch, step, history = 0, 0, []
    best_epoch, best_state, best_metrics, best_outputs = 0, None, None, None

    def evaluate(at_epoch: int) -> Validation:
        nonlocal best_epoch, best_state, best_metrics, best_outputs
        for m in modules:
            m.eval()
        with torch.no_grad():
            result = _as_validation(validate())
        if stopping.update(score(result.metrics)):
            best_epoch, best_state = at_epoch, _cpu_state(model)
            best_metrics, best_outputs = dict(result.metrics), result.outputs
        return result

    if resume is not None:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(resume["scheduler"])
        if ema is not None:
            ema.load_state_dict(resume["ema"])
        stopping.load_state_dict(resume["stopping"])
        epoch, step, history = int(resume["epoch"]), int(resume["step"]), list(resume["history"])
        best_epoch, best_state = int(resume["best_epoch"]), resume["best_state"]
        best_metrics, best_outputs = resume["best_metrics"], resume["best_outputs"]
        restore_rng(resume["rng"], generators)
    elif validate is not None and validate_start:
        t0 = time.perf_counter()
        start = evaluate(0)
        history.append({"epoch": 0, "loss": None, **start.metrics, "lr": 0.0,
                        "seconds": time.perf_counter() - t0, **extra})

    stopped = False
    while epoch < epochs:
        if validate is not None and stopping.should_stop:
            stopped = True
            break
        t0 = time.perf_counter()
        for m in modules:
            m.train()
        parts = batches(epoch)
        total = len(parts) if hasattr(parts, "__len__") else None
        running, count = 0.0, 0
        for b, batch in enumerate(parts):
            value = loss(batch)
            optimizer.zero_grad(set_to_none=True)
            if value.requires_grad:
                value.backward()
                optimizer.step()
                if ema is not None:
                    ema.update_parameters(model)
            if scheduler is not None:
                scheduler.step()
            step += 1
            size = len(batch) if hasattr(batch, "__len__") else 1
            running += float(value.detach()) * size
            count += size
            report(progress, "step", b + 1, total,
                   {"loss": running / max(1, count), "epoch": epoch + 1, **extra})
        for m in modules:
            m.eval()
        epoch += 1
        record: dict[str, Any] = {"epoch": epoch, "loss": running / max(1, count)}
        if validate is not None:
            record.update(evaluate(epoch).metrics)
        else:
            best_epoch, best_state = epoch, None
        record.update(lr=float(optimizer.param_groups[0]["lr"]), seconds=time.perf_counter() - t0, **extra)
        history.append(record)
        if checkpoint is not None:
            _save(checkpoint, {
                "epoch": epoch, "step": step, "model": _cpu_state(model), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "ema": ema.state_dict() if ema is not None else None, "stopping": stopping.state_dict(),
                "history": history, "best_epoch": best_epoch, "best_state": best_state,
                "best_metrics": best_metrics, "best_outputs": best_outputs, "rng": capture_rng(generators)})
        shown = {k: v for k, v in record.items() if k not in ("epoch", "lr", "seconds")}
        report(progress, "epoch", epoch, epochs, {**shown, "best_epoch": best_epoch})
    if best_state is not None:
        model.load_state_dict(best_state)
    return FitResult(best_epoch=best_epoch, epochs=epoch, history=history, best_metrics=best_metrics,
                     best_outputs=best_outputs, stopped_early=stopped)


# ------------------------------------------------------------------------------------------------------------
# LP-FT
# ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FinetuneSettings:
    """Settings of :func:`finetune`.

    Attributes
    ----------
    epochs
        Most fine-tuning epochs (head and unfrozen blocks together).
    lr
        Peak learning rate of the head(s).
    body_lr_scale
        The unfrozen blocks learn at ``lr * body_lr_scale`` (LP-FT's lower rate for pretrained features).
    weight_decay
        AdamW's decoupled weight decay, not on biases and normalisation parameters.
    warmup
        Fraction of the steps (at most one epoch) with a linearly rising rate before the cosine decay.
    probe_epochs
        Epochs of the head alone with the blocks frozen first (0 when the caller fitted the head already,
        e.g. on cached features).
    patience
        Validations without improvement before stopping; 0 never stops early.
    optimizer
        :func:`~artlens.training.optim.make_optimizer` name.
    """

    epochs: int
    lr: float = 1e-3
    body_lr_scale: float = 0.1
    weight_decay: float = 1e-4
    warmup: float = 0.05
    probe_epochs: int = 0
    patience: int = 0
    optimizer: str = "adamw"

    def __post_init__(self) -> None:
        checks = [
            (isinstance(self.epochs, int) and self.epochs >= 0,
             f"epochs must be 0 or more, got {self.epochs!r}"),
            (math.isfinite(self.lr) and self.lr > 0, f"lr must be positive, got {self.lr!r}"),
            (math.isfinite(self.body_lr_scale) and self.body_lr_scale >= 0,
             f"the backbone's learning-rate scale must be 0 or more, got {self.body_lr_scale!r}"),
            (math.isfinite(self.weight_decay) and self.weight_decay >= 0,
             f"weight_decay must be non-negative, got {self.weight_decay!r}"),
            (0.0 <= self.warmup <= 1.0, f"warmup must lie in [0, 1], got {self.warmup!r}"),
            (isinstance(self.probe_epochs, int) and self.probe_epochs >= 0,
             f"probe_epochs must be 0 or more, got {self.probe_epochs!r}"),
            (isinstance(self.patience, int) and self.patience >= 0,
             f"patience must be 0 (off) or more, got {self.patience!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def _parameters(part: nn.Module | Sequence[nn.Module] | Sequence[nn.Parameter]) -> list[nn.Parameter]:
    if isinstance(part, nn.Module):
        return list(part.parameters())
    out: list[nn.Parameter] = []
    for item in part:
        out.extend(item.parameters() if isinstance(item, nn.Module) else [item])
    return out


def _groups(part: nn.Module | Sequence[nn.Module] | Sequence[nn.Parameter], weight_decay: float,
            lr: float) -> list[dict[str, Any]]:
    if isinstance(part, nn.Module):
        return parameter_groups(part, weight_decay, lr)
    if all(isinstance(m, nn.Module) for m in part):
        return [g for m in part for g in parameter_groups(m, weight_decay, lr)]
    return parameter_groups(_parameters(part), weight_decay, lr)


def _merge(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Groups with the same rate and decay joined (in order), so per-module groups do not multiply."""
    merged: dict[tuple[float, float], dict[str, Any]] = {}
    for g in groups:
        key = (g["lr"], g["weight_decay"])
        if key in merged:
            merged[key]["params"] = [*merged[key]["params"], *g["params"]]
        else:
            merged[key] = dict(g)
    return list(merged.values())


def finetune(model: nn.Module, *, head: nn.Module | Sequence[nn.Module],
             body: nn.Module | Sequence[nn.Module] | Sequence[nn.Parameter],
             batches: Callable[[int], Iterable[B]], loss: Callable[[B], torch.Tensor],
             steps_per_epoch: int, settings: FinetuneSettings,
             validate: Callable[[], Validation | Mapping[str, float]] | None = None,
             monitor: str | Callable[[Mapping[str, float]], Score] = "val_loss", mode: str = "min",
             min_delta: float = 0.0, train_modules: Sequence[nn.Module] | None = None,
             generators: Mapping[str, Generator] | None = None, checkpoint: Checkpoint | None = None,
             resume: Mapping[str, Any] | None = None, progress: Progress | None = None,
             tags: Mapping[str, float] | None = None) -> FitResult:
    """LP-FT [1]_: the head(s), then the unfrozen blocks of a pretrained body with them at a lower rate.

    Parameters
    ----------
    model
        The whole network (checkpointed); ``head`` and ``body`` are parts of it.
    head
        The task head(s): trained at ``settings.lr``.
    body
        The blocks to unfreeze (modules or parameters): trained at ``lr * body_lr_scale``; their
        ``requires_grad`` is set False for the probe epochs and True for fine-tuning (and stays so).
    batches, loss
        As in :func:`fit`; ``steps_per_epoch`` is the number of batches per epoch (for the schedule).
    settings
        :class:`FinetuneSettings`.
    validate, monitor, mode, min_delta
        Validation and the early-stopping score (``mode`` ``"min"`` or ``"max"``); with ``validate`` the
        fine-tuning starts by validating the probed model (epoch 0), which wins if tuning does not beat it.
    train_modules, generators, checkpoint, resume, progress, tags
        As in :func:`fit`; the checkpoint state also names the phase (``probe`` or ``finetune``).

    Returns
    -------
    FitResult
        Of the fine-tuning phase; the model holds its best state.

    Notes
    -----
    The schedule of each phase is :func:`~artlens.training.optim.cosine_schedule` over all its steps with a
    warm-up of ``ceil(warmup * steps)`` steps, at most one epoch.
    """
    if steps_per_epoch < 1:
        raise ConfigError(f"steps_per_epoch must be at least 1, got {steps_per_epoch}")
    s = settings
    body_params = _parameters(body)
    phase = resume["phase"] if resume is not None else "probe"

    def scheduled(groups: list[dict[str, Any]], epochs: int):
        opt = make_optimizer(_merge(groups), lr=s.lr, name=s.optimizer)
        total = max(1, epochs * steps_per_epoch)
        return opt, cosine_schedule(opt, total, min(steps_per_epoch, math.ceil(s.warmup * total)))

    def saver(name: str) -> Checkpoint | None:
        if checkpoint is None:
            return None
        if callable(checkpoint):
            return lambda state: checkpoint({"phase": name, "fit": state})
        return lambda state: save_checkpoint(checkpoint, {"phase": name, "fit": state})

    common = {"train_modules": train_modules, "generators": generators, "progress": progress}
    if s.probe_epochs and phase == "probe":
        for p in body_params:
            p.requires_grad_(False)
        opt, sched = scheduled(_groups(head, s.weight_decay, s.lr), s.probe_epochs)
        fit(model, opt, batches, loss, epochs=s.probe_epochs, scheduler=sched, checkpoint=saver("probe"),
            resume=resume["fit"] if resume is not None else None,
            tags={**(tags or {}), "phase": 0}, **common)
        resume = None
    for p in body_params:
        p.requires_grad_(True)
    opt, sched = scheduled([*_groups(head, s.weight_decay, s.lr),
                            *_groups(body, s.weight_decay, s.lr * s.body_lr_scale)], s.epochs)
    return fit(model, opt, batches, loss, epochs=s.epochs, scheduler=sched, validate=validate,
               monitor=monitor, stopping=EarlyStopping(s.patience, min_delta, mode),
               validate_start=validate is not None, checkpoint=saver("finetune"),
               resume=resume["fit"] if resume is not None and phase == "finetune" else None, tags=tags,
               **common)
