"""Networks artlens runs: the backbone registry (:mod:`artlens.models.backbones`), the ONNX Runtime helpers
(:mod:`artlens.models.onnxrt`) and the token LSTM of the music and text models
(:mod:`artlens.models.lstm`)."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "OPSET": "artlens.models.onnxrt",
    "Stepper": "artlens.models.lstm",
    "TokenLSTM": "artlens.models.lstm",
    "cpu_session": "artlens.models.onnxrt",
    "export_module": "artlens.models.onnxrt",
    "weight_session": "artlens.models.onnxrt",
})
