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
    "stylize",
]


def __getattr__(name: str) -> object:
    """``artlens.stylize`` is :func:`artlens.style.stylize`, imported on first use (it loads PyTorch)."""
    if name == "stylize":
        from artlens.style import stylize

        return stylize
    raise AttributeError(f"module 'artlens' has no attribute {name!r}")
