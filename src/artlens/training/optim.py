"""Optimiser and learning-rate schedule factories shared by every trainer.

* :func:`parameter_groups`: trainable parameters split into those with decoupled weight decay (weight
  matrices and convolution kernels) and those without (biases and the scales and shifts of normalisation
  layers, where decay only shrinks a re-scaling and hurts), as in timm's ``param_groups_weight_decay``.
* :func:`make_optimizer`: AdamW [1]_ by default.
* :func:`cosine_schedule`: a linear warm-up then a half-cosine decay to zero [2]_.

References
----------
.. [1] I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
.. [2] I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import nn

from artlens.errors import ConfigError

__all__ = ["NORM_LAYERS", "OPTIMIZERS", "cosine_schedule", "make_optimizer", "parameter_groups"]

#: Layers whose parameters never decay (besides every bias and other 1-D parameter).
NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.InstanceNorm1d, nn.InstanceNorm2d,
    nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm, nn.RMSNorm,
)

#: Names accepted by :func:`make_optimizer`.
OPTIMIZERS = ("adamw", "adam", "sgd")


def _no_decay_ids(module: nn.Module) -> set[int]:
    ids = set()
    for m in module.modules():
        if isinstance(m, NORM_LAYERS):
            ids.update(id(p) for p in m.parameters(recurse=False))
    ids.update(id(p) for p in module.parameters() if p.ndim <= 1)
    return ids


def parameter_groups(module: nn.Module | Iterable[nn.Parameter], weight_decay: float,
                     lr: float | None = None) -> list[dict[str, Any]]:
    """The trainable parameters of ``module`` as optimiser groups: decayed, then not decayed.

    Parameters
    ----------
    module
        A module, or parameters (then 1-D ones, biases and norm scales, are the ones not decayed).
    weight_decay
        Decay of the first group; the second group's is 0.
    lr
        Learning rate of both groups; the optimiser's default when None.

    Returns
    -------
    list of dict
        Only parameters with ``requires_grad``; empty groups are left out.
    """
    if weight_decay < 0 or not math.isfinite(weight_decay):
        raise ConfigError(f"weight_decay must be non-negative, got {weight_decay!r}")
    if isinstance(module, nn.Module):
        params, flat = list(module.parameters()), _no_decay_ids(module)
    else:
        params = list(module)
        flat = {id(p) for p in params if p.ndim <= 1}
    seen: set[int] = set()
    decay, no_decay = [], []
    for p in params:
        if not p.requires_grad or id(p) in seen:
            continue
        seen.add(id(p))
        (no_decay if id(p) in flat else decay).append(p)
    extra = {} if lr is None else {"lr": float(lr)}
    groups = [{"params": decay, "weight_decay": float(weight_decay), **extra},
              {"params": no_decay, "weight_decay": 0.0, **extra}]
    return [g for g in groups if g["params"]]


def make_optimizer(groups: nn.Module | Sequence[dict[str, Any]], *, lr: float, name: str = "adamw",
                   weight_decay: float = 0.0, **options: Any) -> torch.optim.Optimizer:
    """An optimiser over ``groups`` (from :func:`parameter_groups`) or over a module's trainable parameters.

    Parameters
    ----------
    groups
        Parameter groups (each may carry its own ``lr`` and ``weight_decay``), or a module, split by
        :func:`parameter_groups` with ``weight_decay``.
    lr
        Default learning rate (of groups without their own).
    name
        ``"adamw"`` (default), ``"adam"`` or ``"sgd"`` (momentum 0.9 unless ``options`` say otherwise).
    weight_decay
        Used only when ``groups`` is a module.
    options
        Passed to the optimiser (``betas``, ``eps``, ``momentum``...).

    Raises
    ------
    ConfigError
        An unknown name, a learning rate that is not positive, or no trainable parameter.
    """
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"lr must be positive, got {lr!r}")
    if isinstance(groups, nn.Module):
        groups = parameter_groups(groups, weight_decay)
    groups = [g for g in groups if g["params"]]
    if not groups:
        raise ConfigError("no trainable parameter to optimise")
    key = name.lower()
    if key == "adamw":
        return torch.optim.AdamW(groups, lr=lr, **options)
    if key == "adam":
        return torch.optim.Adam(groups, lr=lr, **options)
    if key == "sgd":
        return torch.optim.SGD(groups, lr=lr, **{"momentum": 0.9, **options})
    raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")


def _warmup_cosine(total: int, warmup: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return factor


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int,
                    warmup_steps: int = 0) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_steps`` then a half-cosine from each group's rate down to 0 [2]_.

    The factor at step ``s`` is ``(s + 1) / (warmup_steps + 1)`` during the warm-up, then
    ``0.5 * (1 + cos(pi * (s - warmup_steps) / (total_steps - warmup_steps)))``; step once per optimiser
    step. The returned scheduler's ``state_dict`` is checkpoint-safe.

    Raises
    ------
    ConfigError
        ``total_steps`` below 1 or ``warmup_steps`` outside ``[0, total_steps]``.
    """
    if total_steps < 1:
        raise ConfigError(f"total_steps must be at least 1, got {total_steps}")
    if not 0 <= warmup_steps <= total_steps:
        raise ConfigError(f"warmup_steps must lie in [0, {total_steps}], got {warmup_steps}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, _warmup_cosine(int(total_steps), int(warmup_steps)))
