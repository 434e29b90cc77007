"""Which engine runs a batch job, and with what: the options ``--engine``, ``--address``, ``--actors``,
``--batch-size`` and ``--gpus-per-actor`` of ``artlens assess``, ``artlens index build`` and
``artlens classify``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from artlens.errors import ConfigError

__all__ = ["ENGINES", "EngineKind", "EngineOptions"]


class EngineKind(StrEnum):
    """``local``: worker processes on this machine (the default); ``ray``: a Ray cluster (Ray Data)."""

    local = "local"
    ray = "ray"


ENGINES = tuple(k.value for k in EngineKind)


@dataclass(frozen=True)
class EngineOptions:
    """How to run a batch job.

    Attributes
    ----------
    kind
        ``local`` or ``ray``.
    address
        Ray: ``auto``, ``ray://host:10001`` or ``host:6379``; ``None`` starts a local Ray instance on this
        machine's cores.
    actors
        Ray: actors, each loading the model once and running one thread (0: one per CPU of the cluster, or
        per GPU with ``gpus_per_actor``).
    batch_size
        Images handed to a worker (or actor) at once (0: the job's own default).
    gpus_per_actor
        Ray: GPUs given to each actor (``num_gpus``); 0 runs on CPUs.
    """

    kind: EngineKind = EngineKind.local
    address: str | None = None
    actors: int = 0
    batch_size: int = 0
    gpus_per_actor: float = 0.0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", EngineKind(self.kind))
        except ValueError:
            raise ConfigError(f"--engine {self.kind}: unknown engine; use {' or '.join(ENGINES)}") from None
        for name in ("actors", "batch_size"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} {getattr(self, name)}: must be 0 or more")
        if self.gpus_per_actor < 0:
            raise ConfigError(f"--gpus-per-actor {self.gpus_per_actor}: must be 0 or more")
        if self.kind is EngineKind.local and (self.address or self.actors or self.gpus_per_actor):
            raise ConfigError("--address, --actors and --gpus-per-actor need --engine ray")

    @property
    def is_ray(self) -> bool:
        return self.kind is EngineKind.ray
