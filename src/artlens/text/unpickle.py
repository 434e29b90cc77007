"""Reading the poetry corpus's gzip pandas pickle without running any code it could name.

``pickle.load`` calls whatever callable a pickle names, so a pickle from elsewhere can run code. The
Gutenberg Poetry Corpus ships as a pandas ``DataFrame`` pickle; :func:`read_frame_pickle` reads it with an
unpickler whose ``find_class`` knows an exact allow-list: NumPy's array reconstruction (the real, harmless
functions) and the pandas names, replaced by inert stand-ins that only record their arguments (so pandas is
not needed either). Any other global is refused with :class:`~artlens.text.errors.TextCorpusError`.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import zlib
from typing import Any

import numpy as np

from artlens.text.errors import TextCorpusError

__all__ = ["ALLOWED_GLOBALS", "read_frame_pickle"]

#: ``numpy.core.multiarray._reconstruct`` as the running NumPy names it (``numpy._core`` in NumPy 2)
_RECONSTRUCT = np.ndarray((0,), np.uint8).__reduce__()[0]


class _Stub:
    """An inert stand-in for a pandas class: it keeps what the pickle gives it, and does nothing else."""

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state


class _FrameStub(_Stub):
    """pandas.core.frame.DataFrame."""


class _ManagerStub(_Stub):
    """pandas.core.internals.managers.BlockManager."""


class _IndexStub(_Stub):
    """pandas.core.indexes.base.Index."""


class _RangeIndexStub(_Stub):
    """pandas.core.indexes.range.RangeIndex."""


def _new_index(cls: type, data: dict[str, Any]) -> _Stub:
    stub = cls()
    stub.state = data
    return stub


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("builtins", "slice"): slice,
    ("pandas.core.frame", "DataFrame"): _FrameStub,
    ("pandas.core.internals.managers", "BlockManager"): _ManagerStub,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("pandas.core.indexes.base", "Index"): _IndexStub,
    ("pandas.core.indexes.range", "RangeIndex"): _RangeIndexStub,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise TextCorpusError(self.source, f"refused: the pickle names {module}.{name}, "
                                               "which is not on the allow-list") from None


def _columns(frame: _FrameStub, source: str) -> dict[str, list[Any]]:
    """The frame's columns as plain lists, from the BlockManager state pandas >= 0.14 writes."""
    state = frame.state
    manager = state.get("_data") or state.get("_mgr") if isinstance(state, dict) else None
    if not isinstance(manager, _ManagerStub) or not isinstance(manager.state, tuple) \
            or len(manager.state) < 4:
        raise TextCorpusError(source, "not a pandas DataFrame pickle this reader knows")
    extra = manager.state[3]
    layout = next(iter(extra.values())) if isinstance(extra, dict) and extra else None
    if not isinstance(layout, dict) or "axes" not in layout or "blocks" not in layout:
        raise TextCorpusError(source, "not a pandas DataFrame pickle this reader knows")
    names = layout["axes"][0]
    names = names.state.get("data") if isinstance(names, _Stub) else names
    columns: dict[str, list[Any]] = {}
    for block in layout["blocks"]:
        values, locs = np.asarray(block["values"]), block["mgr_locs"]
        rows = range(*locs.indices(len(names))) if isinstance(locs, slice) else list(np.asarray(locs))
        for position, index in enumerate(rows):
            columns[str(names[index])] = values[position].tolist()
    return columns


def read_frame_pickle(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """The columns of a (gzip) pandas DataFrame pickle, read with the allow-list unpickler."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as raw:
            head = raw.read(2)
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
            frame = _RestrictedUnpickler(stream, source).load()  # type: ignore[arg-type]
    except TextCorpusError:
        raise
    except (OSError, EOFError, zlib.error, pickle.UnpicklingError, ValueError, TypeError,
            AttributeError, IndexError, KeyError) as exc:
        raise TextCorpusError(source, f"cannot be read as a pickled table ({type(exc).__name__}: "
                                      f"{str(exc)[:120]})") from None
    if not isinstance(frame, _FrameStub):
        raise TextCorpusError(source, "does not hold a pandas DataFrame")
    return _columns(frame, source)
