"""Style transfer by optimisation over VGG features (Gatys, Ecker & Bethge 2016), coarse to fine.

The output image is optimised so that its deep features match the content image's (content loss) and the
Gram matrices of its features match the style image's (style loss), with a small total-variation term.
To be fast on a CPU, most iterations run on small images: the image is optimised at 1/4, then 1/2 of the
output size and the upsampled result starts the next scale, so the full-size stage only refines
(the multi-resolution scheme of Gatys et al. 2017, "Controlling perceptual factors"). One evaluation at full
size costs as much as 4 at half size and 16 at quarter size, so the default spends up to 100 and 50
evaluations on the small scales and 10 at full size: at most 28.75 full-size evaluations of work
(:meth:`GatysSettings.cost`), against 97.5 for the previous default of 200/100/60. Each scale runs L-BFGS
with a strong-Wolfe line search (pixels projected onto [0, 1] before every evaluation), keeps the best image
it has seen, and stops early when the loss improved by less than 0.2 % over the last 10 evaluations. The
encoder runs only up to the deepest layer the losses use, on channels-last tensors.

Losses (as in the PyTorch "Neural Transfer" tutorial, so weights are comparable):
``content = mean((F - F_c)^2)`` over the content layer's activations, ``G = F F^T / (C H W)`` and
``style = sum_l w_l mean((G_l - G_{s,l})^2)``; total ``= content_weight * content + style_weight * style +
tv_weight * tv``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from artlens.errors import ConfigError
from artlens.style.vgg import VGGEncoder, check_layers

__all__ = [
    "GatysResult",
    "GatysSettings",
    "content_loss",
    "evaluate",
    "gram_matrix",
    "optimise",
    "stalled",
    "style_loss",
    "total_variation",
]

#: progress(stage, step, total, losses) with stage counted from 1
Progress = Callable[[int, int, int, Mapping[str, float]], None]
#: snapshot(step, image) with image (H, W, 3) float in [0, 1]
Snapshot = Callable[[int, np.ndarray], None]

GATYS_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
GATYS_CONTENT_LAYERS = ("relu4_2",)


@dataclass(frozen=True)
class GatysSettings:
    """What :func:`optimise` minimises and how.

    Attributes
    ----------
    style_layers, content_layers
        Encoder layers (``relu4_2``, ``conv3_1`` ...). Defaults: Gatys et al. 2016.
    layer_weights
        Optional weight per style layer (default 1 each).
    style_weight, content_weight, tv_weight
        Loss weights.
    optimizer
        ``"lbfgs"`` or ``"adam"``.
    scales
        Fractions of the output size, coarse to fine; scales whose long side would fall under
        ``min_side`` px are dropped.
    steps
        Loss evaluations per scale (same length as ``scales``, or one number for every scale).
    lr
        Adam's learning rate (pixels in [0, 1]); L-BFGS uses 1.
    patience, min_improvement
        Early stopping: a scale ends when the best loss improved by less than ``min_improvement``
        (relative) over the last ``patience`` evaluations.
    init
        ``"content"`` (default) or ``"noise"`` (seeded).
    save_every
        Call the snapshot callback every this many evaluations (0: never).
    """

    style_layers: tuple[str, ...] = GATYS_STYLE_LAYERS
    content_layers: tuple[str, ...] = GATYS_CONTENT_LAYERS
    layer_weights: tuple[float, ...] | None = None
    style_weight: float = 1e6
    content_weight: float = 1.0
    tv_weight: float = 1e-2
    optimizer: str = "lbfgs"
    scales: tuple[float, ...] = (0.25, 0.5, 1.0)
    steps: tuple[int, ...] = (100, 50, 10)
    lr: float = 0.02
    patience: int = 10
    min_improvement: float = 2e-3
    init: str = "content"
    save_every: int = 0
    min_side: int = 48

    def __post_init__(self) -> None:
        if self.optimizer not in {"lbfgs", "adam"}:
            raise ConfigError(f"optimizer must be lbfgs or adam, not {self.optimizer!r}")
        if self.init not in {"content", "noise"}:
            raise ConfigError(f"init must be content or noise, not {self.init!r}")
        if not self.scales or any(not 0 < s <= 1 for s in self.scales):
            raise ConfigError("scales must be fractions in (0, 1]")
        if len(self.steps) not in (1, len(self.scales)) or any(s < 0 for s in self.steps):
            raise ConfigError("steps: one non-negative number, or one per scale")
        if self.layer_weights is not None and len(self.layer_weights) != len(self.style_layers):
            raise ConfigError("layer_weights needs one weight per style layer")
        if min(self.style_weight, self.content_weight, self.tv_weight) < 0:
            raise ConfigError("loss weights must be non-negative")

    def cost(self, size: tuple[int, int]) -> float:
        """The most work the schedule does for an output of ``size`` (h, w), in evaluations at full size
        (an evaluation costs in proportion to its pixels; early stopping may do less)."""
        full = size[0] * size[1]
        return sum(h * w / full * n for (h, w), n in self.stage_plan(size))

    def stage_plan(self, size: tuple[int, int]) -> list[tuple[tuple[int, int], int]]:
        """``[((h, w), steps), ...]`` for an output of ``size`` (h, w), coarse to fine."""
        h, w = size
        steps = self.steps * len(self.scales) if len(self.steps) == 1 else self.steps
        plan = []
        for scale, n in zip(self.scales, steps, strict=True):
            sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
            if max(sh, sw) < self.min_side and scale < 1:
                continue
            if plan and plan[-1][0] == (sh, sw):
                plan[-1] = ((sh, sw), plan[-1][1] + n)
            else:
                plan.append(((sh, sw), n))
        return plan


@dataclass
class GatysResult:
    """The optimised image and what happened."""

    image: np.ndarray  # (H, W, 3) float32 in [0, 1]
    losses: dict[str, float]  # at the final scale: total, content, style, tv
    evaluations: list[int] = field(default_factory=list)  # per stage
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------------------------
# Losses
# ------------------------------------------------------------------------------------------------------------

def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix of feature maps, normalised by their size.

    Parameters
    ----------
    features
        (N, C, H, W) activations.

    Returns
    -------
    torch.Tensor
        (N, C, C): ``G[n, i, j] = sum_p F[n, i, p] F[n, j, p] / (C H W)``.

    References
    ----------
    .. [1] L. A. Gatys, A. S. Ecker, M. Bethge, "Image style transfer using convolutional neural networks",
       CVPR 2016.
    """
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def content_loss(features: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Mean squared difference of activations, summed over the content layers."""
    return sum((F.mse_loss(features[k], targets[k]) for k in targets), torch.zeros(()))


def style_loss(features: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor],
               layer_weights: Mapping[str, float] | None = None) -> torch.Tensor:
    """Weighted sum over layers of the mean squared difference between Gram matrices."""
    total = torch.zeros(())
    for name, target in target_grams.items():
        weight = 1.0 if layer_weights is None else layer_weights[name]
        total = total + weight * F.mse_loss(gram_matrix(features[name]), target)
    return total


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels (N, C, H, W), both directions."""
    dy = image[..., 1:, :] - image[..., :-1, :]
    dx = image[..., :, 1:] - image[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


# ------------------------------------------------------------------------------------------------------------
# Optimisation
# ------------------------------------------------------------------------------------------------------------

def _to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    arr = rgb.astype(np.float32) / (255.0 if rgb.dtype == np.uint8 else 1.0)
    return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))[None].to(device)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    smaller = size[0] * size[1] < x.shape[-2] * x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=smaller).clamp(0, 1)


