"""Package ``__init__`` files re-export their public names lazily: a submodule is imported on first use.

This keeps ``import artlens.<package>`` cheap (the learned model's package does not load PyTorch until a name
that needs it is asked for) and makes import cycles through ``__init__`` impossible (PEP 562).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``, whose public ``name`` lives in ``exports[name]``
    (a module's dotted name). Assign them in the package's ``__init__``."""

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__, sorted(exports)
