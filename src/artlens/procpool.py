"""Worker-process pools that never fork a threaded process and never outlive the process that made them.

Every pool artlens makes (``artlens assess``, the benchmarks) comes from :func:`process_pool`:

- workers start from a fork server (else by spawning), never by forking a process whose OpenCV, PyTorch or
  ONNX Runtime threads already run (a forked child can deadlock on a lock such a thread held);
- each worker dies with the process that made the pool, even when that one is killed with ``SIGKILL``: a
  watchdog thread waits on a pidfd of the parent (polls it where pidfds are missing) and ``PR_SET_PDEATHSIG``
  covers spawned workers. With the workers gone, the fork server sees its last client leave and exits, and so
  does multiprocessing's resource tracker;
- Ctrl-C goes to the parent only (workers ignore ``SIGINT``), and leaving the ``with`` block on an exception
  cancels the waiting work instead of finishing it.

:func:`stop_on_signals` turns ``SIGTERM`` (and ``SIGINT``) into :class:`Interrupted` in the main thread, so a
command unwinds normally: the pool is shut down and what was finished is kept.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import ctypes.util
import multiprocessing as mp
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.context import BaseContext
from typing import Any

from artlens.errors import ArtlensError

__all__ = ["Interrupted", "pool_context", "process_pool", "stop_on_signals"]

_PR_SET_PDEATHSIG = 1


class Interrupted(ArtlensError):
    """The run was stopped by a signal; ``signum`` is the signal's number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}: finished results are kept; run the "
                         "same command again to resume")


def pool_context() -> BaseContext:
    """The start method of every artlens pool: ``forkserver`` where there is one, else ``spawn``."""
    return mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")


@contextlib.contextmanager
def process_pool(workers: int, initializer: Callable[..., None] | None = None, initargs: Sequence[Any] = (),
                 preload: Sequence[str] = ()) -> Iterator[cf.ProcessPoolExecutor]:
    """A :class:`~concurrent.futures.ProcessPoolExecutor` whose workers die with this process.

    ``preload`` names modules the fork server imports once, so each worker inherits them instead of
    importing them again (ignored with ``spawn``). On an exception in the block, work not yet started is
    cancelled and the exception goes on at once.
    """
    ctx = pool_context()
    if ctx.get_start_method() == "forkserver" and preload:
        ctx.set_forkserver_preload(list(preload))
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_start_worker,
                                  initargs=(os.getpid(), initializer, tuple(initargs)))
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _start_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent handles it
    _die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def _die_with_parent(parent: int) -> None:
    """Exit when process ``parent`` ends (our parent process may be the fork server, not the pool's owner)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # covers spawned workers, whose parent is the owner
    try:
        pidfd = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfds (not Linux, or an old kernel): poll instead
        pidfd = None
    threading.Thread(target=_watch, args=(parent, pidfd), name="artlens-parent-watch", daemon=True).start()


def _watch(parent: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has ended
        os._exit(1)
    while True:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pragma: no cover - pid reused by another user's process
            os._exit(1)
        threading.Event().wait(0.5)


@contextlib.contextmanager
def stop_on_signals(signums: Sequence[int] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[None]:
    """Raise :class:`Interrupted` in the main thread on these signals while the block runs.

    Outside the main thread (a server's request threads) it does nothing: signals belong to the server.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, raise_interrupted) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