def _style_size(style_hw: tuple[int, int], out_hw: tuple[int, int]) -> tuple[int, int]:
    """The style image scaled so its longest side equals the stage's longest side."""
    sh, sw = style_hw
    scale = max(out_hw) / max(sh, sw)
    return max(1, round(sh * scale)), max(1, round(sw * scale))


class _Objective:
    """The loss at one scale, with targets computed once."""

    def __init__(self, encoder: VGGEncoder, settings: GatysSettings, content: torch.Tensor,
                 styles: Sequence[tuple[torch.Tensor, float]], size: tuple[int, int]) -> None:
        self.encoder = encoder
        self.s = settings
        self.layers = sorted(set(settings.style_layers) | set(settings.content_layers),
                             key=encoder.names.index)
        weights = settings.layer_weights or (1.0,) * len(settings.style_layers)
        self.layer_weights = dict(zip(settings.style_layers, weights, strict=True))
        with torch.no_grad():  # targets are used in autograd later: not inference tensors
            feats = encoder(_resize(content, size), settings.content_layers)
            self.content_targets = {k: v.clone() for k, v in feats.items()}
            grams: dict[str, torch.Tensor] = {}
            for image, weight in styles:  # a mixture of styles: the weighted mean of their Gram matrices
                sfeats = encoder(_resize(image, _style_size(tuple(image.shape[-2:]), size)),
                                 settings.style_layers)
                for k in settings.style_layers:
                    g = gram_matrix(sfeats[k]) * weight
                    grams[k] = grams[k] + g if k in grams else g
            self.style_targets = {k: v.clone() for k, v in grams.items()}

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        feats = self.encoder(image, self.layers)
        c = content_loss(feats, self.content_targets) if self.s.content_weight else torch.zeros(())
        st = style_loss(feats, self.style_targets, self.layer_weights)
        tv = total_variation(image) if self.s.tv_weight else torch.zeros(())
        total = self.s.content_weight * c + self.s.style_weight * st + self.s.tv_weight * tv
        named = (("total", total), ("content", c), ("style", st), ("tv", tv))
        parts = {k: float(v.detach()) for k, v in named}
        return total, parts


