"""Previews of the style presets: each preset applied to one fixed sample photo, rendered once and cached.

The first request for a preset's preview renders it (the fast method, :data:`PREVIEW_SIZE` px) and keeps the
JPEG in the server's ``style-previews`` folder next to its database; later requests, and later processes,
read the file.
"""

from __future__ import annotations

import threading
from pathlib import Path

from artlens.errors import ArtlensError
from artlens.files import atomic_write
from artlens.serve.settings import ServeSettings

__all__ = ["PREVIEW_SIZE", "SAMPLE", "preset_preview"]

#: Longest side of a preview, in pixels.
PREVIEW_SIZE = 192
#: The sample photo every preset is shown on (package data of :mod:`artlens.samples`).
SAMPLE = "photo-chelsea.jpg"
_SAMPLES = Path(__file__).resolve().parent.parent / "samples"
_LOCK = threading.Lock()  # one rendering at a time: two requests for one preview render it once


def _folder(settings: ServeSettings) -> Path:
    return settings.database.parent / "style-previews"


def preset_preview(settings: ServeSettings, preset: str) -> Path:
    """The JPEG preview of ``preset`` (a checked ``preset_NN`` name), rendered on first use.

    Raises
    ------
    ArtlensError
        The style network cannot be loaded, or the preview cannot be written.
    """
    path = _folder(settings) / f"{preset}-{PREVIEW_SIZE}.jpg"
    if path.is_file():
        return path
    with _LOCK:
        if path.is_file():
            return path
        from artlens.style.transfer import stylize

        image = stylize(_SAMPLES / SAMPLE, f"preset:{preset}", "fast", size=PREVIEW_SIZE)
        try:
            return atomic_write(path, lambda tmp: image.convert("RGB").save(tmp, "JPEG", quality=85))
        except OSError as exc:
            raise ArtlensError(f"{path}: cannot write the preset preview: {exc.strerror or exc}") from None
