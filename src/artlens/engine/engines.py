"""One interface, two engines: :func:`make_engine` turns :class:`~artlens.engine.options.EngineOptions` into
the engine that runs a :class:`~artlens.engine.job.BatchJob`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from artlens.engine.job import BatchJob, Outcome
from artlens.engine.local import LocalEngine
from artlens.engine.options import EngineOptions

__all__ = ["Engine", "make_engine"]


class Engine(Protocol):
    """Runs a job over file paths and streams back one outcome per path, in the order they finish."""

    name: str

    def parallelism(self) -> int:
        """Worker processes or actors."""

    def map(self, job: BatchJob, paths: Sequence[str]) -> Iterator[Outcome]:
        """Outcomes of ``paths``; the job's models are loaded once per worker."""


def make_engine(options: EngineOptions, workers: int = 0) -> Engine:
    """The local engine with ``workers`` processes (0: one per core), or the Ray engine (joining or starting
    the cluster; :class:`~artlens.engine.ray_session.RayMissingError` when Ray is not installed)."""
    if not options.is_ray:
        return LocalEngine(workers, options.batch_size)
    from artlens.engine.ray_engine import RayEngine

    return RayEngine(options.address, options.actors, options.batch_size, options.gpus_per_actor)
