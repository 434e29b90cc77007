"""Neural style transfer: the fast feed-forward presets (ONNX) and Gatys et al.'s optimisation."""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "ENCODERS": "artlens.style.vgg",
    "FastStylizer": "artlens.style.fast",
    "GatysResult": "artlens.style.gatys",
    "GatysSettings": "artlens.style.gatys",
    "METHODS": "artlens.style.transfer",
    "N_PRESETS": "artlens.style.fast",
    "StyleSource": "artlens.style.transfer",
    "VGGEncoder": "artlens.style.vgg",
    "check_layers": "artlens.style.vgg",
    "content_loss": "artlens.style.gatys",
    "default_encoder_name": "artlens.style.vgg",
    "evaluate": "artlens.style.gatys",
    "get_stylizer": "artlens.style.fast",
    "gram_matrix": "artlens.style.gatys",
    "layer_names": "artlens.style.vgg",
    "list_presets": "artlens.style.transfer",
    "load_encoder": "artlens.style.vgg",
    "match_color": "artlens.style.color",
    "optimise": "artlens.style.gatys",
    "output_name": "artlens.style.transfer",
    "parse_style_spec": "artlens.style.transfer",
    "preset_index": "artlens.style.fast",
    "preset_names": "artlens.style.fast",
    "style_loss": "artlens.style.gatys",
    "stylize": "artlens.style.transfer",
    "total_variation": "artlens.style.gatys",
    "transfer_luminance": "artlens.style.color",
})
