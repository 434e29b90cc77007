"""Keep secrets out of the access log: query values that may hold a token, and tokens anywhere in a target.

Clients should send keys in the ``Authorization`` header, which is never logged; some put them in the URL
(``?token=...``, ``?api_key=...``) and uvicorn's access log writes the whole target. :class:`RedactTokens`
rewrites the target of each access-log record before any handler sees it.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode

__all__ = ["SECRET_PARAMS", "RedactTokens", "install", "redact_target"]

#: Query parameters whose values are replaced (compared lower case, ``-`` read as ``_``).
SECRET_PARAMS = frozenset({"token", "access_token", "api_key", "apikey", "key", "auth", "authorization",
                           "bearer", "password", "secret", "sig", "signature"})
_TOKEN = re.compile(r"alk_[A-Za-z0-9_\-]+")  # an artlens API key, wherever it appears
_REDACTED = "REDACTED"


def redact_target(target: str) -> str:
    """``target`` (path and query) with secret query values and artlens tokens replaced by ``REDACTED``."""
    path, sep, query = target.partition("?")
    if sep:
        pairs = parse_qsl(query, keep_blank_values=True)
        clean = [(k, _REDACTED if k.lower().replace("-", "_") in SECRET_PARAMS else v) for k, v in pairs]
        query = urlencode(clean, safe="/:,")
    return _TOKEN.sub(_REDACTED, path + sep + query)


class RedactTokens(logging.Filter):
    """Rewrites uvicorn's access-log records (``client, method, target, version, status``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install(logger_name: str = "uvicorn.access") -> None:
    """Add :class:`RedactTokens` to the access logger (once)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
