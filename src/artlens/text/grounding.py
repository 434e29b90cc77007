"""What artlens sees in a picture, as words a text can be about: content tags, ImageNet labels, the palette.

:func:`ground_image` gathers them: the tags of the image-text alignment (:mod:`artlens.align`: open-vocabulary
themes and objects such as "still life" or "vase", with calibrated scores) when its text tower can run, the
top-k ImageNet labels of the shipped MobileNetV2 (Sandler et al., CVPR 2018) for the specific object, and
the palette of :func:`artlens.align.colors.palette` (k-means in CIELAB, each colour named by its basic colour
term).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from artlens.align.colors import palette
from artlens.errors import ArtlensError
from artlens.imageio import as_rgb_uint8

__all__ = ["Grounding", "ground_image"]


@dataclass
class Grounding:
    """Labels (with probabilities), palette colours (name, hex, share) and a one-line description."""

    labels: list[dict[str, float | str]] = field(default_factory=list)
    palette: list[dict[str, float | str]] = field(default_factory=list)
    source: str = "imagenet+palette"
    tags: list[dict[str, float | str]] = field(default_factory=list)

    def describe(self) -> str:
        """A phrase a prompt can use: ``"a picture showing still life, vase; colours: white, blue"``."""
        words = [str(tag["tag"]) for tag in self.tags]
        words += [str(label["label"]).split(",")[0].strip() for label in self.labels]
        things = ", ".join(dict.fromkeys(words))
        colours = ", ".join(dict.fromkeys(str(c["name"]) for c in self.palette))
        return f"a picture showing {things or 'something'}; colours: {colours or 'unknown'}"

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "tags": self.tags, "labels": self.labels, "palette": self.palette,
                "description": self.describe()}


def _imagenet_labels(rgb: np.ndarray, top_k: int) -> list[dict[str, float | str]]:
    from artlens.models.backbones import get_backbone

    backbone = get_backbone("mobilenet_v2", with_classifier=True)
    logits = backbone.logits([rgb])[0].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    categories = backbone.spec.categories
    return [{"label": categories[i], "p": round(float(probs[i]), 4)} for i in np.argsort(-probs)[:top_k]]


def _content_tags(rgb: np.ndarray, count: int) -> list[dict[str, float | str]]:
    """The alignment's best tags of the default vocabulary; none when its text tower cannot run (the
    ``align`` extra missing, weights unavailable offline)."""
    if count <= 0:
        return []
    try:
        from artlens.align.tag import tag_image

        return [{"tag": t["tag"], "p": t["score"]} for t in tag_image(rgb, top_k=count)]
    except ArtlensError:
        return []


def ground_image(image: np.ndarray, *, top_k: int = 3, colours: int = 4, tags: int = 3) -> Grounding:
    """``tags`` content tags, the top-``top_k`` ImageNet labels and a ``colours``-colour palette of an RGB
    image."""
    rgb = as_rgb_uint8(image)
    found = _content_tags(rgb, tags)
    return Grounding(labels=_imagenet_labels(rgb, top_k), palette=palette(rgb, k=colours), tags=found,
                     source="align+imagenet+palette" if found else "imagenet+palette")
