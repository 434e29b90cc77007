"""Where and on how many threads PyTorch runs: the device choice and the one thread setting of a process."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from artlens.errors import ConfigError

__all__ = ["configure_threads", "one_thread", "select_device"]


def select_device(prefer: str | None = None) -> torch.device:
    """The torch device to run on.

    Parameters
    ----------
    prefer
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or ``"auto"``. When ``None``, ``$ARTLENS_DEVICE`` is
        used, else ``"auto"``: CUDA when present, otherwise the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    ConfigError
        The device name is invalid or the device is not available.
    """
    choice = (prefer if prefer is not None else os.environ.get("ARTLENS_DEVICE", "")).strip().lower()
    if choice in {"", "auto"}:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(choice)
    except (RuntimeError, ValueError):
        raise ConfigError(f"unknown device {choice!r}; use cpu, cuda, cuda:N, mps or auto") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {choice!r} requested but CUDA is not available; use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise ConfigError(f"device {choice!r} requested but only {count} CUDA devices exist")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' requested but MPS is not available; use cpu")
    elif device.type not in {"cpu", "cuda", "mps"}:
        raise ConfigError(f"unsupported device {choice!r}; use cpu, cuda, cuda:N, mps or auto")
    return device


def _physical_cores() -> int | None:
    """Physical cores from /proc/cpuinfo (Linux), or None where that cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    cores = set()
    physical = core = None
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if core is not None:
                cores.add((physical, core))
            physical = core = None
        elif line.startswith("physical id"):
            physical = line.split(":", 1)[1].strip()
        elif line.startswith("core id"):
            core = line.split(":", 1)[1].strip()
    return len(cores) or None


_threads_lock = threading.Lock()
_threads_set: int | None = None


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op thread count and return it.

    Parameters
    ----------
    n
        Threads to use. When ``None``: ``$ARTLENS_THREADS`` if set, else the physical cores this process may
        run on; and if threads were configured before, that setting is kept.

    Returns
    -------
    int
        The thread count in effect.
    """
    global _threads_set
    with _threads_lock:
        if n is None:
            if _threads_set is not None:
                return _threads_set
            env = os.environ.get("ARTLENS_THREADS", "").strip()
            if env:
                try:
                    n = int(env)
                except ValueError:
                    raise ConfigError(f"ARTLENS_THREADS={env!r} is not an integer") from None
            else:
                logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
                n = min(logical or 1, _physical_cores() or logical or 1)
        if n < 1:
            raise ConfigError(f"thread count must be at least 1, got {n}")
        torch.set_num_threads(n)
        _threads_set = n
        return n


@contextmanager
def one_thread() -> Iterator[None]:
    """One thread inside the block for PyTorch and for the native BLAS/OpenMP pools NumPy and SciPy call
    (``threadpoolctl``), the settings before restored after it: for work made of many small products
    (sampling one token, an L-BFGS step of a linear head), which gains nothing from a second thread and on a
    busy machine runs many times slower with one (measured: 0.8 s against 13 s for 16 bars of music; 25 ms
    against under 1 ms per SciPy L-BFGS-B step of a 96-parameter head, load 15 on 2 cores)."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)
