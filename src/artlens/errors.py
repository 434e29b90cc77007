"""The artlens error family: every message names what went wrong and what the user can do about it."""

from __future__ import annotations

__all__ = [
    "ArtlensError",
    "ConfigError",
    "ImageArrayError",
    "ImageLoadError",
    "PolicyError",
    "WeightsError",
    "printable",
]


def printable(text: object) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``, ...), so a file name cannot split a
    one-line message or drive the terminal."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
                   for ch in value)


class ArtlensError(Exception):
    """Base class of every error artlens raises on purpose.

    The CLI prints ``str(error)`` on one line and exits non-zero; the service answers a JSON 4xx.
    """


class ImageLoadError(ArtlensError):
    """An input file could not be read as an image (names the file and the reason)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{printable(self.path)}: {reason}")


class ImageArrayError(ArtlensError, ValueError):
    """An in-memory image array has a shape or dtype artlens cannot read (see
    :func:`artlens.imageio.as_rgb_uint8`)."""


class WeightsError(ArtlensError):
    """A named weight file could not be resolved or failed its hash check."""


class PolicyError(ArtlensError):
    """A policy (preset or YAML file) is invalid; the message names the bad key."""


class ConfigError(ArtlensError):
    """An option or setting is invalid."""
