"""Request-size guard: no request body larger than the configured limit is read, whatever it claims.

A pure ASGI middleware: a ``Content-Length`` above the limit is answered 413 before anything is read, and a
body sent without one (chunked) is counted as it arrives and cut off at the limit.
"""

from __future__ import annotations

import json
from typing import Any

from artlens.serve.errors import ApiError, error_body

__all__ = ["BodyLimit", "BodyTooLarge"]

Scope = dict[str, Any]


class BodyTooLarge(ApiError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "request_too_large", f"the request body is larger than {limit} bytes "
                         "(limits: bytes per file x files per request)")


class BodyLimit:
    """Wrap an ASGI app so that request bodies above ``max_bytes`` are refused with a JSON 413."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, BodyTooLarge(self.max_bytes))
            return
        received = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await self._refuse(send, exc)

    @staticmethod
    async def _refuse(send: Any, exc: ApiError) -> None:
        body = json.dumps(error_body(exc.code, exc.message)).encode()
        await send({"type": "http.response.start", "status": exc.status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
