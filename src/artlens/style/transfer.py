"""Neural style transfer: a photo rendered in the style of a painting.

Two methods behind one function, :func:`stylize`:

* ``"fast"``: Magenta's feed-forward networks through ONNX Runtime (Ghiasi et al. 2017 for any style image,
  Dumoulin et al. 2017 for the 26 presets): a fraction of a second per image.
* ``"gatys"``: optimisation over VGG features (Gatys et al. 2016), coarse to fine: slower, highest quality.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from artlens.errors import ConfigError
from artlens.imageio import DEFAULT_MAX_PIXELS, load_image
from artlens.style.color import match_color, transfer_luminance
from artlens.style.fast import N_PRESETS, get_stylizer, preset_index, preset_names
from artlens.style.gatys import GatysSettings, Progress, Snapshot

__all__ = [
    "METHODS",
    "GatysSettings",
    "StyleSource",
    "list_presets",
    "match_color",
    "output_name",
    "parse_style_spec",
    "stylize",
    "transfer_luminance",
]

METHODS = ("fast", "gatys")
ImageInput = str | os.PathLike | Image.Image | np.ndarray
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def list_presets() -> list[str]:
    """The preset names usable as ``preset:NAME`` with the fast method (``preset_00`` ... ``preset_25``)."""
    return preset_names()


@dataclass(frozen=True)
class StyleSource:
    """One style of a (possibly mixed) style: an image source or a preset, and its weight."""

    source: ImageInput
    weight: float = 1.0

    @property
    def preset(self) -> int | None:
        if isinstance(self.source, str) and self.source.lower().startswith("preset:"):
            return preset_index(self.source)
        return None

    @property
    def label(self) -> str:
        if self.preset is not None:
            return f"preset_{self.preset:02d}"
        if isinstance(self.source, str | os.PathLike):
            return Path(self.source).stem
        return "style"


def parse_style_spec(text: str) -> StyleSource:
    """``"painting.jpg:0.7"`` -> ``StyleSource("painting.jpg", 0.7)``.

    The part after the last ``:`` is a weight only when it is a number and the whole text is not an existing
    file, so ``C:\\art\\a.jpg`` and ``my:file.png`` stay paths. ``preset:7`` is preset 7 (a weight needs a
    second colon: ``preset:7:0.5``).
    """
    if os.path.exists(text) or ":" not in text:
        return StyleSource(text)
    head, _, tail = text.rpartition(":")
    is_preset = text.lower().startswith("preset:")
    if _NUMBER.match(tail.strip()) and head and not (is_preset and ":" not in head):
        weight = float(tail)
        if not weight > 0:
            raise ConfigError(f"style {text!r}: the weight must be positive")
        return StyleSource(head, weight)
    return StyleSource(text)


def output_name(content: str | os.PathLike, styles: Sequence[StyleSource]) -> str:
    """``<content-stem>__<style-stem>.png``; mixed styles are joined with ``+``."""
    label = "+".join(s.label for s in styles)
    return f"{Path(content).stem}__{label}.png"


# ------------------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Input:
    rgb: np.ndarray  # uint8 (H, W, 3)
    alpha: np.ndarray | None  # uint8 (H, W)
    grey: bool


def _read(image: ImageInput, max_pixels: int) -> _Input:
    if isinstance(image, str | os.PathLike):
        loaded = load_image(image, max_pixels=max_pixels)
        grey = loaded.mode in {"L", "LA", "1", "I", "I;16", "F"}
        return _Input(loaded.rgb, None, grey)
    if isinstance(image, Image.Image):
        grey = image.mode in {"L", "LA", "1", "I", "I;16", "F"}
        alpha = None
        if image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            alpha = np.asarray(rgba)[..., 3].copy()
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, rgba)
        return _Input(np.asarray(image.convert("RGB")).copy(), alpha, grey)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr.astype(np.float32) * (255.0 if arr.max(initial=0) <= 1.0 else 1.0), 0, 255)
        arr = (arr + 0.5).astype(np.uint8)
    if arr.ndim == 2:
        return _Input(np.repeat(arr[..., None], 3, axis=2), None, True)
    if arr.ndim == 3 and arr.shape[2] == 4:
        return _read(Image.fromarray(arr, "RGBA"), max_pixels)
    if arr.ndim == 3 and arr.shape[2] == 3:
        return _Input(np.ascontiguousarray(arr), None, False)
    raise ConfigError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), not {arr.shape}")


def _out_size(h: int, w: int, size: int | None, max_size: int | None = None) -> tuple[int, int]:
    """The output (h, w): the longest side ``size`` (None: the content's), then at most ``max_size``."""
    for name, value in (("size", size), ("max_size", max_size)):
        if value is not None and value < 16:
            raise ConfigError(f"{name} must be at least 16 px, not {value}")
    target = max(h, w) if size is None else size
    if max_size is not None:
        target = min(target, max_size)
    if target == max(h, w):
        return h, w
    scale = target / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def _resize(rgb: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    if rgb.shape[:2] == hw:
        return rgb
    interp = cv2.INTER_AREA if hw[0] * hw[1] < rgb.shape[0] * rgb.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(rgb, (hw[1], hw[0]), interpolation=interp)


def _normalise_styles(style: ImageInput | StyleSource | Sequence) -> list[StyleSource]:
    if isinstance(style, StyleSource):
        items: list = [style]
    elif isinstance(style, str | os.PathLike | Image.Image | np.ndarray):
        items = [style]
    else:
        items = list(style)
    sources = []
    for item in items:
        if isinstance(item, StyleSource):
            sources.append(item)
        elif isinstance(item, tuple) and len(item) == 2:
            sources.append(StyleSource(item[0], float(item[1])))
        else:
            sources.append(StyleSource(item))
    if not sources:
        raise ConfigError("no style given")
    if any(not s.weight > 0 for s in sources):
        raise ConfigError("style weights must be positive")
    total = sum(s.weight for s in sources)
    return [replace(s, weight=s.weight / total) for s in sources]


# ------------------------------------------------------------------------------------------------------------
# The API
# ------------------------------------------------------------------------------------------------------------

def stylize(
    content: ImageInput,
    style: ImageInput | StyleSource | Sequence,
    method: str = "fast",
    *,
    size: int | None = 512,
    max_size: int | None = None,
    strength: float = 1.0,
    preserve_color: bool = False,
    seed: int | None = None,
    settings: GatysSettings | None = None,
    encoder: str = "auto",
    device: str | None = None,
    progress: Progress | None = None,
    snapshot: Snapshot | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Image.Image:
    """Render ``content`` in the style of ``style``.

    Parameters
    ----------
    content
        A file path, a PIL image or an array ((H, W), (H, W, 3) or (H, W, 4); uint8, or float in [0, 1]).
        Files are read with :func:`artlens.imageio.load_image` and never modified.
    style
        One style (a path, image, array or ``"preset:NAME"``) or several to mix: a sequence of styles,
        ``(style, weight)`` pairs or :class:`StyleSource` objects. Weights are normalised to sum to one.
    method
        ``"fast"`` (Magenta networks, ONNX Runtime) or ``"gatys"`` (optimisation over VGG features).
    size
        Longest side of the output in pixels (``None``: the content's own size).
    max_size
        A cap on the longest side, never enlarging: ``size=None, max_size=1024`` keeps a small content's
        size and shrinks a large one to 1024 px.
    strength
        0 keeps the content, 1 is the full style. Fast: the style vector is interpolated with the
        content's own (Ghiasi et al.), and below 0.5 the result also fades to the content (presets: the
        pixels are blended). Gatys: scales the style weight.
    preserve_color
        Keep the content's colours: the output's luminance with the content's chroma.
    seed
        Random seed (Gatys with noise initialisation; the fast method is deterministic).
    settings
        Gatys layers, weights, optimiser and schedule.
    encoder
        Gatys encoder: ``"auto"`` (VGG19 when its weights are local, else the offline VGG16), ``"vgg19"``,
        ``"vgg16_hed"``.
    device
        ``"cpu"``, ``"cuda"`` ... (default: ``$ARTLENS_DEVICE`` or CUDA when present).
    progress, snapshot
        Gatys callbacks: ``progress(stage, step, total, losses)`` and ``snapshot(step, image)``.
    max_pixels
        Refuse input files above this many pixels.

    Returns
    -------
    PIL.Image.Image
        RGB; RGBA when the content had transparency (its alpha is kept, resized); L for a grey content with
        ``preserve_color``.

    Raises
    ------
    ImageLoadError
        A content or style file cannot be read.
    WeightsError
        A weight file cannot be resolved.
    ConfigError
        Invalid options (unknown method or preset, presets mixed with images, presets with Gatys ...).

    References
    ----------
    .. [1] G. Ghiasi, H. Lee, M. Kudlur, V. Dumoulin, J. Shlens, "Exploring the structure of a real-time,
       arbitrary neural artistic stylization network", BMVC 2017.
    .. [2] V. Dumoulin, J. Shlens, M. Kudlur, "A learned representation for artistic style", ICLR 2017.
    .. [3] L. A. Gatys, A. S. Ecker, M. Bethge, "Image style transfer using convolutional neural networks",
       CVPR 2016.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; use {' or '.join(METHODS)}")
    if not 0.0 <= strength <= 1.0:
        raise ConfigError(f"strength must be between 0 and 1, not {strength}")
    sources = _normalise_styles(style)
    presets = [s.preset for s in sources]
    if any(p is not None for p in presets) and any(p is None for p in presets):
        raise ConfigError("presets cannot be mixed with style images; use one kind per output")
    if method == "gatys" and presets[0] is not None:
        raise ConfigError("presets exist only for the fast method; give a style image for gatys")
    inp = _read(content, max_pixels)
    hw = _out_size(*inp.rgb.shape[:2], size, max_size)
    base = _resize(inp.rgb, hw)
    base_f = base.astype(np.float32) / 255.0

    from artlens.models.backbones import select_device

    dev = select_device(device)
    if presets[0] is not None:
        mix = np.zeros(N_PRESETS, np.float32)
        for s in sources:
            mix[s.preset] += s.weight
        out = get_stylizer(use_cuda=dev.type == "cuda").render_presets(base, mix) if strength > 0 else base_f
        out = strength * out + (1.0 - strength) * base_f
    else:
        styles = [(_read(s.source, max_pixels).rgb, s.weight) for s in sources]
        if method == "fast":
            out = _fast(base, styles, strength, dev.type == "cuda")
        else:
            out = _gatys(base, styles, hw, strength, seed, settings, encoder, dev, progress, snapshot)
    if preserve_color:
        out = transfer_luminance(out, base_f)
    pixels = (np.clip(out, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if inp.grey and preserve_color:
        return Image.fromarray(pixels[..., 0])  # R = G = B: the content's (zero) chroma kept
    result = Image.fromarray(pixels, "RGB")
    if inp.alpha is not None:
        alpha = cv2.resize(inp.alpha, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
        result.putalpha(Image.fromarray(alpha, "L"))
    return result


def _fast(base: np.ndarray, styles: list[tuple[np.ndarray, float]], strength: float,
          cuda: bool) -> np.ndarray:
    stylizer = get_stylizer(use_cuda=cuda)
    base_f = base.astype(np.float32) / 255.0
    if strength == 0.0:
        return base_f
    vector = sum(w * stylizer.style_vector(rgb) for rgb, w in styles)
    if strength < 1.0:
        vector = strength * vector + (1.0 - strength) * stylizer.style_vector(base)
    out = stylizer.render(base, vector)
    # Rendering with the content's own vector does not give the content back (the network repaints it),
    # so below strength 0.5 the rendering also fades to the content: 0 is the content exactly.
    fade = min(1.0, 2.0 * strength)
    return fade * out + (1.0 - fade) * base_f


def _gatys(base, styles, hw, strength, seed, settings, encoder, dev, progress, snapshot) -> np.ndarray:
    from artlens.style.gatys import optimise
    from artlens.style.vgg import load_encoder

    s = settings or GatysSettings()
    s = replace(s, style_weight=s.style_weight * strength)
    enc = load_encoder(encoder, dev)
    return optimise(enc, base, styles, hw, s, seed=seed, progress=progress, snapshot=snapshot).image
