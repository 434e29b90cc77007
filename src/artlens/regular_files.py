"""Open only regular files: a named pipe, device or socket with an image's name is refused, never waited on.

Opening a FIFO for reading blocks until a writer appears, and reading ``/dev/zero`` never ends, so every file
artlens reads from a user's folder goes through :func:`open_regular`: the file is opened with ``O_NONBLOCK``
(so opening cannot block), checked with ``fstat`` on the open descriptor (so nothing can be swapped in
between the check and the read) and handed back as an ordinary blocking binary file.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from artlens.errors import ArtlensError

__all__ = ["NotRegularFileError", "open_regular", "read_regular"]

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))

#: Opening with O_NONBLOCK returns at once for a FIFO with no writer (a plain open would wait for one).
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class NotRegularFileError(ArtlensError, OSError):
    """A path names something other than a regular file (folder, named pipe, device, socket).

    An :class:`OSError` too, so callers that report unreadable files already report this one; its
    ``strerror`` is the one-line reason ("not a regular file (a named pipe)").
    """

    def __init__(self, path: object, kind: str) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", str(path))
        self.kind = kind


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading in binary mode if it is a regular file (symlinks followed).

    Raises
    ------
    NotRegularFileError
        ``path`` is a folder, a named pipe, a device or a socket.
    OSError
        It cannot be opened (missing, permission denied, ...).
    """
    fd = os.open(path, _FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFileError(path, _kind(mode))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file (see :func:`open_regular` for what is refused)."""
    with open_regular(path) as fh:
        return fh.read()
