"""The Ray engine: a batch job as Ray Data ``map_batches`` over a pool of actors.

The listing stays on the driver; the paths go out as a dataset of one column, and each actor (a callable
class) sets the job up once (its models loaded, one thread; a GPU when the actor is given one) and runs it
on batches of paths, reading the files itself. Outcomes come back as a stream, in the order they finish, so
the driver writes each one to its store as it arrives and a driver killed part-way keeps them.
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from artlens.engine.job import BatchJob, Outcome
from artlens.engine.local import default_workers
from artlens.engine.ray_session import RayClusterError, connect

__all__ = ["MIN_RAY_BATCH", "JobActor", "RayEngine"]

#: Smallest default batch on Ray: a batch is one task round trip, so one image per batch wastes a little.
MIN_RAY_BATCH = 4


class JobActor:
    """The callable class Ray Data runs as actors: one set-up job per actor."""

    def __init__(self, job: BatchJob, gpus: float) -> None:
        if not gpus:
            os.environ.setdefault("ARTLENS_DEVICE", "cpu")  # a GPU node's CPU actors leave its GPUs alone
        self.job = job
        job.setup()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        outcomes = self.job.run([str(p) for p in batch["path"]])
        # pickled: a record's nested dicts and a vector's float32 bytes come back exactly as the job made them
        return {"outcome": np.array([pickle.dumps(o) for o in outcomes], dtype=object)}


class RayEngine:
    """Runs a job on a Ray cluster (``address``; None: a local instance on this machine's cores) with
    ``actors`` actors (0: one per CPU of the cluster, or per GPU with ``gpus_per_actor``)."""

    name = "ray"

    def __init__(self, address: str | None = None, actors: int = 0, batch_size: int = 0,
                 gpus_per_actor: float = 0.0) -> None:
        self.address = address
        self.batch_size = batch_size
        self.gpus_per_actor = gpus_per_actor
        # a local instance gets every core, and at least one CPU per actor asked for
        self._ray = connect(address, num_cpus=None if address else max(default_workers(), actors))
        self.actors = actors or self._default_actors()

    def _default_actors(self) -> int:
        total = self._ray.cluster_resources()
        if self.gpus_per_actor:
            return max(1, int(total.get("GPU", 0.0) / self.gpus_per_actor))
        return max(1, int(total.get("CPU", 1.0)))

    def parallelism(self) -> int:
        return self.actors

    def map(self, job: BatchJob, paths: Sequence[str]) -> Iterator[Outcome]:
        """The outcome of every path, in the order the batches finish."""
        if not paths:
            return
        ray = self._ray
        size = self.batch_size or max(job.default_batch_size, MIN_RAY_BATCH)
        blocks = max(1, math.ceil(len(paths) / size))
        ds = ray.data.from_items([{"path": str(p)} for p in paths], override_num_blocks=blocks)
        ds = ds.map_batches(JobActor, fn_constructor_kwargs={"job": job, "gpus": self.gpus_per_actor},
                            batch_size=size, batch_format="numpy",
                            compute=ray.data.ActorPoolStrategy(size=min(self.actors, blocks)),
                            num_cpus=1, num_gpus=self.gpus_per_actor or None)
        batches = ds.iter_batches(batch_size=None, batch_format="numpy")
        try:
            for batch in _named_failures(batches):
                for blob in batch["outcome"]:
                    yield pickle.loads(blob)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()


def _named_failures(batches: Any) -> Iterator[dict[str, np.ndarray]]:
    """The batches; a failure of the Ray job itself (an actor that cannot start, a lost node) becomes one
    :class:`RayClusterError` line."""
    from ray.exceptions import RayError

    it = iter(batches)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except RayError as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            cause = lines[-1].strip() if lines else type(exc).__name__
            raise RayClusterError(f"the Ray job failed: {cause}") from None
        yield batch
