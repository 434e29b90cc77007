"""Where batch jobs run: worker processes on this machine (the default) or a Ray cluster, behind one
interface, with the same results."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ENGINES": "artlens.engine.options",
    "AssessJob": "artlens.engine.assess_job",
    "BatchJob": "artlens.engine.job",
    "Engine": "artlens.engine.engines",
    "EngineKind": "artlens.engine.options",
    "EngineOptions": "artlens.engine.options",
    "LocalEngine": "artlens.engine.local",
    "RayClusterError": "artlens.engine.ray_session",
    "RayEngine": "artlens.engine.ray_engine",
    "RayMissingError": "artlens.engine.ray_session",
    "cluster_summary": "artlens.engine.ray_session",
    "default_workers": "artlens.engine.local",
    "make_engine": "artlens.engine.engines",
    "ray_version": "artlens.engine.ray_session",
})
