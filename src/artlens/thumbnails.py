"""Small JPEG previews embedded in HTML reports as ``data:`` URIs (pages stay one self-contained file)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np

from artlens.errors import ArtlensError
from artlens.imageio import DEFAULT_MAX_PIXELS, load_image

__all__ = ["thumbnail_uri"]


def thumbnail_uri(image: str | Path | np.ndarray, size: int = 256, *, max_pixels: int = DEFAULT_MAX_PIXELS,
                  quality: int = 82) -> str | None:
    """``data:image/jpeg;base64,...`` of an image file or RGB array, longest side ``size`` (never enlarged).

    Files are read with :func:`artlens.imageio.load_image` (orientation applied, alpha on white). Returns
    None for a file that cannot be read, so a report page is still written around the gap.
    """
    from PIL import Image

    try:
        rgb = image if isinstance(image, np.ndarray) else load_image(image, max_pixels=max_pixels).rgb
        img = Image.fromarray(np.ascontiguousarray(rgb, np.uint8)).convert("RGB")
    except (ArtlensError, OSError, ValueError, TypeError):
        return None
    img.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
