"""What an engine runs: a batch job that loads its models once per worker and maps file paths to results.

A job is a small picklable object (its settings only). Each worker process or Ray actor calls
:meth:`BatchJob.setup` once, then :meth:`BatchJob.run` on batches of paths; ``run`` returns one result per
path, each carrying its path, and never raises for a bad file: the file's one-line error is part of its
result, so one file cannot lose the rest of the batch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["BatchJob", "Outcome", "one_thread"]

#: One file's result: ``(path, value, error)``, exactly one of ``value`` and ``error`` set.
Outcome = tuple[str, Any, str | None]


@runtime_checkable
class BatchJob(Protocol):
    """A job an engine can run (see the module's docstring)."""

    #: Modules a local fork server imports once for all its workers.
    preload: tuple[str, ...]
    #: Images per batch when the caller does not say.
    default_batch_size: int

    def setup(self) -> None:
        """Load the models (once per worker), on one thread: the engine provides the parallelism."""

    def run(self, paths: Sequence[str]) -> list[Outcome]:
        """One :data:`Outcome` per path, in the order given."""


def one_thread(torch: bool = True) -> None:
    """Keep this process to one thread in OpenCV and OpenMP, and with ``torch`` in PyTorch and ONNX Runtime
    (without it, PyTorch is not imported)."""
    import cv2

    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not torch:
        return
    from artlens.models.backbones import configure_threads

    # through artlens's setting, which the backbone loader keeps: a bare torch.set_num_threads(1) was
    # overridden there, and every worker ran PyTorch and ONNX Runtime on all the cores
    configure_threads(1)
