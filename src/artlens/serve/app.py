"""The FastAPI application of ``artlens serve``: thin HTTP routes over the library's assess and classify.

``create_app(settings)`` builds one app: bearer API keys on every route but ``/healthz`` and the web
page's files (unless auth is off), rate limits per address, per key and for failed authentication
(:mod:`artlens.serve.ratelimit`), a request-size guard, hand-kept Prometheus metrics with labels from closed
sets, JSON errors without stack traces, and no CORS headers (browsers on other origins cannot call it).
Heavy work runs in worker threads, at most ``settings.workers`` requests at a time; style transfer and assess
batches (:mod:`artlens.serve.job_routes`) run as jobs in a bounded pool (:mod:`artlens.serve.jobs`) whose
records and results outlive the process.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from artlens import __version__
from artlens.errors import ArtlensError
from artlens.serve import access_log
from artlens.serve.auth import ApiKey, KeyStore
from artlens.serve.errors import ApiError, install_handlers
from artlens.serve.explain_route import explain_router
from artlens.serve.inputs import ERROR_SCHEMA, ERRORS, Inputs, body_doc, read_inputs
from artlens.serve.job_routes import job_router
from artlens.serve.jobs import Job, JobQueue, JobStore, QueueFull
from artlens.serve.limits import BodyLimit
from artlens.serve.metrics import CONTENT_TYPE, Registry, method_label
from artlens.serve.music_routes import music_router
from artlens.serve.ratelimit import AddressLimit, RateLimited, TokenBuckets, client_address
from artlens.serve.search_routes import search_router
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import Batch, read_multipart, remove_stale_uploads, saved_uploads
from artlens.serve.work import assess_inputs, stylize_work

__all__ = ["create_app"]

log = logging.getLogger("artlens.serve")

_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Largest output side per style-transfer method (Gatys optimises every pixel: far slower).
MAX_STYLIZE_SIZE = {"fast": 2048, "gatys": 1024}
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}
#: The web page's files (package data) and the only ones ``/static/`` serves.
STATIC_DIR = Path(__file__).with_name("static")
_ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
#: Content-Security-Policy of the page: its own scripts, styles and API only; blob: images for previews and
#: blob: audio for the composer's player.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            "media-src 'self' blob:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")
_PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                 "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


_BEARER = HTTPBearer(auto_error=False, description="An API key from `artlens keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


def create_app(settings: ServeSettings | None = None, *, keys: KeyStore | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings
        Host, limits, allowed roots, auth and models (validated with :meth:`ServeSettings.check`).
    keys
        The API-key store; by default the one in ``settings.db_path``.

    Returns
    -------
    FastAPI
        Routes: ``GET /healthz``, ``GET /metrics``, ``GET /openapi.json``, ``GET /v1/models``,
        ``POST /v1/assess``, ``POST /v1/explain`` (heat map PNG), ``POST /v1/classify``, ``POST /v1/stylize``,
        ``GET /v1/jobs/{id}``, ``POST /v1/assess/jobs``, ``POST /v1/jobs/{id}/retry``,
        ``GET /v1/results/{id}``, and the web page ``GET /`` with ``GET /static/{name}`` (no key). Jobs
        left queued or running in the database by a previous process are marked failed-retriable here;
        upload folders such a process left (older than an hour, no job's inputs) go when the app starts.
    """
    settings = (settings or ServeSettings()).check()
    if settings.auth and keys is None:
        keys = KeyStore(settings.db_path)
    models = _load_models(settings.models)
    metrics = Registry()
    limiter = anyio.CapacityLimiter(max(1, settings.workers))
    assert settings.results_dir is not None  # set by check()
    jobs = JobQueue(JobStore(settings.database), settings.results_dir, workers=settings.job_workers,
                    max_queued=settings.max_queued_jobs,
                    on_end=lambda kind, status: metrics.jobs.inc(kind=kind, status=status))
    metrics.jobs_queued.read = lambda: jobs.queued
    metrics.jobs_running.read = lambda: jobs.running

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        assert settings.upload_dir is not None  # set by check()
        access_log.install()  # here: after the server has configured logging
        stale = remove_stale_uploads(settings.upload_dir, keep=jobs.store.input_folders())
        if stale:
            log.info("removed %d upload folder(s) left by a stopped server in %s", len(stale),
                     settings.upload_dir)
        yield
        jobs.close()  # queued jobs stay queued on disk: the next start marks them failed-retriable

    app = FastAPI(title="artlens", version=__version__, openapi_url=None, docs_url=None, redoc_url=None,
                  lifespan=lifespan,
                  description="Quality screening, marketplace compliance, recognition and style transfer "
                              "of images.")
    app.state.settings, app.state.metrics, app.state.keys, app.state.models = settings, metrics, keys, models
    app.state.jobs = jobs
    app.state.upload_slots = anyio.Semaphore(settings.max_parallel_uploads)  # bodies parsed at once
    install_handlers(app)

    per_key = TokenBuckets(settings.rate_per_key, 2 * settings.rate_per_key)
    failures = TokenBuckets(settings.auth_failures_per_minute / 60, settings.auth_failures_per_minute)

    def refuse(request: Request, message: str) -> ApiError:
        """401, or 429 once this address has used up its failed attempts (a valid key still passes)."""
        wait = failures.take(client_address(request.scope))
        if wait:
            return RateLimited("with failed authentication from this address", wait)
        return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})

    def require_key(request: Request, credentials: Credentials) -> ApiKey | None:
        if not settings.auth:
            return None
        if credentials is None:
            raise refuse(request, "an API key is required: send 'Authorization: Bearer <key>'")
        key = keys.verify(credentials.credentials) if keys is not None else None
        if key is None:
            raise refuse(request, "invalid or revoked API key")
        wait = per_key.take(key.id)
        if wait:
            raise RateLimited("with this API key", wait)
        request.state.key_id = key.id  # the id only: tokens are never kept or logged
        return key

    guarded = [Depends(require_key)]

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: answers without a key."""
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["service"], dependencies=guarded, response_class=PlainTextResponse,
             responses={200: {"content": {CONTENT_TYPE: {}}}})
    def metrics_route() -> PlainTextResponse:
        """Prometheus text format: requests by route and status, latencies, errors, images."""
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    v1 = APIRouter(prefix="/v1", dependencies=guarded, responses=ERRORS)

    @v1.get("/models", tags=["classify"])
    def list_models() -> dict[str, Any]:
        """Classifiers registered with this server (``--model NAME=DIR``) and their heads."""
        return {"models": {name: {"heads": {h: list(c) for h, c in clf.heads.items()},
                                  "backbone": clf.config["backbone"], "mode": clf.mode}
                           for name, (clf, _lock) in models.items()}}

    async def run(request: Request, work: Callable[[Inputs], dict[str, Any]], operation: str
                  ) -> dict[str, Any]:
        inputs = await read_inputs(request, settings)
        with inputs.cleanup:
            report = await anyio.to_thread.run_sync(work, inputs, limiter=limiter)
        report = inputs.relabel(report)
        metrics.images.inc(len(report["images"]), operation=operation, outcome="ok")
        metrics.images.inc(len(report["errors"]), operation=operation, outcome="error")
        return report

    @v1.post("/assess", tags=["assess"], openapi_extra=body_doc({
        "policy": {"type": "string", "description": "Preset name (default: general)."}}))
    async def assess_route(request: Request) -> dict[str, Any]:
        """Screen images: an ``artlens.assess/1`` report (pass/review/fail with reasons per image).

        Send uploads as ``multipart/form-data`` (file parts, optional ``policy`` field), or JSON
        ``{"paths": [...], "policy": ...}`` naming files or folders under the server's ``--allow-root``
        folders. Files that cannot be decoded are listed under ``errors``; the others are still assessed.
        """
        return await run(request, lambda inputs: assess_inputs(inputs, settings), "assess")

    @v1.post("/classify", tags=["classify"], openapi_extra=body_doc({
        "model": {"type": "string", "description": "Registered model name (optional with one model)."},
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50}}))
    async def classify_route(request: Request) -> dict[str, Any]:
        """Classify images with a registered model: an ``artlens.classify/1`` report.

        Same inputs as ``/v1/assess``, with optional ``model`` and ``top_k`` fields.
        """
        return await run(request, lambda inputs: _classify(inputs, models, settings), "classify")

    @v1.post("/stylize", tags=["style"], status_code=202, openapi_extra=_STYLIZE_DOC,
             responses={202: {"description": "The job, queued; its URL in Location"},
                        429: {"description": "The job queue is full (see Retry-After)",
                              "content": {"application/json": {"schema": ERROR_SCHEMA}}}})
    async def stylize_route(request: Request) -> JSONResponse:
        """Queue a style transfer: a job whose result is a PNG at ``/v1/results/{id}`` once done.

        ``multipart/form-data`` with a ``content`` image and either a ``style`` image or a ``preset`` field
        (``preset_00`` ... ``preset_25``, fast method only); optional ``method`` (fast or gatys), ``size``
        (longest output side: 16 to 2048 fast, 1024 gatys; default 512), ``strength`` (0 to 1) and
        ``preserve_color``. Answers 202 with the job, or 429 with ``Retry-After`` when the queue is full.
        """
        job = await _queue_stylize(request, settings, jobs, getattr(request.state, "key_id", None))
        body = {"job": job.as_dict()}
        return JSONResponse(body, status_code=202, headers={"Location": body["job"]["links"]["self"]})

    def owned_job(request: Request, job_id: str) -> Job:
        job = jobs.store.get(job_id) if _JOB_ID.match(job_id) else None
        if job is None or job.owner != getattr(request.state, "key_id", None):  # others' jobs: not found
            raise ApiError(404, "not_found", f"no job {job_id!r}")
        return job

    @v1.get("/jobs/{job_id}", tags=["jobs"])
    def job_route(request: Request, job_id: str) -> dict[str, Any]:
        """A job: status (queued, running, done, failed), progress 0 to 1, error, retriable, result links."""
        return {"job": owned_job(request, job_id).as_dict()}

    @v1.get("/results/{job_id}", tags=["jobs"], response_class=FileResponse,
            responses={200: {"content": {"image/png": {}, "application/json": {}},
                             "description": "The result: a PNG (stylize) or an assess report (assess)"}})
    def result_route(request: Request, job_id: str) -> FileResponse:
        """The result of a done job: PNG of a style transfer, JSON report of an assess job (404 before)."""
        job = owned_job(request, job_id)
        path = jobs.result_path(job)
        if path is None:
            raise ApiError(404, "no_result", f"job {job_id} has no result ({job.status})")
        return FileResponse(path, media_type=job.media_type,
                            headers={"Cache-Control": "private, max-age=3600"})

    app.include_router(v1)

    app.include_router(job_router(settings, jobs, guarded, owned_job, metrics))
    app.include_router(explain_router(settings, guarded, limiter, read_inputs, ERRORS))
    app.include_router(search_router(settings, guarded, limiter))
    app.include_router(music_router(settings, jobs, guarded, owned_job))

    @app.get("/", include_in_schema=False, response_class=FileResponse)
    def page() -> FileResponse:
        """The web page: open to all (it holds no data); its API calls carry the key."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                            headers=_PAGE_HEADERS)

    @app.get("/static/{name}", include_in_schema=False, response_class=FileResponse)
    def asset(name: str) -> FileResponse:
        media = _ASSETS.get(name)  # a fixed list: no path from the client reaches the file system
        if media is None:
            raise ApiError(404, "not_found", f"no static file {name!r}")
        return FileResponse(STATIC_DIR / name, media_type=media, headers=_PAGE_HEADERS)

    # the last added is outermost: body limit, metrics (so they count the 429s), then the address's rate
    by_address = TokenBuckets(settings.rate_per_address, 2 * settings.rate_per_address)
    app.add_middleware(AddressLimit, buckets=by_address)
    app.add_middleware(_MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app


def _load_models(registered: dict[str, Path]) -> dict[str, tuple[Any, threading.Lock]]:
    if not registered:
        return {}
    from artlens.classify.model import load_classifier

    return {name: (load_classifier(folder), threading.Lock()) for name, folder in registered.items()}


def _classify(inputs: Inputs, models: dict[str, tuple[Any, threading.Lock]],
              settings: ServeSettings) -> dict[str, Any]:
    from artlens.classify.predict import classify_paths

    unknown = set(inputs.fields) - {"model", "top_k"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for classify: {', '.join(sorted(unknown))}")
    if not models:
        raise ApiError(404, "no_models", "no classifier is registered with this server (start it with "
                       "--model NAME=DIR)")
    name = inputs.fields.get("model")
    if name is None and len(models) == 1:
        name = next(iter(models))
    if name is None:
        raise ApiError(422, "unknown_model", "several models are registered: choose one with 'model'")
    if name not in models:
        raise ApiError(422, "unknown_model",
                       f"unknown model {name!r}; registered: {', '.join(sorted(models))}")
    try:
        top_k = int(inputs.fields.get("top_k", 3))
    except (TypeError, ValueError):
        raise ApiError(422, "invalid_input", "top_k must be an integer") from None
    if not 1 <= top_k <= 50:
        raise ApiError(422, "invalid_input", "top_k must be between 1 and 50")
    clf, lock = models[name]
    with lock:  # one forward pass at a time per model
        report = classify_paths(clf, inputs.paths, top_k=top_k, max_pixels=settings.max_pixels)
    report["model"]["path"] = None  # the server's folders are not the client's business
    report["errors"] = inputs.errors + report["errors"]
    return report


_STYLIZE_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["content"],
    "properties": {
        "content": {"type": "string", "format": "binary", "description": "The photo to restyle."},
        "style": {"type": "string", "format": "binary", "description": "The style image (or a preset)."},
        "preset": {"type": "string", "description": "preset_00 ... preset_25 (fast method only)."},
        "method": {"type": "string", "enum": ["fast", "gatys"], "default": "fast"},
        "size": {"type": "integer", "minimum": 16, "maximum": MAX_STYLIZE_SIZE["fast"], "default": 512},
        "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 1},
        "preserve_color": {"type": "boolean", "default": False}}}}}}}


