"""``artlens describe``: what an image shows and how it looks, as data and as a short sentence.

Tags come from the alignment (:mod:`artlens.align.tag`); the palette from k-means in CIELAB
(:func:`artlens.align.colors.palette`); brightness and contrast from the mean and the RMS contrast of
lightness (Peli, "Contrast in complex images", JOSA A 1990); the subject from the pixels that differ from
the border's colour (the backdrop), its position read against the rule of thirds; symmetry as the
correlation of the grey image with its mirror image.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from artlens.align.colors import palette
from artlens.align.model import AlignModel
from artlens.align.tag import tag_image
from artlens.imageio import as_rgb_uint8, load_image
from artlens.screening.metrics import working_image

__all__ = ["DESCRIBE_SCHEMA", "composition", "describe_image", "describe_path", "tone"]

DESCRIBE_SCHEMA = "artlens.describe/1"
_SIDE = 256


def _work(rgb: np.ndarray) -> np.ndarray:
    return working_image(as_rgb_uint8(rgb), _SIDE)


def tone(rgb: np.ndarray) -> dict:
    """Mean lightness and RMS contrast (both 0-1 of CIELAB L*) with words for them."""
    lab = cv2.cvtColor(_work(rgb), cv2.COLOR_RGB2LAB)
    light = lab[..., 0].astype(np.float32) / 255.0
    mean, rms = float(light.mean()), float(light.std())
    brightness = "dark" if mean < 0.35 else "bright" if mean > 0.7 else "medium"
    contrast = "low" if rms < 0.12 else "high" if rms > 0.28 else "moderate"
    sat = float(cv2.cvtColor(_work(rgb), cv2.COLOR_RGB2HSV)[..., 1].mean() / 255.0)
    colourfulness = "monochrome" if sat < 0.08 else "muted" if sat < 0.3 else "vivid"
    return {"brightness": round(mean, 4), "brightness_word": brightness, "contrast": round(rms, 4),
            "contrast_word": contrast, "saturation": round(sat, 4), "colourfulness": colourfulness}


def composition(rgb: np.ndarray) -> dict:
    """Subject position (centroid of the pixels unlike the border), its share of the frame, and symmetry."""
    img = _work(rgb).astype(np.float32)
    h, w = img.shape[:2]
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    backdrop = np.median(border, axis=0)
    diff = np.abs(img - backdrop).max(-1)
    mask = diff > 40
    share = float(mask.mean())
    if share < 0.005 or share > 0.95:  # no backdrop to tell the subject from: weigh every pixel by its edge
        grey = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
        weight = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
        mask = weight > np.percentile(weight, 80)
    ys, xs = np.nonzero(mask)
    cx, cy = (float(xs.mean() / max(1, w - 1)), float(ys.mean() / max(1, h - 1))) if xs.size else (0.5, 0.5)
    horiz = "left" if cx < 0.4 else "right" if cx > 0.6 else "centre"
    vert = "top" if cy < 0.4 else "bottom" if cy > 0.6 else "middle"
    thirds = min(abs(v - t) for v in (cx, cy) for t in (1 / 3, 2 / 3)) < 0.06
    grey = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
    a, b = grey - grey.mean(), grey[:, ::-1] - grey.mean()
    sym = float((a * b).sum() / max(1e-6, np.sqrt((a * a).sum() * (b * b).sum())))
    return {"subject_x": round(cx, 4), "subject_y": round(cy, 4),
            "subject_position": "centre" if (horiz, vert) == ("centre", "middle") else f"{vert} {horiz}",
            "subject_share": round(share, 4), "backdrop_found": bool(0.005 <= share <= 0.95),
            "on_thirds": bool(thirds), "symmetry": round(sym, 4), "symmetric": bool(sym > 0.8),
            "orientation": "landscape" if w > h * 1.1 else "portrait" if h > w * 1.1 else "square"}


def _sentence(tags: list[dict], colours: list[dict], tone_: dict, comp: dict) -> str:
    what = ", ".join(t["tag"] for t in tags[:3]) or "an image"
    names = []
    for c in colours:
        if c["name"] not in names:
            names.append(c["name"])
    colour = " and ".join(names[:2])
    sym = ", symmetric" if comp["symmetric"] else ""
    return (f"Likely {what}; {tone_['brightness_word']}, {tone_['contrast_word']} contrast, "
            f"{tone_['colourfulness']} ({colour}); subject at {comp['subject_position']}{sym}, "
            f"{comp['orientation']} frame.")


def describe_image(rgb: np.ndarray, *, model: AlignModel | None = None, top_k: int = 5) -> dict:
    """Tags, palette, tone and composition of an RGB image, and a sentence saying them."""
    tags = tag_image(rgb, top_k=top_k, model=model)
    colours, tone_, comp = palette(rgb), tone(rgb), composition(rgb)
    return {"tags": tags, "palette": colours, "tone": tone_, "composition": comp,
            "sentence": _sentence(tags, colours, tone_, comp)}


def describe_path(path: str | Path, *, model: AlignModel | None = None, top_k: int = 5) -> dict:
    """:func:`describe_image` of a file as an ``artlens.describe/1`` record (ImageLoadError if unreadable)."""
    loaded = load_image(path)
    return {"schema": DESCRIBE_SCHEMA, "path": str(path), "width": int(loaded.rgb.shape[1]),
            "height": int(loaded.rgb.shape[0]), **describe_image(loaded.rgb, model=model, top_k=top_k)}
