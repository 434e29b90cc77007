"""A backbone's convolutional trunk exported to ONNX and run with ONNX Runtime (faster on a CPU).

The graph gives the maps a quality model pools: the last convolution's, or one output per stage
(:class:`artlens.models.backbones.StageMaps`).

On 2 CPU threads ONNX Runtime runs MobileNetV2's trunk about 1.6x faster than PyTorch eager mode at the sizes
the quality model uses (448 and 224 px; ``benchmarks/assess_speed.py``). The export is made once per
backbone state and cached in ``$ARTLENS_CACHE/onnx/``; every new session is checked against PyTorch on a
probe input before it is used, and anything that fails (no ``onnx`` exporter, an ONNX Runtime error, a
mismatch) leaves the model on PyTorch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.models.backbones import Backbone, StageMaps
from artlens.models.onnxrt import cpu_session, export_module
from artlens.weights import cache_dir

__all__ = ["OnnxTrunk", "export_trunk", "onnx_trunk"]

_TOLERANCE = 1e-3  # max abs difference of feature maps (values up to ~10) on the probe input


def _fingerprint(backbone: Backbone, stage_maps: StageMaps | None) -> str:
    digest = hashlib.sha256(backbone.spec.name.encode())
    if stage_maps is not None:  # exports of the last convolution alone keep their earlier names
        digest.update(repr(tuple(stage_maps.stages)).encode())
    for name, tensor in backbone.trunk.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()[:24]


def _maps_module(backbone: Backbone, stage_maps: StageMaps | None) -> nn.Module:
    """What is exported: the trunk, or ``stage_maps`` over it (a tuple of maps), in eval mode on the CPU."""
    return (stage_maps if stage_maps is not None else backbone.trunk).eval().to("cpu")


def export_trunk(backbone: Backbone, path: str | Path, stage_maps: StageMaps | None = None) -> Path:
    """Write the backbone's trunk as ONNX (batch, height and width dynamic) and return the path.

    Outputs: ``maps``, the last convolution's; or with ``stage_maps`` (a
    :class:`~artlens.models.backbones.StageMaps` over the backbone's trunk), ``maps_0``, ``maps_1`` ... one
    per
    stage.
    """
    probe = torch.zeros((1, 3, 224, 224), dtype=torch.float32)
    names = ["maps"] if stage_maps is None else [f"maps_{i}" for i in range(len(stage_maps.stages))]
    axes = {"image": {0: "n", 2: "h", 3: "w"}} | {
        name: {0: "n", 2: f"rows{i}", 3: f"cols{i}"} for i, name in enumerate(names)}
    return export_module(_maps_module(backbone, stage_maps), (probe,), path, input_names=["image"],
                         output_names=names, dynamic_axes=axes, source=backbone.spec.name)


class OnnxTrunk:
    """Callable like :meth:`artlens.iqa.model.QualityModel.trunk_maps`: a preprocessed (N, 3, H, W)
    tensor in, a tuple of maps out."""

    def __init__(self, path: str | Path, threads: int) -> None:
        self.path = Path(path)
        self.session = cpu_session(self.path, threads)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return tuple(torch.from_numpy(m) for m in self.session.run(None, {"image": array}))


def onnx_trunk(backbone: Backbone, stage_maps: StageMaps | None = None) -> OnnxTrunk | None:
    """An ONNX Runtime trunk equal to ``backbone``'s (with ``stage_maps``, a
    :class:`~artlens.models.backbones.StageMaps` over that trunk: equal to it), or None where it cannot be
    had (see
    module notes)."""
    if backbone.device.type != "cpu":
        return None  # on an accelerator PyTorch is the faster path
    try:
        path = cache_dir() / "onnx" / f"{backbone.spec.name}-{_fingerprint(backbone, stage_maps)}.onnx"
        if not path.is_file():
            export_trunk(backbone, path, stage_maps)
        trunk = OnnxTrunk(path, torch.get_num_threads())
        probe = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 96, 128)).astype(np.float32))
        with torch.inference_mode():
            expected = _maps_module(backbone, stage_maps)(probe)
        got = trunk(probe)
        expected = expected if isinstance(expected, tuple) else (expected,)
        if len(got) != len(expected) or any(float((g - e.float()).abs().max()) > _TOLERANCE
                                            for g, e in zip(got, expected, strict=True)):
            return None
        return trunk
    except Exception:  # any failure of the optional fast path leaves PyTorch in charge
        return None
