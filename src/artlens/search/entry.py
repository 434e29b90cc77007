"""What the search index keeps of one file's pixels: hash, size, pHash and vectors, computed wherever the
file is read (this process, or a worker of an engine) and stored by
:class:`~artlens.search.index.SearchIndex`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["IndexEntry"]


@dataclass(frozen=True)
class IndexEntry:
    """One file's content hash, size in pixels, perceptual hash, content vector and style vector (or None)."""

    sha256: str
    width: int
    height: int
    phash: int
    content: np.ndarray
    style: np.ndarray | None
