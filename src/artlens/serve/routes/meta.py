"""The service itself: ``/healthz``, ``/metrics``, ``/openapi.json``, and the web page with its files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from artlens import __version__
from artlens.serve.deps import GUARDED, MetricsDep
from artlens.serve.errors import ApiError
from artlens.serve.metrics import CONTENT_TYPE
from artlens.serve.responses import Health

__all__ = ["PAGE_CSP", "STATIC_DIR", "router"]

#: The web page's files (package data) and the only ones ``/static/`` serves.
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8",
           "market.js": "text/javascript; charset=utf-8",
           "align.js": "text/javascript; charset=utf-8",
           "write.js": "text/javascript; charset=utf-8",
           "generate.js": "text/javascript; charset=utf-8"}
#: Content-Security-Policy of the page: its own scripts, styles and API only; blob: images for previews and
#: blob: audio for the composer's player.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
            "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            "form-action 'none'; "
            "frame-ancestors 'none'")
_PAGE_HEADERS = {"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                 "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}

router = APIRouter()


@router.get("/healthz", tags=["service"], response_model=Health)
def healthz() -> dict[str, str]:
    """Liveness: answers without a key."""
    return {"status": "ok", "version": __version__}


@router.get("/metrics", tags=["service"], dependencies=GUARDED, response_class=PlainTextResponse,
            responses={200: {"content": {CONTENT_TYPE: {}}}})
def metrics_route(metrics: MetricsDep) -> PlainTextResponse:
    """Prometheus text format: requests by route and status, latencies, errors, images."""
    return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE)


@router.get("/openapi.json", include_in_schema=False, dependencies=GUARDED)
def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@router.get("/", include_in_schema=False, response_class=FileResponse)
def page() -> FileResponse:
    """The web page: open to all (it holds no data); its API calls carry the key."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers=_PAGE_HEADERS)


@router.get("/static/{name}", include_in_schema=False, response_class=FileResponse)
def asset(name: str) -> FileResponse:
    media = _ASSETS.get(name)  # a fixed list: no path from the client reaches the file system
    if media is None:
        raise ApiError(404, "not_found", f"no static file {name!r}")
    return FileResponse(STATIC_DIR / name, media_type=media, headers=_PAGE_HEADERS)
