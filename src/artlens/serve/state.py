"""What one service holds for its lifetime: settings, key store, loaded models, indexes, job queue, limits.

:func:`build_state` makes it once per app (:func:`artlens.serve.app.create_app`), which keeps each field on
``app.state``; routes reach them through the dependencies of :mod:`artlens.serve.deps`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from artlens.serve.auth import KeyStore
from artlens.serve.indexes import RegisteredIndex, open_indexes
from artlens.serve.jobs import JobQueue, JobStore
from artlens.serve.metrics import Registry
from artlens.serve.ratelimit import TokenBuckets
from artlens.serve.settings import ServeSettings

__all__ = ["LoadedModel", "ServiceState", "build_state"]


@dataclass(frozen=True)
class LoadedModel:
    """A registered classifier and the lock that keeps one forward pass at a time on it."""

    classifier: Any
    lock: threading.Lock


@dataclass(frozen=True)
class ServiceState:
    """Everything the routes share; each field is also an attribute of ``app.state``."""

    settings: ServeSettings
    keys: KeyStore | None
    models: dict[str, LoadedModel]
    indexes: dict[str, RegisteredIndex]
    metrics: Registry
    limiter: anyio.CapacityLimiter  # requests doing heavy work at the same time
    jobs: JobQueue
    per_key: TokenBuckets  # requests per API key
    auth_failures: TokenBuckets  # failed authentications per address
    upload_slots: anyio.Semaphore  # request bodies parsed at the same time


def _load_models(registered: dict[str, Path]) -> dict[str, LoadedModel]:
    if not registered:
        return {}
    from artlens.classify.model import load_classifier

    return {name: LoadedModel(load_classifier(folder), threading.Lock())
            for name, folder in registered.items()}


def build_state(settings: ServeSettings, keys: KeyStore | None = None) -> ServiceState:
    """Open what ``settings`` (already checked) name: key store, classifiers, indexes, job queue."""
    if settings.auth and keys is None:
        keys = KeyStore(settings.db_path)
    models, indexes = _load_models(settings.models), open_indexes(settings.indexes)  # may refuse: first
    metrics = Registry()
    assert settings.results_dir is not None  # set by check()
    jobs = JobQueue(JobStore(settings.database), settings.results_dir, workers=settings.job_workers,
                    max_queued=settings.max_queued_jobs,
                    on_end=lambda kind, status: metrics.jobs.inc(kind=kind, status=status))
    metrics.jobs_queued.read = lambda: jobs.queued
    metrics.jobs_running.read = lambda: jobs.running
    return ServiceState(
        settings=settings, keys=keys, models=models, indexes=indexes, metrics=metrics,
        limiter=anyio.CapacityLimiter(max(1, settings.workers)), jobs=jobs,
        per_key=TokenBuckets(settings.rate_per_key, 2 * settings.rate_per_key),
        auth_failures=TokenBuckets(settings.auth_failures_per_minute / 60, settings.auth_failures_per_minute),
        upload_slots=anyio.Semaphore(settings.max_parallel_uploads))
