"""Content understanding: image-text alignment (LiT, Zhai et al., CVPR 2022) for open-vocabulary tags,
zero-shot categories, descriptions and text-to-image search. Training lives in :mod:`artlens.align.train`."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "AlignModel": "artlens.align.model",
    "COLOUR_NAMES": "artlens.align.colors",
    "DEFAULT_MODEL_DIR": "artlens.align.model",
    "PROMPTS": "artlens.align.model",
    "TextEncoder": "artlens.align.text",
    "colour_histogram": "artlens.align.colors",
    "contrastive_loss": "artlens.align.loss",
    "get_text_encoder": "artlens.align.text",
    "load_align_model": "artlens.align.model",
    "palette": "artlens.align.colors",
})
