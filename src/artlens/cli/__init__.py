"""The artlens command line (:mod:`artlens.cli.entry`): parses arguments, calls the library, prints."""

from __future__ import annotations

from artlens.cli._app import app
from artlens.cli.entry import main

__all__ = ["app", "main"]
