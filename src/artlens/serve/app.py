"""The FastAPI application of ``artlens serve``: thin HTTP routes over the library's assess and classify.

``create_app(settings)`` builds one app: bearer API keys on every route but ``/healthz`` (unless auth is
off), a request-size guard, hand-kept Prometheus metrics, JSON errors without stack traces, and no CORS
headers (browsers on other origins cannot call it). Heavy work runs in worker threads, at most
``settings.workers`` requests at a time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artlens import __version__
from artlens.serve.auth import ApiKey, KeyStore
from artlens.serve.errors import ApiError, install_handlers
from artlens.serve.limits import BodyLimit
from artlens.serve.metrics import CONTENT_TYPE, Registry
from artlens.serve.paths import expand
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import Batch, read_multipart, saved_uploads

__all__ = ["create_app"]

_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}
_ERRORS = {status: {"description": text, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
           for status, text in ((401, "No, an invalid or a revoked API key"),
                                (403, "A path outside the allowed folders"),
                                (413, "Too many files, bytes or pixels"),
                                (422, "Not an image, or invalid fields"))}


_BEARER = HTTPBearer(auto_error=False, description="An API key from `artlens keys create`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]


class PathsRequest(BaseModel):
    """JSON body naming files or folders under the server's ``--allow-root`` folders."""

    model_config = ConfigDict(extra="forbid")
    paths: list[str] = Field(min_length=1, max_length=1000)
    policy: str | None = Field(default=None, description="assess: a preset name (default: general).")
    model: str | None = Field(default=None, description="classify: a registered model name.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="classify: classes listed per head.")


def _body_doc(fields: dict[str, Any]) -> dict[str, Any]:
    multipart = {"type": "object", "required": ["files"],
                 "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                **fields}}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": multipart},
        "application/json": {"schema": PathsRequest.model_json_schema()},
    }}}


class _Inputs:
    """The files of one request, uploaded or named, with the names to show for them in the report."""

    def __init__(self, paths: list[Path], names: dict[str, str], fields: dict[str, Any],
                 errors: list[dict[str, str]], cleanup: AbstractContextManager[Any]) -> None:
        self.paths, self.names, self.fields, self.errors, self.cleanup = paths, names, fields, errors, cleanup

    def relabel(self, report: dict[str, Any]) -> dict[str, Any]:
        """Replace the private paths of uploads by the clients' file names, in entries and messages."""
        if self.names:
            for item in report["images"]:
                item["path"] = self.names.get(item["path"], item["path"])
            for item in report["errors"]:
                private = item["path"]
                shown = self.names.get(private, private)
                item["path"], item["error"] = shown, item["error"].replace(private, shown)
        return report


async def _read_inputs(request: Request, settings: ServeSettings) -> _Inputs:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        batch: Batch = await read_multipart(request, settings)
        stack = ExitStack()
        names = stack.enter_context(saved_uploads(batch, settings))  # closed by the caller
        return _Inputs(list(names), {str(k): v for k, v in names.items()}, dict(batch.fields), [], stack)
    if kind == "application/json":
        try:
            body = PathsRequest.model_validate(json.loads(await request.body()))
        except (ValueError, ValidationError) as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else None
            where = ".".join(str(p) for p in first["loc"]) + ": " if first and first["loc"] else ""
            message = f"{where}{first['msg']}" if first else "the body is not valid JSON"
            raise ApiError(422, "invalid_input", message) from None
        files, errors = expand(body.paths, settings.allow_roots)
        if len(files) > settings.max_files:
            raise ApiError(413, "too_many_files", f"the paths name {len(files)} images; at most "
                           f"{settings.max_files} per request")
        if not files and not errors:
            raise ApiError(422, "no_files", "the paths name no image files")
        fields = body.model_dump(exclude={"paths"}, exclude_none=True)
        return _Inputs(files, {}, fields, errors, nullcontext())
    raise ApiError(415, "unsupported_media_type", "send multipart/form-data (uploads) or application/json "
                   "({\"paths\": [...]})")


