"""What artlens sees in a picture, as words a text can be about: ImageNet labels and the palette.

One function, :func:`ground_image`, is the seam where the content-understanding tags (``artlens.align``, issue
#29) plug in once they exist; for now it takes the top-k ImageNet labels of the shipped MobileNetV2 (Sandler
et al. 2018, CVPR) and the image's palette: k-means in CIELAB (Lloyd 1982) on a small copy, each centre named
after the nearest of a short list of colour words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from artlens.imageio import as_rgb_uint8

__all__ = ["COLOUR_NAMES", "Grounding", "ground_image"]

COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20), "charcoal": (60, 60, 64), "grey": (128, 128, 128), "silver": (192, 192, 192),
    "white": (245, 245, 245), "cream": (240, 230, 200), "beige": (210, 190, 150), "brown": (120, 75, 40),
    "rust": (170, 70, 30), "red": (200, 30, 30), "crimson": (150, 20, 40), "pink": (235, 150, 170),
    "orange": (240, 140, 30), "gold": (212, 175, 55), "yellow": (240, 220, 40), "olive": (120, 120, 40),
    "green": (50, 150, 60), "dark green": (20, 70, 40), "teal": (30, 128, 128), "turquoise": (60, 200, 200),
    "sky blue": (130, 190, 235), "blue": (40, 80, 200), "navy": (20, 30, 90), "purple": (120, 50, 150),
    "lavender": (180, 160, 220),
}


@dataclass
class Grounding:
    """Labels (with probabilities), palette colours (name, hex, share) and a one-line description."""

    labels: list[dict[str, float | str]] = field(default_factory=list)
    palette: list[dict[str, float | str]] = field(default_factory=list)
    source: str = "imagenet+palette"

    def describe(self) -> str:
        """A phrase a prompt can use: ``"a picture showing lakeside, boathouse; colours: navy, silver"``."""
        things = ", ".join(str(label["label"]) for label in self.labels)
        colours = ", ".join(dict.fromkeys(str(c["name"]) for c in self.palette))
        return f"a picture showing {things or 'something'}; colours: {colours or 'unknown'}"

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "labels": self.labels, "palette": self.palette,
                "description": self.describe()}


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB).reshape(-1, 3)


def _palette(rgb: np.ndarray, colours: int) -> list[dict[str, float | str]]:
    small = cv2.resize(rgb, (64, 64), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    lab = _lab(small)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(lab, colours, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    names = list(COLOUR_NAMES)
    name_lab = _lab(np.array([COLOUR_NAMES[n] for n in names], dtype=np.uint8))
    shares = np.bincount(labels.ravel(), minlength=colours) / len(labels)
    out = []
    for k in np.argsort(-shares):
        centre_rgb = np.clip(small[labels.ravel() == k].mean(axis=0), 0, 255).astype(int)
        nearest = names[int(np.argmin(((name_lab - centres[k]) ** 2).sum(axis=1)))]
        out.append({"name": nearest, "hex": "#{:02x}{:02x}{:02x}".format(*centre_rgb),
                    "share": round(float(shares[k]), 3)})
    return out


def ground_image(image: np.ndarray, *, top_k: int = 3, colours: int = 4) -> Grounding:
    """The top-``top_k`` ImageNet labels and a ``colours``-colour palette of an RGB image."""
    rgb = as_rgb_uint8(image)
    from artlens.models.backbones import get_backbone

    backbone = get_backbone("mobilenet_v2", with_classifier=True)
    logits = backbone.logits([rgb])[0].astype(np.float64)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    categories = backbone.spec.categories
    labels = [{"label": categories[i], "p": round(float(probs[i]), 4)} for i in np.argsort(-probs)[:top_k]]
    return Grounding(labels=labels, palette=_palette(rgb, colours))
