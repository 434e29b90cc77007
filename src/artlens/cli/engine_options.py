"""The engine options shared by ``assess``, ``index build`` and ``classify``: where a batch job runs."""

from __future__ import annotations

from typing import Annotated

import typer

from artlens.engine.options import EngineKind, EngineOptions
from artlens.engine.ray_session import require_ray

__all__ = ["ActorsOpt", "AddressOpt", "BatchSizeOpt", "EngineOpt", "GpusOpt", "engine_options"]

EngineOpt = Annotated[EngineKind, typer.Option("--engine", help="Where the work runs: local worker "
                                               "processes, or a Ray cluster (pip install 'artlens\\[ray]').")]
AddressOpt = Annotated[str | None, typer.Option("--address", help="--engine ray: the cluster (auto, "
                                                "ray://HOST:10001, HOST:6379); default: a local Ray "
                                                "instance on this machine's cores.")]
ActorsOpt = Annotated[int, typer.Option("--actors", min=0, help="--engine ray: actors, each loading the "
                                        "model once (0: one per CPU of the cluster, or per GPU).")]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size", min=0, help="Images per task sent to a worker or "
                                           "actor (0: the job's default).")]
GpusOpt = Annotated[float, typer.Option("--gpus-per-actor", min=0.0, help="--engine ray: GPUs per actor "
                                        "(num_gpus; 0: CPUs only).")]


def engine_options(engine: EngineKind, address: str | None, actors: int, batch_size: int,
                   gpus_per_actor: float) -> EngineOptions:
    """The options checked; ``--engine ray`` without Ray installed is refused at once, with the install
    hint, before any file is read."""
    options = EngineOptions(kind=engine, address=address, actors=actors, batch_size=batch_size,
                            gpus_per_actor=gpus_per_actor)
    if options.is_ray:
        require_ray()
    return options
