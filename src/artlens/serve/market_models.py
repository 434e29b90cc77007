"""The service's art market model: loaded (refitted) once on first use, with its trends record."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from artlens.serve.errors import ApiError
from artlens.serve.settings import ServeSettings

__all__ = ["market_model", "market_trends_of"]

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, float], Any] = {}
_TRENDS: dict[tuple[str, float], dict[str, Any]] = {}


def _key(settings: ServeSettings) -> tuple[str, float]:
    folder = settings.market_model
    if folder is None:
        raise ApiError(404, "no_market_model", "this server has no market model (start it with "
                       "--market-model DIR, a folder from 'artlens market fit')")
    meta = Path(folder) / "model.json"
    return str(folder), meta.stat().st_mtime if meta.is_file() else 0.0


def market_model(settings: ServeSettings) -> Any:
    """The loaded :class:`artlens.market.modelfile.LoadedMarketModel` (seconds the first time)."""
    from artlens.market import load_market_model

    key = _key(settings)
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = load_market_model(key[0])
        return _CACHE[key]


def market_trends_of(settings: ServeSettings) -> dict[str, Any]:
    """The ``artlens.market-trends/1`` record of the model's sales (computed once)."""
    from artlens.market import market_trends

    loaded = market_model(settings)
    key = _key(settings)
    with _LOCK:
        if key not in _TRENDS:
            record = market_trends(loaded.prepared, "all")
            record["source"] = Path(key[0]).name
            _TRENDS[key] = record
        return _TRENDS[key]
