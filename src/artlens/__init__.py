"""artlens: judge images with deep learning for online shops and art platforms."""

from __future__ import annotations

from artlens.errors import ArtlensError, ConfigError, ImageLoadError, PolicyError, WeightsError
from artlens.lazy import lazy_exports

__version__ = "0.1.0"

# ``artlens.stylize`` is :func:`artlens.style.stylize`, imported on first use (it loads PyTorch).
# ``artlens.generate(model, n)`` samples a GAN; the package ``artlens.generate`` is callable to the same end.
__getattr__, __dir__, _lazy = lazy_exports(__name__, {"stylize": "artlens.style.transfer",
                                                      "generate": "artlens.generate"})

__all__ = [
    "ArtlensError",
    "ConfigError",
    "ImageLoadError",
    "PolicyError",
    "WeightsError",
    "__version__",
    "stylize",
]
