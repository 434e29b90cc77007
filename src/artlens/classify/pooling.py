"""How a classifier pools a trunk's maps into one feature vector: average, GeM, or several depths.

* ``avg``: global average pooling of the last convolution (the pooled feature of most transfer learning);
* ``gem``: generalised-mean pooling, ``(mean x^p)^(1/p)`` with p = 3, between average (p = 1) and max
  pooling (Radenović, Tolias and Chum, "Fine-tuning CNN image retrieval with no human annotation", TPAMI
  2019);
* ``multi``: the average-pooled maps of several depths concatenated with the last convolution's: the
  multi-level spatially pooled feature of Hosu, Goldluecke and Saupe, "Effective aesthetics prediction with
  multi-level spatially pooled features", CVPR 2019. Shallow blocks keep texture and stroke statistics that
  separate drawings, renders and photographs; the last one mostly content.

:class:`PooledTrunk` computes any of them in one pass of the trunk (forward hooks take the shallower maps),
so the same module serves training, inference and ONNX export.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from artlens.errors import ConfigError
from artlens.models.backbones.taps import HOOK_LOCK, dry_run, trunk_blocks

__all__ = ["NORMS", "POOLINGS", "PooledTrunk", "gem_pool", "multi_depth_stages", "normalise_pooled",
           "pool_features", "pooled_dim", "tap_modules"]

POOLINGS = ("avg", "gem", "multi")
NORMS = ("none", "l2", "sqrt")
GEM_P = 3.0


def normalise_pooled(f: torch.Tensor, norm: str) -> torch.Tensor:
    """(N, D) pooled features normalised: ``none``; ``l2``: each row to unit length; ``sqrt``: signed square
    root, then ``l2`` (power normalisation, Perronnin, Sánchez and Mensink, ECCV 2010)."""
    if norm not in NORMS:
        raise ConfigError(f"feature normalisation must be one of {', '.join(NORMS)}, got {norm!r}")
    if norm == "none":
        return f
    if norm == "sqrt":
        f = torch.sign(f) * torch.sqrt(torch.abs(f).clamp(min=1e-12))  # finite gradient at 0 (Grad-CAM)
    return f / torch.linalg.vector_norm(f, dim=1, keepdim=True).clamp(min=1e-12)


def gem_pool(maps: torch.Tensor, p: float = GEM_P, eps: float = 1e-6) -> torch.Tensor:
    """Generalised-mean pooling of (N, C, h, w) maps to (N, C) (Radenović et al., TPAMI 2019)."""
    return maps.clamp(min=eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


def multi_depth_stages(trunk: nn.Module) -> tuple[int, ...]:
    """Blocks of :func:`trunk_blocks` whose maps ``multi`` pools besides the last convolution's: the last
    block of each run of equal width and resolution from stride 8 on, the final block excluded."""
    blocks = trunk_blocks(trunk)
    shapes: dict[int, tuple[int, ...]] = {}
    taps = [b[-1] if isinstance(b, nn.ModuleList) else b for b in blocks]
    dry_run(trunk, taps, lambda i, out: shapes.__setitem__(i, tuple(out.shape[1:])))
    last = len(blocks) - 1
    stages = []
    for i in range(last):
        if shapes[i][1] <= 64 // 8 and shapes[i] != shapes[i + 1]:
            stages.append(i)
    return tuple(stages)


def tap_modules(trunk: nn.Module, stages: Sequence[int]) -> list[nn.Module]:
    """The modules whose outputs are the maps of blocks ``stages`` of :func:`trunk_blocks` (checked to lie
    below the last block)."""
    blocks = trunk_blocks(trunk)
    if any(int(s) < 0 or int(s) >= len(blocks) - 1 for s in stages):
        raise ConfigError(f"multi-depth stages must lie below {len(blocks) - 1}, got {list(stages)}")
    return [b[-1] if isinstance(b, nn.ModuleList) else b for b in (blocks[int(s)] for s in stages)]


def pool_features(trunk: nn.Module, x: torch.Tensor, pooling: str,
                  taps: Sequence[nn.Module] = ()) -> torch.Tensor:
    """(N, D) pooled features of a preprocessed batch: the trunk's last maps pooled by ``pooling``, and for
    ``multi`` the average-pooled outputs of ``taps`` (taken with forward hooks, under the hook lock) first."""
    if pooling == "avg":
        return trunk(x).mean(dim=(2, 3))
    if pooling == "gem":
        return gem_pool(trunk(x))
    if pooling != "multi":
        raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
    outputs: dict[int, torch.Tensor] = {}
    with HOOK_LOCK:
        hooks = [tap.register_forward_hook(lambda _m, _in, out, i=i: outputs.__setitem__(i, out))
                 for i, tap in enumerate(taps)]
        try:
            last = trunk(x)
        finally:
            for hook in hooks:
                hook.remove()
    return torch.cat([outputs[i].mean(dim=(2, 3)) for i in range(len(taps))] + [last.mean(dim=(2, 3))], dim=1)


class PooledTrunk(nn.Module):
    """A trunk followed by one of :data:`POOLINGS`: a preprocessed batch (N, 3, H, W) in, (N, D) out.

    Shares parameters with ``trunk``. For ``multi``, the maps of ``stages`` (default
    :func:`multi_depth_stages`) are average-pooled before the last convolution's (:func:`pool_features`).
    """

    def __init__(self, trunk: nn.Module, pooling: str = "avg", stages: Sequence[int] | None = None) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        self.trunk = trunk
        self.pooling = pooling
        self.stages: tuple[int, ...] = ()
        if pooling == "multi":
            self.stages = tuple(int(s) for s in (multi_depth_stages(trunk) if stages is None else stages))
        self._taps = tap_modules(trunk, self.stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pool_features(self.trunk, x, self.pooling, self._taps)


def pooled_dim(trunk: nn.Module, pooling: str, stages: Sequence[int] | None = None) -> int:
    """Length of :class:`PooledTrunk`'s output for this trunk and pooling (one small probe pass)."""
    param = next(trunk.parameters())
    with torch.inference_mode():
        return int(PooledTrunk(trunk, pooling, stages)(
            torch.zeros(1, 3, 64, 64, device=param.device, dtype=param.dtype)).shape[1])
