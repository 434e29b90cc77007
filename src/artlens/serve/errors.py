"""Every failure of the service becomes a JSON body ``{"error": {"code", "message"}}`` and no stack trace.

:class:`ApiError` is raised by the service's own checks (auth, limits, paths); an
:class:`~artlens.errors.ArtlensError` from the library becomes a 4xx; anything else a generic 500 whose
details go to the log only.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from artlens.errors import ArtlensError, ConfigError, ImageLoadError, PolicyError

__all__ = ["ApiError", "error_body", "install_handlers", "invalid_input"]

log = logging.getLogger("artlens.serve")

_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
                 422: "invalid_input", 429: "too_many_requests", 500: "internal_error"}


class ApiError(Exception):
    """An error answered as ``status`` with a stable machine-readable ``code`` and a human ``message``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def invalid_input(exc: ValidationError) -> ApiError:
    """The 422 ``invalid_input`` answer to fields that failed their model: the first bad field and why
    (``lines: Input should be greater than or equal to 1``), or just why for the body as a whole."""
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return ApiError(422, "invalid_input", "the body is not valid JSON (UTF-8 text)")
    where = ".".join(str(p) for p in first["loc"]) + ": " if first["loc"] else ""
    return ApiError(422, "invalid_input", f"{where}{first['msg']}")


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def _respond(request: Request, status: int, code: str, message: str,
             headers: dict[str, str] | None = None) -> JSONResponse:
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.errors.inc(code=code)
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def _status_of(exc: ArtlensError) -> tuple[int, str]:
    if isinstance(exc, ImageLoadError):
        return 422, "bad_image"
    if isinstance(exc, PolicyError):
        return 422, "bad_policy"
    if isinstance(exc, ConfigError):
        return 400, "bad_request"
    return 400, "artlens_error"


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the JSON body above."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(request, exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(ArtlensError)
    async def _artlens_error(request: Request, exc: ArtlensError) -> JSONResponse:
        status, code = _status_of(exc)
        message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        return _respond(request, status, code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for item in exc.errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ()))
            problems.append(f"{where}: {item.get('msg', 'invalid')}")
        return _respond(request, 422, "invalid_input", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return _respond(request, exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(request: Request, _exc: ClientDisconnect) -> JSONResponse:
        # the client left while its body was read: nobody reads the answer, and it is no server error
        log.info("client disconnected during %s %s", request.method, request.url.path)
        return _respond(request, 499, "client_disconnected", "the client closed the connection")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path,
                  exc_info=exc)
        return _respond(request, 500, "internal_error",
                        "internal server error (details are in the server log)")