def _stylize_params(fields: dict[str, str], has_style: bool) -> dict[str, Any]:
    """Checked options of a style transfer from the form fields (422 naming the bad one)."""
    from artlens.style.fast import preset_index

    unknown = set(fields) - {"preset", "method", "size", "strength", "preserve_color"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for stylize: {', '.join(sorted(unknown))}")
    method = fields.get("method", "fast").strip().lower()
    if method not in MAX_STYLIZE_SIZE:
        raise ApiError(422, "invalid_input", f"method must be fast or gatys, not {method!r}")
    try:
        size = int(fields.get("size", "512"))
        strength = float(fields.get("strength", "1"))
    except ValueError:
        raise ApiError(422, "invalid_input", "size must be an integer and strength a number") from None
    if not 16 <= size <= MAX_STYLIZE_SIZE[method]:
        raise ApiError(422, "invalid_input", f"size must be between 16 and {MAX_STYLIZE_SIZE[method]} for "
                       f"the {method} method, not {size}")
    if not 0.0 <= strength <= 1.0:
        raise ApiError(422, "invalid_input", f"strength must be between 0 and 1, not {strength}")
    flag = fields.get("preserve_color", "false").strip().lower()
    if flag not in _TRUE | _FALSE:
        raise ApiError(422, "invalid_input", f"preserve_color must be true or false, not {flag!r}")
    params: dict[str, Any] = {"method": method, "size": size, "strength": strength,
                              "preserve_color": flag in _TRUE}
    preset = fields.get("preset", "").strip()
    if bool(preset) == has_style:
        raise ApiError(422, "invalid_input", "send either a 'style' image or a 'preset' field (one of them)")
    if preset:
        if method != "fast":
            raise ApiError(422, "invalid_input", "presets exist only for the fast method")
        try:
            params["preset"] = f"preset_{preset_index(preset):02d}"
        except ArtlensError as exc:
            raise ApiError(422, "bad_preset", str(exc)) from None
    return params


async def _queue_stylize(request: Request, settings: ServeSettings, jobs: JobQueue, owner: str | None) -> Job:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data with a 'content' image")
    batch = await read_multipart(request, settings)
    parts: dict[str, Any] = {}
    for upload in batch.files:
        name = upload.field
        if name not in ("content", "style"):
            raise ApiError(422, "invalid_input", f"unexpected file field {name!r}: send 'content', 'style'")
        if name in parts:
            raise ApiError(422, "invalid_input", f"file field {name!r} given twice")
        parts[name] = upload
    if "content" not in parts:
        raise ApiError(422, "no_files", "no 'content' image in the request")
    params = _stylize_params(batch.fields, "style" in parts)
    order = [n for n in ("content", "style") if n in parts]
    with ExitStack() as stack:
        saved = stack.enter_context(saved_uploads(Batch(files=[parts[n] for n in order]), settings))
        paths = dict(zip(order, saved, strict=True))
        labels = {str(path): f"{role} ({saved[path]})" for role, path in paths.items()}
        params |= {role + "_name": saved[path] for role, path in paths.items()}
        work = stylize_work(paths, params, settings, jobs, labels)
        cleanup = stack.pop_all()  # the job's once submitted; deleted here at once when it is refused
        try:
            return jobs.submit("stylize", work, owner=owner, params=params, inputs=paths["content"].parent,
                               cleanup=cleanup)
        except QueueFull as exc:
            cleanup.close()
            raise ApiError(429, "queue_full", str(exc), {"Retry-After": str(exc.retry_after)}) from None
        except BaseException:
            cleanup.close()
            raise


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
