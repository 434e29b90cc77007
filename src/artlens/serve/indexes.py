"""The search indexes a server opened at startup (``--index NAME=DIR``), and how a request names one.

A client names an index by its registered name, never by folder, and names images by their *indexed* path
only: anything else is an error entry, found without touching the file system.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from artlens.serve.errors import ApiError

__all__ = ["RegisteredIndex", "check_by", "indexed_paths", "open_indexes", "pick_index"]


class RegisteredIndex:
    """An open index and the lock that keeps one request at a time on its connection and caches."""

    def __init__(self, name: str, index: Any) -> None:
        self.name, self.index, self.lock = name, index, threading.Lock()


def open_indexes(registered: dict[str, Path]) -> dict[str, RegisteredIndex]:
    """Open every registered index (an :class:`~artlens.errors.ArtlensError` names a folder holding none)."""
    if not registered:
        return {}
    from artlens.search.index import SearchIndex

    return {name: RegisteredIndex(name, SearchIndex.open(folder)) for name, folder in registered.items()}


def pick_index(indexes: dict[str, RegisteredIndex], name: str | None) -> RegisteredIndex:
    """The index a request names (optional with one index); 404/422 naming the registered ones."""
    if not indexes:
        raise ApiError(404, "no_indexes", "no search index is registered with this server (start it with "
                       "--index NAME=DIR)")
    if name is None and len(indexes) == 1:
        return next(iter(indexes.values()))
    if name is None:
        raise ApiError(422, "invalid_input", f"several indexes are registered: choose one with 'index' "
                       f"({', '.join(sorted(indexes))})")
    if name not in indexes:
        raise ApiError(404, "unknown_index",
                       f"unknown index {name!r}; registered: {', '.join(sorted(indexes))}")
    return indexes[name]


def check_by(reg: RegisteredIndex, by: str) -> None:
    """422 when ``by=style`` is asked of an index without style vectors."""
    if by == "style" and not reg.index.has_style:
        raise ApiError(422, "invalid_input", f"index {reg.name!r} has no style vectors; use by=content")


def indexed_paths(reg: RegisteredIndex, raws: Sequence[str]) -> tuple[list[str], list[dict[str, str]]]:
    """The indexed paths among ``raws`` (as stored) and an error entry for each other one.

    Only absolute paths without ``..`` are looked up, and only in the index's table: nothing else is read.
    """
    found: list[str] = []
    errors: list[dict[str, str]] = []
    for raw in raws:
        item = None
        if raw and "\x00" not in raw and len(raw) <= 4096 and PurePath(raw).is_absolute() \
                and ".." not in PurePath(raw).parts:
            item = reg.index.item_by_path(raw)
        if item is None:
            errors.append({"query": raw, "error": f"{raw}: not an indexed path of index {reg.name!r}"})
        else:
            found.append(item.path)
    return found, errors
