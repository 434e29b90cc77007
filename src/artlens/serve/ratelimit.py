"""Rate limits of the service: token buckets per client address, per API key and for failed authentication.

Each bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a request takes one, and a
request that finds its bucket empty is answered **429** ``rate_limited`` with ``Retry-After`` (whole seconds
until a token is back). Buckets live in memory, at most ``max_keys`` per kind (the least recently used go
first: a full bucket and a forgotten one are the same), so a flood of addresses cannot grow memory.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from artlens.serve.errors import ApiError, error_body

__all__ = ["AddressLimit", "RateLimited", "TokenBuckets", "client_address"]


class RateLimited(ApiError):
    """429 with ``Retry-After``: ``who`` sent more requests than its bucket allows."""

    def __init__(self, who: str, wait: float) -> None:
        retry = max(1, math.ceil(wait))
        super().__init__(429, "rate_limited", f"too many requests {who}; retry in {retry} s",
                         {"Retry-After": str(retry)})


class TokenBuckets:
    """One token bucket per key; ``rate`` 0 turns the limit off."""

    def __init__(self, rate: float, burst: float, max_keys: int = 10_000) -> None:
        self.rate, self.burst, self.max_keys = float(rate), max(1.0, float(burst)), max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, updated)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def _level(self, key: str, now: float) -> float:
        tokens, updated = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - updated) * self.rate)

    def take(self, key: str, now: float | None = None) -> float:
        """Take a token for ``key``: 0.0 when there was one, else the seconds until there is one again."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._level(key, now)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        return wait


def client_address(scope: dict[str, Any]) -> str:
    """The peer address of a request (``unknown`` when the server gives none)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class AddressLimit:
    """Pure ASGI middleware: every HTTP request takes a token from its client address's bucket."""

    def __init__(self, app: Any, buckets: TokenBuckets) -> None:
        self.app, self.buckets = app, buckets

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.buckets.enabled:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_address(scope))
        if not wait:
            await self.app(scope, receive, send)
            return
        refused = RateLimited("from this address", wait)
        body = json.dumps(error_body(refused.code, refused.message)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in (refused.headers or {}).items()]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
