"""Pretrained networks artlens runs: the backbone registry (:mod:`artlens.models.backbones`) and the ONNX
Runtime helpers (:mod:`artlens.models.onnxrt`)."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "OPSET": "artlens.models.onnxrt",
    "cpu_session": "artlens.models.onnxrt",
    "export_module": "artlens.models.onnxrt",
    "weight_session": "artlens.models.onnxrt",
})
