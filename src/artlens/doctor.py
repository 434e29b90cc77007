"""``artlens doctor``: what this installation runs on, gathered as plain data."""

from __future__ import annotations

import importlib.metadata as md
import os
import platform
from typing import Any

from artlens import __version__, weights

__all__ = ["collect"]

_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "pillow", "opencv-contrib-python-headless",
             "onnxruntime", "onnx", "safetensors", "faiss-cpu", "h5py", "typer", "rich", "pyyaml", "fastapi",
             "ray")


def _version_of(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def collect(address: str | None = None) -> dict[str, Any]:
    """Versions, threads, device, cache folder and weight states (no download, no model loaded); with
    ``address``, also the Ray cluster there: nodes, CPUs, GPUs and memory (``ray`` in the result)."""
    import cv2
    import torch

    from artlens.models.backbones import select_device

    device = select_device()
    gpu = device if device.type == "cuda" else 0  # the one artlens will use, e.g. ARTLENS_DEVICE=cuda:1
    cuda = (f"{torch.cuda.get_device_name(gpu)} (CUDA {torch.version.cuda})" if torch.cuda.is_available()
            else "not available")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    info = {
        "versions": {"artlens": __version__, "python": platform.python_version(),
                     "platform": platform.platform(), **{p: _version_of(p) for p in _PACKAGES}},
        "device": str(device),
        "cuda": cuda,
        "cpu_cores": cores,
        "torch_threads": torch.get_num_threads(),
        "opencv_threads": cv2.getNumThreads(),
        "cache_dir": str(weights.cache_dir()),
        "weights": [
            {"name": s.name, "state": s.state, "path": str(s.path) if s.path else None, "detail": s.detail}
            for s in (weights.local_status(w.name) for w in weights.list_weights())
        ],
    }
    if address is not None:
        from artlens.engine.ray_session import cluster_summary

        info["ray"] = cluster_summary(address)
    return info
