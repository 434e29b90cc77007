"""The errors of the GAN package: a model folder that cannot be used, data that cannot train one."""

from __future__ import annotations

from artlens.errors import ArtlensError, ConfigError, printable

__all__ = ["GanDataError", "GanModelError"]


class GanModelError(ArtlensError):
    """A GAN model folder is missing, damaged or of another kind."""

    def __init__(self, folder: object, reason: str) -> None:
        super().__init__(f"{printable(folder)}: {reason}")


class GanDataError(ConfigError):
    """A training folder gives too few usable images."""

    def __init__(self, folder: object, reason: str) -> None:
        super().__init__(f"{printable(folder)}: {reason}")