def _merge_errors(report: dict[str, Any], errors: list[dict[str, str]]) -> dict[str, Any]:
    """Add the refused and missing paths to an assess report (its summary counts them)."""
    if errors:
        report["errors"] = errors + report["errors"]
        report["summary"]["errors"] = len(report["errors"])
        report["summary"]["total"] += len(errors)
    return report


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
        ``POST /v1/assess``, ``POST /v1/classify``.
    """
    settings = (settings or ServeSettings()).check()
    if settings.auth and keys is None:
        keys = KeyStore(settings.db_path)
    models = _load_models(settings.models)
    metrics = Registry()
    limiter = anyio.CapacityLimiter(max(1, settings.workers))

    app = FastAPI(title="artlens", version=__version__, openapi_url=None, docs_url=None, redoc_url=None,
                  description="Quality screening, marketplace compliance and recognition of images.")
    app.state.settings, app.state.metrics, app.state.keys, app.state.models = settings, metrics, keys, models
    install_handlers(app)

    def require_key(request: Request, credentials: Credentials) -> ApiKey | None:
        if not settings.auth:
            return None
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise ApiError(401, "unauthorized", "an API key is required: send 'Authorization: Bearer <key>'",
                           challenge)
        key = keys.verify(credentials.credentials) if keys is not None else None
        if key is None:
            raise ApiError(401, "unauthorized", "invalid or revoked API key", challenge)
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

    v1 = APIRouter(prefix="/v1", dependencies=guarded, responses=_ERRORS)

    @v1.get("/models", tags=["classify"])
    def list_models() -> dict[str, Any]:
        """Classifiers registered with this server (``--model NAME=DIR``) and their heads."""
        return {"models": {name: {"heads": {h: list(c) for h, c in clf.heads.items()},
                                  "backbone": clf.config["backbone"], "mode": clf.mode}
                           for name, (clf, _lock) in models.items()}}

    async def run(request: Request, work: Callable[[_Inputs], dict[str, Any]], operation: str
                  ) -> dict[str, Any]:
        inputs = await _read_inputs(request, settings)
        with inputs.cleanup:
            report = await anyio.to_thread.run_sync(work, inputs, limiter=limiter)
        report = inputs.relabel(report)
        metrics.images.inc(len(report["images"]), operation=operation, outcome="ok")
        metrics.images.inc(len(report["errors"]), operation=operation, outcome="error")
        return report

    @v1.post("/assess", tags=["assess"], openapi_extra=_body_doc({
        "policy": {"type": "string", "description": "Preset name (default: general)."}}))
    async def assess_route(request: Request) -> dict[str, Any]:
        """Screen images: an ``artlens.assess/1`` report (pass/review/fail with reasons per image).

        Send uploads as ``multipart/form-data`` (file parts, optional ``policy`` field), or JSON
        ``{"paths": [...], "policy": ...}`` naming files or folders under the server's ``--allow-root``
        folders. Files that cannot be decoded are listed under ``errors``; the others are still assessed.
        """
        return await run(request, lambda inputs: _assess(inputs, settings), "assess")

    @v1.post("/classify", tags=["classify"], openapi_extra=_body_doc({
        "model": {"type": "string", "description": "Registered model name (optional with one model)."},
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50}}))
    async def classify_route(request: Request) -> dict[str, Any]:
        """Classify images with a registered model: an ``artlens.classify/1`` report.

        Same inputs as ``/v1/assess``, with optional ``model`` and ``top_k`` fields.
        """
        return await run(request, lambda inputs: _classify(inputs, models, settings), "classify")

    app.include_router(v1)
    app.add_middleware(_MetricsMiddleware, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    return app


def _load_models(registered: dict[str, Path]) -> dict[str, tuple[Any, threading.Lock]]:
    if not registered:
        return {}
    from artlens.classify.model import load_classifier

    return {name: (load_classifier(folder), threading.Lock()) for name, folder in registered.items()}


def _policy(name: Any) -> Any:
    from artlens.quality.policy import list_presets, load_policy

    name = str(name or "general").strip()
    presets = list_presets()
    if name not in presets:  # never a file path: a client must not make the server read its files
        raise ApiError(422, "bad_policy", f"unknown policy {name!r}; presets: {', '.join(presets)}")
    return load_policy(name)


def _assess(inputs: _Inputs, settings: ServeSettings) -> dict[str, Any]:
    from artlens.quality.analyse import AnalysisSettings
    from artlens.quality.assess import AssessRun, run_assessment

    unknown = set(inputs.fields) - {"policy"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for assess: {', '.join(sorted(unknown))}")
    policy = _policy(inputs.fields.get("policy"))
    analysis = AnalysisSettings.for_policy(policy, max_pixels=settings.max_pixels,
                                           learned=not settings.technical)
    run = AssessRun(policy=policy, settings=analysis, workers=1, db=settings.db_path,
                    use_store=settings.use_store)
    return _merge_errors(run_assessment(inputs.paths, run), inputs.errors)


def _classify(inputs: _Inputs, models: dict[str, tuple[Any, threading.Lock]],
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
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.inc(method=scope.get("method", ""), route=route, status=str(status))
            self.metrics.latency.observe(time.perf_counter() - started, route=route)
