"""The music errors: a file that cannot be read as music, and a model folder that cannot be used."""

from __future__ import annotations

from artlens.errors import ArtlensError, printable

__all__ = ["MusicFileError", "MusicModelError"]


class MusicFileError(ArtlensError):
    """A MIDI, MusicXML or ABC file could not be read or used (names the file and the reason)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{printable(self.path)}: {reason}")


class MusicModelError(ArtlensError):
    """A music model folder is missing, damaged, or cannot do what was asked of it."""
