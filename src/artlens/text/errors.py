"""The text errors: a corpus that cannot be read, and a text model that cannot be used."""

from __future__ import annotations

from artlens.errors import ArtlensError, printable

__all__ = ["TextCorpusError", "TextModelError"]


class TextCorpusError(ArtlensError):
    """A corpus file could not be read or used (names the file and the reason)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{printable(self.path)}: {reason}")


class TextModelError(ArtlensError):
    """A text model (folder or file) is missing, damaged, or cannot do what was asked of it."""
