"""The artlens error family: every message names what went wrong and what the user can do about it."""

from __future__ import annotations

__all__ = [
    "ArtlensError",
    "ConfigError",
    "ImageLoadError",
    "PolicyError",
    "WeightsError",
]


class ArtlensError(Exception):
    """Base class of every error artlens raises on purpose.

    The CLI prints ``str(error)`` on one line and exits non-zero; the service answers a JSON 4xx.
    """


class ImageLoadError(ArtlensError):
    """An input file could not be read as an image (names the file and the reason)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class WeightsError(ArtlensError):
    """A named weight file could not be resolved or failed its hash check."""


class PolicyError(ArtlensError):
    """A policy (preset or YAML file) is invalid; the message names the bad key."""


class ConfigError(ArtlensError):
    """An option or setting is invalid."""
