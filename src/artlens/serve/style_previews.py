"""Previews of the style presets: each preset applied to one fixed sample photo, rendered once and cached.

The first request for a preset's preview renders it (the fast method, :data:`PREVIEW_SIZE` px) and keeps the
JPEG in artlens's cache folder (``style/previews/``, named by the preset weights' digest, so new weights get
new previews); later requests, later processes and other servers on the machine read the file.
"""

from __future__ import annotations

import threading
from pathlib import Path

from artlens.errors import ArtlensError
from artlens.files import atomic_write

__all__ = ["PREVIEW_SIZE", "SAMPLE", "preset_preview", "preview_path", "previews_available"]

#: Longest side of a preview, in pixels.
PREVIEW_SIZE = 192
#: The sample photo every preset is shown on (package data of :mod:`artlens.samples`).
SAMPLE = "photo-chelsea.jpg"
_SAMPLES = Path(__file__).resolve().parent.parent / "samples"
_LOCK = threading.Lock()  # one rendering at a time: two requests for one preview render it once


#: The weight file the presets need.
PRESET_WEIGHTS = "magenta_multistyle26"


def previews_available() -> bool:
    """Whether the presets' weights are in the local cache (verified), so that previews can be rendered."""
    from artlens import weights

    return weights.local_status(PRESET_WEIGHTS).state == "verified"


def preview_path(preset: str) -> Path:
    """Where the preview of ``preset`` is kept (it may not exist yet)."""
    from artlens import weights

    digest = weights.get(PRESET_WEIGHTS).sha256[:12]
    return weights.cache_dir() / "style" / "previews" / f"{preset}-{PREVIEW_SIZE}-{digest}.jpg"


def preset_preview(preset: str) -> Path:
    """The JPEG preview of ``preset`` (a checked ``preset_NN`` name), rendered on first use.

    Raises
    ------
    ArtlensError
        The style network cannot be loaded, or the preview cannot be written.
    """
    path = preview_path(preset)
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
