"""Export a classifier model folder to ONNX and check the export against PyTorch.

The exported graph is the whole network: a preprocessed batch ``image`` (N, 3, H, W) in, one ``logits_<i>``
output (N, K_i) per head out (temperatures are applied outside, as for PyTorch). Batch, height and width are
dynamic. The file is written next to ``model.safetensors`` as ``model.onnx`` and ``config.json`` records its
opset and the SHA-256 of the weights it came from, so a retrained folder never runs a stale export.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from artlens.classify.model import CONFIG_FILE, ONNX_FILE, load_classifier, weights_fingerprint
from artlens.errors import ArtlensError
from artlens.models.onnxrt import OPSET, export_module

__all__ = ["OPSET", "export_onnx", "onnx_parity"]

TOLERANCE = 1e-4  # largest allowed |ONNX - PyTorch| difference of a logit on the probe images


class _Exportable(nn.Module):
    """The network with its heads' outputs as a flat tuple (ONNX names them ``logits_0``, ``logits_1``...)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.net(x))


def onnx_parity(model_dir: str | Path, *, n: int = 4, seed: int = 0) -> float:
    """Largest absolute difference between ONNX Runtime and PyTorch logits on random probe inputs.

    The probes are ``n`` random images preprocessed as the model expects.
    """
    torch_model = load_classifier(model_dir, use_onnx=False, device="cpu")
    onnx_model = load_classifier(model_dir, use_onnx=True, device="cpu")
    rng = np.random.default_rng(seed)
    images = [rng.integers(0, 256, (rng.integers(200, 400), rng.integers(200, 400), 3), dtype=np.uint8)
              for _ in range(n)]
    x = torch_model.preprocess(images)
    expected = torch_model.logits(x)
    got = onnx_model.logits(x)
    return float(max(np.abs(a - b).max() for a, b in zip(expected, got, strict=True)))


def export_onnx(model_dir: str | Path, *, check: bool = True) -> dict:
    """Write ``model.onnx`` into a classifier model folder and record it in ``config.json``.

    Parameters
    ----------
    model_dir
        A folder written by ``artlens train classify``.
    check
        Compare ONNX Runtime with PyTorch on probe images and refuse an export that differs by more than
        ``1e-4`` in any logit.

    Returns
    -------
    dict
        ``{"path", "opset", "bytes", "max_abs_diff"}`` (``max_abs_diff`` is None without ``check``).

    Raises
    ------
    ArtlensError
        The export fails, or the check finds a larger difference (the file is then removed).
    """
    root = Path(model_dir)
    clf = load_classifier(root, use_onnx=False, device="cpu")
    net = _Exportable(clf.net).eval()
    size = int(clf.config["preprocessing"]["input_size"]) if "preprocessing" in clf.config else 224
    probe = torch.zeros((1, 3, size, size), dtype=torch.float32)
    outputs = [f"logits_{i}" for i in range(len(clf.heads))]
    axes = {"image": {0: "n", 2: "h", 3: "w"}} | {name: {0: "n"} for name in outputs}
    path = export_module(net, (probe,), root / ONNX_FILE, input_names=["image"], output_names=outputs,
                         dynamic_axes=axes, source=root)
    cfg_path = root / CONFIG_FILE
    config = json.loads(cfg_path.read_text(encoding="utf-8"))
    config["onnx"] = {"file": ONNX_FILE, "opset": OPSET, "outputs": outputs,
                      "weights_sha256": weights_fingerprint(root)}
    cfg_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    diff = None
    if check:
        diff = onnx_parity(root)
        if not diff <= TOLERANCE:
            path.unlink(missing_ok=True)
            config.pop("onnx")
            cfg_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
            raise ArtlensError(f"{root}: the ONNX export differs from PyTorch by {diff:.2e} "
                               f"(> {TOLERANCE:g}); not kept")
        config["onnx"]["max_abs_diff"] = diff
        cfg_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return {"path": str(path), "opset": OPSET, "bytes": path.stat().st_size, "max_abs_diff": diff}
