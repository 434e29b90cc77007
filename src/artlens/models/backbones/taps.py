"""The blocks of a trunk and the maps of chosen blocks (multi-level features), taken with forward hooks
under one process-wide lock, so that concurrent callers of a shared backbone never see each other's maps."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import torch
from torch import nn

from artlens.errors import ConfigError

__all__ = ["HOOK_LOCK", "MULTI_LEVEL_STAGES", "StageMaps", "check_stages", "dry_run", "trunk_blocks",
           "tunable_blocks"]

_NORMS = (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)


def trunk_blocks(trunk: nn.Module) -> list[nn.Module]:
    """The trunk's blocks, in order, that take part in its forward pass (what fine-tuning unfreezes).

    Descends through single wrappers to the first level with several parameterised children, expands module
    lists (containers, not layers), drops modules the forward pass never calls (such as a classifier kept
    beside the trunk) and joins a lone normalisation layer to the block before it, so a bare "convolution,
    batch norm" pair counts as one block, as in torchvision's ``Conv2dNormActivation``.
    """
    module = trunk
    while True:
        kids = [m for m in module.children() if next(m.parameters(), None) is not None]
        if len(kids) != 1:
            break
        module = kids[0]
    blocks: list[nn.Module] = []
    for m in kids:
        if isinstance(m, nn.ModuleList):
            blocks.extend(c for c in m if next(c.parameters(), None) is not None)
        else:
            blocks.append(m)
    called: set[int] = set()
    dry_run(trunk, blocks, lambda i, _out: called.add(id(blocks[i])))
    joined: list[nn.Module] = []
    for b in (b for b in blocks if id(b) in called):
        if joined and isinstance(b, _NORMS):
            prev = joined.pop()
            joined.append(nn.ModuleList([*(prev if isinstance(prev, nn.ModuleList) else [prev]), b]))
        else:
            joined.append(b)
    return joined


def dry_run(trunk: nn.Module, modules: Sequence[nn.Module], seen: Callable[[int, torch.Tensor], None],
            side: int = 64) -> None:
    """Run ``trunk`` once on a black ``side`` x ``side`` image and call ``seen(i, output)`` for each of
    ``modules`` (by position) that the forward pass calls; the hooks are removed afterwards."""
    hooks = [m.register_forward_hook(lambda _m, _i, out, i=i: seen(i, out)) for i, m in enumerate(modules)]
    param = next(trunk.parameters())
    try:
        with torch.inference_mode():
            trunk(torch.zeros(1, 3, side, side, device=param.device, dtype=param.dtype))
    finally:
        for h in hooks:
            h.remove()


def check_stages(stages: Sequence[int], n_blocks: int | None = None) -> tuple[int, ...]:
    """``stages`` as a tuple of ints after checking that they are increasing, distinct block numbers from 0
    (below ``n_blocks`` when it is known); raises ConfigError otherwise."""
    out = tuple(int(s) for s in stages)
    top = "" if n_blocks is None else f" below {n_blocks}"
    if list(out) != sorted(set(out)) or any(s < 0 or (n_blocks is not None and s >= n_blocks) for s in out):
        raise ConfigError(f"stages must be increasing, distinct block numbers from 0{top}, got {list(out)}")
    return out


#: Blocks of :func:`trunk_blocks` that a quality model pools by default (:class:`StageMaps`), per backbone:
#: for MobileNetV2 the last block of each group of equal width from stride 4 on (24, 32, 64, 96, 160 and
#: 320 channels). A backbone not listed pools its last convolution.
MULTI_LEVEL_STAGES: dict[str, tuple[int, ...]] = {"mobilenet_v2": (3, 6, 10, 13, 16, 17)}

HOOK_LOCK = threading.Lock()  # one hooked pass at a time: hooks on shared blocks see every caller's pass


class StageMaps(nn.Module):
    """The output maps of chosen :func:`trunk_blocks` of a trunk, shallow to deep: multi-level features.

    Early blocks keep the local statistics that blur, noise and compression change; the last ones mostly
    content. Pooling the outputs of blocks at every depth is the multi-level spatially pooled (MLSP) feature
    of Hosu, Goldluecke and Saupe, "Effective aesthetics prediction with multi-level spatially pooled
    features", CVPR 2019. A trunk that is a plain sequence of its blocks (MobileNetV2) runs block by block,
    only as deep as the deepest chosen one; any other runs whole while forward hooks take the chosen blocks'
    outputs, one pass at a time (a lock keeps concurrent passes from reading each other's maps). Shares
    parameters with ``trunk``.

    Parameters
    ----------
    trunk
        A backbone's trunk (:attr:`Backbone.trunk`).
    stages
        Distinct indices into :func:`trunk_blocks` of ``trunk``, increasing.

    Attributes
    ----------
    channels
        Channels of each chosen block's output.
    """

    def __init__(self, trunk: nn.Module, stages: Sequence[int]) -> None:
        super().__init__()
        blocks = trunk_blocks(trunk)
        if not stages:
            raise ConfigError("StageMaps needs at least one stage")
        self.stages = stages = check_stages(stages, len(blocks))
        self._sequence = isinstance(trunk, nn.Sequential) and len(trunk) == len(blocks) \
            and all(a is b for a, b in zip(trunk, blocks, strict=True))
        self.trunk = trunk[:stages[-1] + 1] if self._sequence else trunk
        # a joined "convolution, normalisation" block is a list: its output is the normalisation's
        self._taps = [b[-1] if isinstance(b, nn.ModuleList) else b for b in (blocks[s] for s in stages)]
        param = next(trunk.parameters())
        with torch.inference_mode():
            probe = self(torch.zeros(1, 3, 64, 64, device=param.device, dtype=param.dtype))
        self.channels = tuple(int(m.shape[1]) for m in probe)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """A preprocessed batch (N, 3, H, W) in; one (N, C_i, h_i, w_i) map per stage out."""
        if self._sequence:
            maps = []
            for i, block in enumerate(self.trunk):
                x = block(x)
                if i in self.stages:
                    maps.append(x)
            return tuple(maps)
        outputs: dict[int, torch.Tensor] = {}
        with HOOK_LOCK:
            hooks = [tap.register_forward_hook(lambda _m, _in, out, i=i: outputs.__setitem__(i, out))
                     for i, tap in enumerate(self._taps)]
            try:
                self.trunk(x)
            finally:
                for hook in hooks:
                    hook.remove()
        return tuple(outputs[i] for i in range(len(self._taps)))


def tunable_blocks(trunk: nn.Module, n: int, *, deepest: int | None = None) -> list[nn.Module]:
    """The last ``n`` of :func:`trunk_blocks`, or of those up to block ``deepest`` (a model that pools
    :class:`StageMaps` never runs the blocks after its deepest stage): the most task-specific features.

    Yosinski et al., "How transferable are features in deep neural networks?", NeurIPS 2014.
    """
    blocks = trunk_blocks(trunk)
    if deepest is not None:
        blocks = blocks[:deepest + 1]
    return blocks[-n:] if n > 0 else []
