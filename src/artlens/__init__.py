"""artlens: judge images with deep learning for online shops and art platforms."""

from __future__ import annotations

from artlens.errors import ArtlensError, ConfigError, ImageLoadError, PolicyError, WeightsError

__version__ = "0.1.0"

__all__ = [
    "ArtlensError",
    "ConfigError",
    "ImageLoadError",
    "PolicyError",
    "WeightsError",
    "__version__",
]
