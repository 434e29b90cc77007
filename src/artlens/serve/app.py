"""The FastAPI application of ``artlens serve``: thin HTTP routes over the library's functions.

``create_app(settings)`` only assembles: the shared state (:func:`artlens.serve.state.build_state`: key
store, classifiers, indexes, job queue, limits) on ``app.state``, the routers of :mod:`artlens.serve.routes`
(one per capability; their dependencies in :mod:`artlens.serve.deps`), the JSON error handlers and the
middleware. Bearer API keys guard every route but ``/healthz`` and the web page's files (unless auth is off);
rate limits per address, per key and for failed authentication (:mod:`artlens.serve.ratelimit`), a
request-size guard, hand-kept Prometheus metrics with labels from closed sets, JSON errors without stack
traces, and no CORS headers (browsers on other origins cannot call it). Heavy work runs in worker threads, at
most ``settings.workers`` requests at a time; style transfer and assess batches run as jobs in a bounded pool
(:mod:`artlens.serve.jobs`) whose records and results outlive the process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from artlens import __version__
from artlens.serve import access_log
from artlens.serve.auth import KeyStore
from artlens.serve.errors import install_handlers
from artlens.serve.limits import BodyLimit
from artlens.serve.metrics import Registry, method_label
from artlens.serve.ratelimit import AddressLimit, TokenBuckets
from artlens.serve.routes import ROUTERS
from artlens.serve.routes.meta import PAGE_CSP, STATIC_DIR
from artlens.serve.settings import ServeSettings
from artlens.serve.state import build_state
from artlens.serve.uploads import remove_stale_uploads

__all__ = ["PAGE_CSP", "STATIC_DIR", "create_app"]

log = logging.getLogger("artlens.serve")


def create_app(settings: ServeSettings | None = None, *, keys: KeyStore | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings
        Host, limits, allowed roots, auth, models and indexes (validated with :meth:`ServeSettings.check`).
    keys
        The API-key store; by default the one in ``settings.db_path``.

    Returns
    -------
    FastAPI
        Routes: ``GET /healthz``, ``GET /metrics``, ``GET /openapi.json``, ``GET /v1/models``,
        ``POST /v1/assess``, ``POST /v1/assess/jobs``, ``POST /v1/explain`` (heat map JPEG),
        ``POST /v1/classify``, ``POST /v1/stylize``, ``GET /v1/style/presets`` (with previews),
        ``GET /v1/jobs/{id}``, ``POST /v1/jobs/{id}/retry``, ``GET /v1/results/{id}`` (and
        ``/v1/results/{id}/explanations/{name}`` of assess jobs run with ``explain``), the search routes
        (``/v1/indexes``, ``/v1/similar``, ``/v1/duplicates``, ``/v1/recommend``), and the web page
        ``GET /`` with ``GET /static/{name}`` (no key). Jobs left queued or running in the database by a
        previous process are marked failed-retriable here; upload folders such a process left (older than
        an hour, no job's inputs) go when the app starts.
    """
    settings = (settings or ServeSettings()).check()
    state = build_state(settings, keys)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        assert settings.upload_dir is not None  # set by check()
        access_log.install()  # here: after the server has configured logging
        stale = remove_stale_uploads(settings.upload_dir, keep=state.jobs.store.input_folders())
        if stale:
            log.info("removed %d upload folder(s) left by a stopped server in %s", len(stale),
                     settings.upload_dir)
        yield
        state.jobs.close()  # queued jobs stay queued on disk: the next start marks them failed-retriable

    app = FastAPI(title="artlens", version=__version__, openapi_url=None, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Quality screening, marketplace compliance, recognition, similar-image search "
                              "and style transfer of images.")
    for name, value in vars(state).items():  # what the dependencies of artlens.serve.deps read
        setattr(app.state, name, value)
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # the last added is outermost: body limit, metrics (so they count the 429s), then the address's rate
    by_address = TokenBuckets(settings.rate_per_address, 2 * settings.rate_per_address)
    app.add_middleware(AddressLimit, buckets=by_address)
    app.add_middleware(_MetricsMiddleware, metrics=state.metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app


class _MetricsMiddleware:
    """Counts every answered request by method, route template and status, and times it."""

    def __init__(self, app: Any, metrics: Registry) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"  # a template: a closed set
            self.metrics.requests.inc(method=method_label(scope.get("method", "")), route=route,
                                      status=str(status))
            self.metrics.latency.observe(time.perf_counter() - started, route=route)
