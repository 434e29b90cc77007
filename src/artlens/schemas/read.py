"""Reading the JSON Schemas shipped in :mod:`artlens.schemas`."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from artlens.errors import ConfigError

__all__ = ["read_schema"]


@functools.cache
def _text(filename: str) -> str:
    return resources.files("artlens.schemas").joinpath(filename).read_text(encoding="utf-8")


def read_schema(name: str, version: int = 1) -> dict[str, Any]:
    """The JSON Schema of ``artlens.<name>/<version>`` (a fresh dict on every call).

    Raises
    ------
    ConfigError
        No such schema ships with this artlens.
    """
    try:
        text = _text(f"{name}-{version}.json")
    except FileNotFoundError:
        raise ConfigError(f"no schema artlens.{name}/{version} in this artlens") from None
    return json.loads(text)
