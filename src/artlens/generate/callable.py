"""``artlens.generate(...)``: the package that holds the GAN is also the function that samples it.

The package's module object takes this class, so calling it calls :func:`artlens.generate.sample.generate`
(imported then, so ``import artlens.generate`` stays cheap).
"""

from __future__ import annotations

import types
from typing import Any

__all__ = ["CallableModule"]


class CallableModule(types.ModuleType):
    """A module that, called, returns new images from a GAN model (see :func:`~artlens.generate.generate`)."""

    def __call__(self, model: Any, n: int = 16, *, seed: int = 0, truncation: float | None = None) -> list:
        from artlens.generate.sample import generate

        return generate(model, n, seed=seed, truncation=truncation)
