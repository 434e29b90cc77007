"""File names inside a quality model folder.

Kept apart from :mod:`artlens.iqa.model` so that code which only names or hashes a model's files (the
analysis key of ``artlens assess``, the shipped model's pins) does not import PyTorch.
"""

from __future__ import annotations

__all__ = ["CONFIG_FILE", "ONNX_FILE", "WEIGHTS_FILE"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
ONNX_FILE = "model.onnx"