class _EarlyStop(Exception):
    pass


def optimise(encoder: VGGEncoder, content: np.ndarray, styles: Sequence[tuple[np.ndarray, float]],
             size: tuple[int, int], settings: GatysSettings | None = None, *, seed: int | None = None,
             progress: Progress | None = None, snapshot: Snapshot | None = None) -> GatysResult:
    """Optimise an image of ``size`` (h, w) that has ``content``'s content and the (mixed) styles' style.

    Parameters
    ----------
    encoder
        A :class:`~artlens.style.vgg.VGGEncoder` (its device is used).
    content
        (H, W, 3) RGB, uint8 or float in [0, 1]; resized to each scale.
    styles
        ``[(rgb, weight), ...]``; weights should sum to 1 (a mixture of Gram targets).
    size
        Output (height, width).
    settings
        Layers, weights, optimiser and schedule; defaults to :class:`GatysSettings`.
    seed
        Seeds torch's generator (noise initialisation).
    progress
        Called after every loss evaluation as ``progress(stage, step, total, losses)``.
    snapshot
        Called every ``settings.save_every`` evaluations with the current image (H, W, 3) in [0, 1], at
        the current scale.

    Returns
    -------
    GatysResult

    References
    ----------
    .. [1] L. A. Gatys, A. S. Ecker, M. Bethge, "Image style transfer using convolutional neural networks",
       CVPR 2016.
    .. [2] L. A. Gatys, A. S. Ecker, M. Bethge, A. Hertzmann, E. Shechtman, "Controlling perceptual factors
       in neural style transfer", CVPR 2017 (coarse-to-fine optimisation).
    """
    s = settings or GatysSettings()
    check_layers(encoder, [*s.style_layers, *s.content_layers])
    device = next(encoder.parameters()).device
    if seed is not None:
        torch.manual_seed(seed)
    start = time.perf_counter()
    content_t = _to_tensor(content, device)
    style_ts = [(_to_tensor(img, device), float(w)) for img, w in styles]
    plan = s.stage_plan(size)
    image: torch.Tensor | None = None
    run = _Run(s, progress, snapshot)
    for stage, (hw, n_steps) in enumerate(plan, start=1):
        if image is None:
            image = (_resize(content_t, hw) if s.init == "content"
                     else torch.rand((1, 3, *hw), device=device))
        else:
            image = _resize(image, hw)
        objective = _Objective(encoder, s, content_t, style_ts, hw)
        image = run.stage(stage, objective, image, n_steps)
    assert image is not None
    final = image.detach().clamp(0, 1)
    return GatysResult(image=final[0].permute(1, 2, 0).cpu().numpy(), losses=run.last,
                       evaluations=run.evaluations, seconds=time.perf_counter() - start)


