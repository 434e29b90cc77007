"""The quality model shipped with artlens, and loading of user-trained ones.

The shipped model is a folder inside the package (``models/default``: ``config.json`` and
``model.safetensors``, the trained heads only; the MobileNetV2 backbone comes through :mod:`artlens.weights`).
Its files are pinned by SHA-256 here and checked on load, like every other weight file. It was made by
``artlens train quality --pristine .data/pristine/manifest.csv --out src/artlens/quality/models/default``
(:mod:`artlens.iqa.train.recipe`; data preparation in ``docs/models.md``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

from artlens.iqa.files import CONFIG_FILE, WEIGHTS_FILE
from artlens.weights import verify_pinned

if TYPE_CHECKING:
    from artlens.iqa.model import QualityModel

__all__ = ["DEFAULT_MODEL_DIR", "DEFAULT_MODEL_SHA256", "load_quality_model", "verify_default_model"]

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "models" / "default"

#: SHA-256 of the shipped model's files.
DEFAULT_MODEL_SHA256 = {
    CONFIG_FILE: "552c9332faa97197e2d562a73a971491ac9088f7bc07ed8f38fdd66f33149ae4",
    WEIGHTS_FILE: "ec26ddfed8543f4b3fc496ec095fdd64000433c40e6658035a3f029caa97706a",
}


def verify_default_model() -> None:
    """Check the shipped model's files against :data:`DEFAULT_MODEL_SHA256`; raise WeightsError if not."""
    verify_pinned(DEFAULT_MODEL_DIR, DEFAULT_MODEL_SHA256, "the shipped quality model")


@functools.lru_cache(maxsize=4)
def _load(folder: str, shipped: bool) -> QualityModel:
    from artlens.iqa.model import QualityModel

    if shipped:
        verify_default_model()
    model = QualityModel.load(folder)
    if os.environ.get("ARTLENS_ONNX", "1") != "0":  # ARTLENS_ONNX=0 keeps PyTorch for the trunk
        model.use_onnx()
    return model


def load_quality_model(folder: str | os.PathLike[str] | None = None) -> QualityModel:
    """The quality model in ``folder`` (a directory saved by :meth:`QualityModel.save`), or the shipped one.

    Models are cached per process, so the worker processes of ``artlens assess`` load each one once. On a
    CPU the backbone runs with ONNX Runtime where it can (:meth:`QualityModel.use_onnx`), unless the
    environment sets ``ARTLENS_ONNX=0``.
    """
    if folder is None:
        return _load(str(DEFAULT_MODEL_DIR), True)
    return _load(str(Path(folder).resolve()), False)
