"""artlens: judge images with deep learning for online shops and art platforms."""

from __future__ import annotations

from artlens.errors import ArtlensError, ConfigError, ImageLoadError, PolicyError, WeightsError
from artlens.lazy import lazy_exports

__version__ = "0.1.0"

# ``artlens.stylize`` is :func:`artlens.style.stylize`, imported on first use (it loads PyTorch).
# ``artlens.generate(model, n)`` is :func:`artlens.gan.sample.generate`: new images from a GAN model.
__getattr__, __dir__, _lazy = lazy_exports(__name__, {"stylize": "artlens.style.transfer",
                                                      "generate": "artlens.gan.sample"})

__all__ = [
    "ArtlensError",
    "ConfigError",
    "ImageLoadError",
    "PolicyError",
    "WeightsError",
    "__version__",
    "generate",
    "stylize",
]