class _Run:
    """Runs the optimiser scale by scale, counting evaluations and reporting progress."""

    def __init__(self, settings: GatysSettings, progress: Progress | None, snapshot: Snapshot | None) -> None:
        self.s = settings
        self.progress = progress
        self.snapshot = snapshot
        self.global_step = 0
        self.evaluations: list[int] = []
        self.last: dict[str, float] = {}

    def stage(self, stage: int, objective: _Objective, start: torch.Tensor, n_steps: int) -> torch.Tensor:
        s = self.s
        image = start.detach().clone().contiguous().requires_grad_(True)
        history: list[float] = []
        if s.optimizer == "lbfgs":
            optimiser: torch.optim.Optimizer = torch.optim.LBFGS(
                [image], lr=1.0, max_iter=20, history_size=100, tolerance_grad=0.0, tolerance_change=0.0,
                line_search_fn="strong_wolfe")
        else:
            optimiser = torch.optim.Adam([image], lr=s.lr)

        best: list = [math.inf, image.detach().clone()]

        def closure() -> torch.Tensor:
            with torch.no_grad():  # projected onto valid pixels (unconstrained optima leave [0, 1])
                image.clamp_(0, 1)
            optimiser.zero_grad(set_to_none=True)
            loss, parts = objective(image)
            loss.backward()
            history.append(parts["total"])
            if parts["total"] < best[0]:  # line searches try points: keep the best image seen
                best[0], best[1] = parts["total"], image.detach().clone()
                self.last = parts
            self.global_step += 1
            if self.progress is not None:
                self.progress(stage, len(history), n_steps, parts)
            if self.snapshot is not None and s.save_every and self.global_step % s.save_every == 0:
                self.snapshot(self.global_step, image.detach().clamp(0, 1)[0].permute(1, 2, 0).cpu().numpy())
            return loss

        while len(history) < n_steps:
            before = len(history)
            if s.optimizer == "lbfgs":
                chunk = min(20, n_steps - before)
                optimiser.param_groups[0]["max_iter"] = chunk
                optimiser.param_groups[0]["max_eval"] = chunk
            optimiser.step(closure)
            if len(history) == before or not math.isfinite(history[-1]):
                break
            if stalled(history, s.patience, s.min_improvement):
                break
        self.evaluations.append(len(history))
        return best[1].clamp(0, 1)


def stalled(history: Sequence[float], patience: int, min_improvement: float) -> bool:
    """True when the best loss of the last ``patience`` evaluations beats the best before them by less than
    ``min_improvement`` (relative); a loss already at zero has stalled too."""
    if patience <= 0 or len(history) <= patience:
        return False
    before = min(history[:-patience])
    recent = min(history[-patience:])
    return recent >= before * (1 - min_improvement)


def evaluate(encoder: VGGEncoder, image: np.ndarray, content: np.ndarray,
             styles: Sequence[tuple[np.ndarray, float]], settings: GatysSettings | None = None
             ) -> dict[str, float]:
    """The losses of ``image`` (H, W, 3) against the content and styles, at ``image``'s size."""
    s = settings or GatysSettings()
    device = next(encoder.parameters()).device
    x = _to_tensor(image, device)
    objective = _Objective(encoder, s, _to_tensor(content, device),
                           [(_to_tensor(i, device), float(w)) for i, w in styles], tuple(x.shape[-2:]))
    with torch.inference_mode():
        return objective(x)[1]
