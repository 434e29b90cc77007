"""Ray as an optional dependency: whether it is installed, joining (or starting) a cluster, its resources.

Nothing here imports Ray at module level: ``artlens`` works without it, and ``--engine ray`` without it is
refused with :class:`RayMissingError`, whose one line says how to install it.
"""

from __future__ import annotations

import importlib.metadata as md
import logging
from typing import Any

from artlens.engine.local import default_workers
from artlens.errors import ArtlensError

__all__ = ["INSTALL_HINT", "RayClusterError", "RayMissingError", "cluster_summary", "connect", "ray_version",
           "require_ray"]

INSTALL_HINT = "pip install 'artlens[ray]'"
log = logging.getLogger("artlens.engine")


class RayMissingError(ArtlensError):
    """``--engine ray`` (or ``--address``) was asked for, but Ray is not installed."""


class RayClusterError(ArtlensError):
    """The Ray cluster could not be joined or started, or a Ray job failed."""


def ray_version() -> str | None:
    """The installed Ray's version, or None (Ray is not imported)."""
    try:
        return md.version("ray")
    except md.PackageNotFoundError:
        return None


def require_ray(option: str = "--engine ray") -> Any:
    """The ``ray`` module with Ray Data loaded; :class:`RayMissingError` when Ray is not installed."""
    try:
        import ray
        import ray.data  # pandas and pyarrow come with artlens[ray]
    except ImportError as exc:
        missing = exc.name or "ray"
        raise RayMissingError(f"{option}: Ray is not installed ({missing} missing); install it with "
                              f"{INSTALL_HINT}") from None
    return ray


def _quiet(ray: Any) -> None:
    """No progress bars, execution banners or start-up notes from Ray on the terminal: artlens reports
    progress through callbacks. Ray's errors still come through, and its full logs stay in its session
    folder (``/tmp/ray/session_latest/logs``)."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.enable_auto_log_stats = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def connect(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address`` (``auto``, ``ray://host:10001``, ``host:6379``), or with ``None`` start
    a local Ray instance on ``num_cpus`` CPUs (default: this machine's cores). A session already open in
    this process is kept. Returns the ``ray`` module."""
    ray = require_ray("--engine ray" if address is None else f"--address {address}")
    _quiet(ray)
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        if address is None:
            kwargs["num_cpus"] = num_cpus or default_workers()
        try:
            ray.init(address=address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = f"--address {address}" if address else "a local Ray instance"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RayClusterError(f"{where}: cannot start or join the Ray cluster ({first})") from None
        log.info("Ray %s: %s", ray.__version__, ray.cluster_resources())
    return ray


def cluster_summary(address: str | None = None) -> dict[str, Any]:
    """Nodes alive and the cluster's total CPUs, GPUs and memory (GiB), after :func:`connect`."""
    ray = connect(address)
    total = ray.cluster_resources()
    alive = [n for n in ray.nodes() if n.get("Alive")]
    return {"address": address or "local", "nodes": len(alive), "cpus": float(total.get("CPU", 0.0)),
            "gpus": float(total.get("GPU", 0.0)),
            "memory_gib": round(float(total.get("memory", 0.0)) / 2**30, 1),
            "object_store_gib": round(float(total.get("object_store_memory", 0.0)) / 2**30, 1)}
