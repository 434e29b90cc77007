"""The local engine: worker processes on this machine (:func:`artlens.procpool.process_pool`)."""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Iterator, Sequence

from artlens.engine.job import BatchJob, Outcome
from artlens.procpool import process_pool

__all__ = ["LocalEngine", "default_workers"]


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


_worker_job: list[BatchJob] = []  # in a worker process: the job it set up (its loaded models with it)


def _setup_and_keep(job: BatchJob) -> None:
    job.setup()
    _worker_job.append(job)


def _run(paths: Sequence[str]) -> list[Outcome]:
    return _worker_job[0].run(paths)


class LocalEngine:
    """Runs a job in ``workers`` processes (0: one per core), at most 2 x workers batches in flight
    (bounded memory on any catalogue); with one worker or one batch, in this process."""

    name = "local"

    def __init__(self, workers: int = 0, batch_size: int = 0) -> None:
        self.workers = workers or default_workers()
        self.batch_size = batch_size

    def parallelism(self) -> int:
        return self.workers

    def map(self, job: BatchJob, paths: Sequence[str]) -> Iterator[Outcome]:
        """The outcome of every path, in the order they finish."""
        size = self.batch_size or job.default_batch_size
        batches = [list(paths[i:i + size]) for i in range(0, len(paths), size)]
        workers = min(self.workers, max(1, len(batches)))
        if workers <= 1:
            if batches:
                job.setup()
            for batch in batches:
                yield from job.run(batch)
            return
        with process_pool(workers, _setup_and_keep, (job,), preload=job.preload) as pool:
            pending: set[cf.Future] = set()
            queue = iter(batches)
            window = 2 * workers
            while True:
                while len(pending) < window:
                    nxt = next(queue, None)
                    if nxt is None:
                        break
                    pending.add(pool.submit(_run, nxt))
                if not pending:
                    break
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    yield from fut.result()
