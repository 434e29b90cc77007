"""A backbone's convolutional trunk exported to ONNX and run with ONNX Runtime (faster on a CPU).

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

from artlens.backbones import Backbone
from artlens.onnxrt import cpu_session, export_module
from artlens.weights import cache_dir

__all__ = ["OnnxTrunk", "export_trunk", "onnx_trunk"]

_TOLERANCE = 1e-3  # max abs difference of feature maps (values up to ~10) on the probe input


def _fingerprint(backbone: Backbone) -> str:
    digest = hashlib.sha256(backbone.spec.name.encode())
    for name, tensor in backbone.trunk.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()[:24]


def export_trunk(backbone: Backbone, path: str | Path) -> Path:
    """Write the backbone's trunk as ONNX (batch, height and width dynamic) and return the path."""
    trunk = backbone.trunk.eval().to("cpu")
    probe = torch.zeros((1, 3, 224, 224), dtype=torch.float32)
    return export_module(trunk, (probe,), path, input_names=["image"], output_names=["maps"],
                         dynamic_axes={"image": {0: "n", 2: "h", 3: "w"},
                                       "maps": {0: "n", 2: "rows", 3: "cols"}},
                         source=backbone.spec.name)


class OnnxTrunk:
    """Callable like ``backbone.feature_maps``: a preprocessed (N, 3, H, W) tensor in, maps out."""

    def __init__(self, path: str | Path, threads: int) -> None:
        self.path = Path(path)
        self.session = cpu_session(self.path, threads)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)
        return torch.from_numpy(self.session.run(None, {"image": array})[0])


def onnx_trunk(backbone: Backbone) -> OnnxTrunk | None:
    """An ONNX Runtime trunk equal to ``backbone``'s, or None where it cannot be had (see module notes)."""
    if backbone.device.type != "cpu":
        return None  # on an accelerator PyTorch is the faster path
    try:
        path = cache_dir() / "onnx" / f"{backbone.spec.name}-{_fingerprint(backbone)}.onnx"
        if not path.is_file():
            export_trunk(backbone, path)
        trunk = OnnxTrunk(path, torch.get_num_threads())
        probe = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 96, 128)).astype(np.float32))
        with torch.inference_mode():
            expected = backbone.feature_maps(probe).float().cpu()
        if float((trunk(probe) - expected).abs().max()) > _TOLERANCE:
            return None
        return trunk
    except Exception:  # any failure of the optional fast path leaves PyTorch in charge
        return None
