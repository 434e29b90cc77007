"""One image in, its measurements out: the analysis step of ``artlens assess``.

The measurements of an image depend only on its pixels, its file and the :class:`AnalysisSettings`; the policy
turns them into checks afterwards. That is why the results store keys records by content hash and
``AnalysisSettings.key()``: tightening a threshold re-judges the stored measurements without recomputing them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from artlens import __version__
from artlens.assess import native
from artlens.assess.policy import Policy
from artlens.imageio import DEFAULT_MAX_PIXELS, LoadedImage
from artlens.screening import metrics
from artlens.screening.backdrop import backdrop_mask, resize_mask
from artlens.screening.brisque import MIN_SIDE as BRISQUE_MIN_SIDE
from artlens.screening.brisque import brisque_features, brisque_from_features
from artlens.screening.niqe import PATCH as NIQE_PATCH
from artlens.screening.niqe import niqe
from artlens.screening.scoring import iqa_subscores, overall_quality
from artlens.screening.technical import compute_all
from artlens.screening.technical import subscores as technical_subscores

__all__ = ["ANALYSIS_VERSION", "AnalysisSettings", "analyse"]

#: Bumped whenever a measurement changes meaning, so stored results of older code are not reused.
ANALYSIS_VERSION = 3

#: Native tiles whose sharpness is measured (cheap); the learned model scores the first few of them.
NATIVE_SHARPNESS_TILES = 6
#: Native sharpness is measured once the working image shrinks the frame by more than this factor.
NATIVE_MIN_SHRINK = 1.25

_SEGMENT_RULES = ("product_fill", "text_on_product", "background_white", "background_light")
_TEXT_RULES = ("text_overlay", "text_on_product")


@dataclass(frozen=True)
class AnalysisSettings:
    """What to measure and at which working sizes."""

    iqa_size: int = 768  # longest side for BRISQUE and NIQE (NIQE needs enough 96 px patches)
    text_size: int = 640  # longest side fed to the text detector
    background: bool = False
    background_light: bool = False
    border: bool = False
    segmentation: bool = False
    text: bool = False
    learned: bool = True  # the learned quality model gives ``quality``; else the hand-made combination does
    quality_model: str | None = None  # a model folder (artlens train quality); None: the shipped model
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: also render each image's quality heat map (:func:`artlens.iqa.explain.explain_image`) in the worker
    #: that has its pixels and the model; not a measurement, so not part of :meth:`key`
    explain: bool = False

    @classmethod
    def for_policy(cls, policy: Policy, **overrides: Any) -> AnalysisSettings:
        """Enable only the analysers the policy's rules need (text detection and segmentation are costly)."""
        return cls(
            background=policy.enabled("background_white"),
            background_light=policy.enabled("background_light"),
            border=policy.enabled("border"),
            segmentation=any(policy.enabled(r) for r in _SEGMENT_RULES),
            text=any(policy.enabled(r) for r in _TEXT_RULES),
            **overrides,
        )

    def key(self) -> str:
        """Fingerprint of everything that changes a measurement (``max_pixels`` only admits files, ``explain``
        draws a picture)."""
        fields = {k: v for k, v in asdict(self).items() if k not in ("max_pixels", "explain")}
        if self.learned:  # the model's content, not just its folder name, decides its scores
            fields["quality_model"] = _model_fingerprint(self.quality_model)
        blob = json.dumps({"v": ANALYSIS_VERSION, "artlens": __version__, **fields}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _model_fingerprint(folder: str | None) -> str:
    from artlens.files import sha256_file
    from artlens.iqa.default import DEFAULT_MODEL_SHA256
    from artlens.iqa.files import CONFIG_FILE, WEIGHTS_FILE

    if folder is None:
        return "default:" + DEFAULT_MODEL_SHA256[WEIGHTS_FILE]
    files = [Path(folder) / CONFIG_FILE, Path(folder) / WEIGHTS_FILE]
    return ":".join(sha256_file(f) if f.is_file() else f"missing {f}" for f in files)


def _exposure_detail(raw: dict[str, float]) -> str:
    parts = []
    if raw["mean_luminance"] < 0.25:
        parts.append("too dark")
    elif raw["mean_luminance"] > 0.8:
        parts.append("too bright")
    if raw["highlights_clipped"] > 0.05:
        parts.append(f"{raw['highlights_clipped'] * 100:.0f}% of highlights blown out")
    if raw["shadows_clipped"] > 0.05:
        parts.append(f"{raw['shadows_clipped'] * 100:.0f}% of shadows crushed to black")
    return ", ".join(parts) or "uneven exposure"


def analyse(image: LoadedImage, settings: AnalysisSettings) -> dict[str, Any]:
    """Measure one decoded image.

    Returns a JSON-ready record: ``width``, ``height``, ``format``, ``file_size``, ``sha256``, ``scores``
    (``quality`` first, then ``technical`` -- the hand-made combination of :mod:`artlens.screening.scoring` --
    and the raw metrics), ``subscores`` (0-100, higher is better), ``measurements`` (one value per policy
    rule id), ``details`` (words that explain a measurement) and, when segmentation ran and found a
    product, ``product_box`` (``[x0, y0, x1, y1)`` in input pixels around its largest part).

    ``quality`` is the learned model's score (:mod:`artlens.iqa.model`) unless ``settings.learned`` is
    off, in which case it is the hand-made combination. On an image that the 448 px whole-frame view shrinks
    more than 2.5x, that score is blended with the best native-resolution tile's (:mod:`artlens.assess.
    native`; ``scores.quality_global`` and ``scores.quality_native`` keep both), and above 1280 px the
    sharpness sub-score also judges the sharpest full-resolution tile (``scores.sharpness_native``): a
    defect that only a 100 % zoom shows counts. A uniform light studio backdrop is left out of exposure,
    contrast and clipping, and of BRISQUE and NIQE. ``brisque`` and ``niqe`` are None (and have no
    sub-score) when the image is too small for them (16 and 96 px on each side): such an image is judged by
    the other scores and the size rules, not reported as an error.
    """
    from artlens.screening import compliance

    rgb = image.rgb
    height, width = rgb.shape[:2]
    # a studio backdrop is clipped by design: exposure, contrast and clipping are of the product (any policy)
    work = metrics.working_image(rgb, settings.iqa_size)
    backdrop = backdrop_mask(work)
    overview = metrics.working_image(rgb)  # shared by the technical metrics and the choice of native tiles
    raw: dict[str, float | None] = compute_all(rgb, backdrop=backdrop, working=overview)
    iqa_input = _product_region(work, backdrop)
    # what a customer sees at 100 %: the most detailed full-resolution tiles (artlens.assess.native)
    sharpness_native = max(width, height) > NATIVE_MIN_SHRINK * metrics.WORKING_SIZE
    tiles: list[native.Tile] = []
    if sharpness_native or native.tile_count(width, height):
        tiles = native.detail_tiles(rgb, NATIVE_SHARPNESS_TILES, backdrop=backdrop, working=overview)
    if sharpness_native:
        raw["sharpness_native"] = native.native_sharpness(rgb, tiles)
    nss: dict[str, Any] = {}  # BRISQUE features and NIQE of ``work``, reused by the learned model
    for name, min_side in (("brisque", BRISQUE_MIN_SIDE), ("niqe", NIQE_PATCH)):
        if min(iqa_input.shape[:2]) < min_side:  # too small to measure: None, the size rules judge it
            raw[name] = None
            continue
        if name == "brisque":
            features = brisque_features(iqa_input)
            nss["brisque"], value = features, brisque_from_features(features)
        else:
            value = nss["niqe_value"] = float(niqe(iqa_input))
        if np.isfinite(value):  # undefined on flat images (no local structure to fit): left out, not faked
            raw[name] = value
    subs = {**technical_subscores(raw), **iqa_subscores(raw)}
    technical = overall_quality(subs)
    quality = technical
    if settings.learned:
        from artlens.iqa.default import load_quality_model

        model = load_quality_model(settings.quality_model)
        descriptors = None
        if model.descriptor_head is not None:  # its NSS descriptors are of ``work``, as the CNN's input
            from artlens.iqa.descriptors import quality_descriptors

            descriptors = quality_descriptors(work, names=model.config.descriptors,
                                              **(nss if iqa_input is work else {}))[None]
        # the whole frame, backdrops included (as trained), then the native tiles weighted by the zoom
        whole = float(model.score([work], descriptors=descriptors)[0])
        quality, up_close = native.fused_quality(model, whole, rgb, tiles)
        raw["quality_global"] = whole
        raw["quality_native"] = up_close
        quality = round(quality, 1)

    measurements: dict[str, Any] = {
        "quality": quality,
        **{k: v for k, v in subs.items()},
        "longest_side": max(width, height),
        "shortest_side": min(width, height),
        "megapixels": width * height / 1e6,
        "aspect_ratio": width / height,
        "file_size_mb": image.file_size / 1e6,
        "file_format": image.format,
    }
    details = {"exposure": _exposure_detail(raw)}

    mask = None
    if settings.segmentation:
        from artlens.screening.segment import foreground_mask, product_fill

        mask = foreground_mask(rgb)
        fill = product_fill(mask)
        measurements["product_fill"] = float(fill.longest_side_fill)
        raw["product_bbox_fill"] = float(fill.bbox_fill)
    # the product (the largest segmented part: a banner beside it is not the product) is not background,
    # even where it reaches the frame
    product = _largest_component(mask) if mask is not None else None
    product_box = _bounding_box(product) if product is not None else None
    if settings.background:
        measurements["background_white"] = float(compliance.background_whiteness(rgb, product=product))
    if settings.background_light:
        measurements["background_light"] = float(compliance.background_lightness(rgb, product=product))
    if settings.border:
        measurements["border"] = int(compliance.border_frame(rgb).sides)
    if settings.text:
        from artlens.screening.textdetect import detect_text

        boxes = detect_text(rgb, max_side=settings.text_size)  # only regions where text was read
        overlay, on_product = _split_text(boxes, mask, width, height)
        measurements["text_overlay"] = overlay
        if settings.segmentation:
            measurements["text_on_product"] = on_product
        raw["text_boxes"] = float(len(boxes))
        # where each box is and what it reads, for the report (not a rule: evaluate reads rule ids only)
        measurements["text_boxes"] = [
            {"box": [b.x0, b.y0, b.x1, b.y1], "text": b.text, "score": b.text_score,
             "detector_score": b.score,
             "on_product": mask is not None and _split_text([b], mask, width, height)[1] > 0}
            for b in boxes]

    scores = {"quality": quality, "technical": technical,
              **{k: None if v is None else round(float(v), 6) for k, v in raw.items()}}
    record = {
        "width": width,
        "height": height,
        "format": image.format,
        "file_size": image.file_size,
        "sha256": image.sha256,
        "scores": scores,
        "subscores": {k: round(float(v), 1) for k, v in subs.items()},
        "measurements": measurements,
        "details": details,
    }
    if product_box is not None:  # where segmentation found the product, for the report's overlay
        record["product_box"] = product_box
    return record


def _product_region(rgb: np.ndarray, backdrop: np.ndarray, min_side: int = 96) -> np.ndarray:
    """The bounding box of what is not white backdrop, for BRISQUE and NIQE on product shots.

    Natural-scene statistics are undefined on a flat backdrop (it reads as a severe defect), so on product
    shots the classical IQA scores judge the product. The whole frame is kept when the product is smaller
    than ``min_side`` (NIQE's patch size) or there is no backdrop.
    """
    if not backdrop.any():  # the frame itself (the same array: the learned model reuses its NSS features)
        return rgb
    product = ~resize_mask(backdrop, *rgb.shape[:2])
    rows, cols = np.flatnonzero(product.any(axis=1)), np.flatnonzero(product.any(axis=0))
    if rows.size == 0 or rows[-1] - rows[0] < min_side or cols[-1] - cols[0] < min_side:
        return rgb
    return rgb[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _largest_component(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _bounding_box(mask: np.ndarray) -> list[int] | None:
    """``[x0, y0, x1, y1)`` in pixels around the true pixels of ``mask``, or None when it has none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return [int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1]


def _split_text(boxes: list, mask: np.ndarray | None, width: int, height: int) -> tuple[float, float]:
    """Text area over the frame, split into boxes lying on the background (overlay) and on the product.

    A box counts as on the product when at least 90% of it lies inside the product, the largest connected
    part of the foreground mask (a banner pasted beside the product is a separate part, so its text is an
    overlay); without a mask every box counts as overlay.
    """
    if mask is not None:
        mask = _largest_component(mask)
    frame = float(width * height)
    overlay = on_product = 0.0
    for box in boxes:
        x0, y0 = max(0, int(box.x0)), max(0, int(box.y0))
        x1, y1 = min(width, int(np.ceil(box.x1))), min(height, int(np.ceil(box.y1)))
        area = max(0, x1 - x0) * max(0, y1 - y0)
        if area == 0:
            continue
        inside = float(mask[y0:y1, x0:x1].mean()) if mask is not None else 0.0
        if inside >= 0.9:
            on_product += area
        else:
            overlay += area
    return min(1.0, overlay / frame), min(1.0, on_product / frame)
