"""``artlens classify``: predictions for image files as a versioned report (JSON ``artlens.classify/1``, CSV).

A report is ``{"schema": "artlens.classify/1", "artlens_version", "created", "model": {...}, "images": [...],
"errors": [...]}``; each image has ``path``, ``label``, ``score`` and ``topk`` (the first head's top class,
its calibrated probability and the ``[[label, probability], ...]`` list) and ``heads`` with the same for every
head. Files that cannot be read are listed in ``errors`` and the others are still classified.

An image unlike the trained classes (or below ``min_score``) is answered "unknown": its predictions get
``"unknown": true`` and their ``domain_score``, by the rule of :mod:`artlens.classify.unknown`; ``label``
stays the most probable class, so a reader that does not know ``unknown`` still reads a class.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from artlens import __version__
from artlens.classify.model import Classifier
from artlens.classify.records import predict_records
from artlens.classify.unknown import UnknownRule
from artlens.engine.classify_job import classify_on
from artlens.engine.engines import Engine
from artlens.errors import ConfigError, ImageLoadError
from artlens.imageio import DEFAULT_MAX_PIXELS, collect_inputs, load_image
from artlens.schemas import read_schema

__all__ = ["REPORT_SCHEMA", "classify_paths", "load_report_schema", "write_csv", "write_json"]

REPORT_SCHEMA = "artlens.classify/1"
_BATCH = 32
def load_report_schema() -> dict:
    """The JSON Schema of ``artlens.classify/1`` shipped in ``artlens/schemas/classify-1.json``."""
    return read_schema("classify")


def classify_paths(model: Classifier, paths: Sequence[str | Path], *, top_k: int = 3,
                   max_pixels: int = DEFAULT_MAX_PIXELS, batch_size: int = _BATCH,
                   progress: Callable[[int, int], None] | None = None,
                   on_image: Callable[[dict, object], None] | None = None,
                   min_score: float | None = None, domain_check: bool = True,
                   engine: Engine | None = None) -> dict:
    """Classify image files and folders (walked recursively).

    Parameters
    ----------
    model
        A loaded classifier.
    paths
        Files or folders.
    top_k
        Classes listed per head.
    max_pixels
        Decompression-bomb guard of :func:`artlens.imageio.load_image`.
    batch_size
        Images per forward pass.
    progress
        ``progress(done, total)`` after each batch.
    on_image
        ``on_image(record, rgb)`` for each classified image (e.g. to write a Grad-CAM); this process only.
    min_score
        Calibrated probability below which a head's answer is "unknown" (``None`` or 0: no such floor).
    domain_check
        Also answer "unknown" when the image is unlike the trained classes, by the threshold the model
        recorded at training (:mod:`artlens.classify.unknown`; models trained before have none).
    engine
        Classify on this engine's workers (a Ray cluster, see ``artlens.engine``), each loading the model
        from its folder once; None: in this process.

    Returns
    -------
    dict
        The ``artlens.classify/1`` report.
    """
    rule = UnknownRule.for_model(model.config["heads"], min_score, domain_check)
    files, missing = collect_inputs(list(paths))
    errors = [{"path": e.path, "error": str(e)} for e in missing]
    if engine is not None:
        if on_image is not None:
            raise ConfigError("--explain draws Grad-CAM on this machine: use it with --engine local")
        images, errors_on = classify_on(engine, model.directory, files, top_k=top_k, max_pixels=max_pixels,
                                        batch_size=batch_size, progress=progress, min_score=min_score,
                                        domain_check=domain_check)
        errors += errors_on
    else:
        images = _classify_here(model, files, errors, rule, top_k=top_k, max_pixels=max_pixels,
                                batch_size=batch_size, progress=progress, on_image=on_image)
    return {
        "schema": REPORT_SCHEMA,
        "artlens_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "model": {"path": str(model.directory) if model.directory else None, "mode": model.mode,
                  "backbone": model.config["backbone"], "runtime": "onnxruntime" if model.onnx else "torch",
                  "heads": {h: list(c) for h, c in model.heads.items()},
                  **({"unknown": rule.describe()} if rule.describe() else {})},
        "images": images,
        "errors": errors,
    }


def _classify_here(model: Classifier, files: Sequence[Path], errors: list[dict], rule: UnknownRule, *,
                   top_k: int, max_pixels: int, batch_size: int, progress: Callable[[int, int], None] | None,
                   on_image: Callable[[dict, object], None] | None) -> list[dict]:
    """Classify ``files`` in this process, in batches; files that cannot be read are added to ``errors``."""
    images: list[dict] = []
    total = len(files)
    for start in range(0, total, batch_size):
        batch, rgbs = [], []
        for path in files[start:start + batch_size]:
            try:
                rgbs.append(load_image(path, max_pixels=max_pixels).rgb)
                batch.append(path)
            except ImageLoadError as exc:
                errors.append({"path": str(path), "error": str(exc)})
        for record, rgb in zip(predict_records(model, batch, rgbs, top_k, rule), rgbs, strict=True):
            if on_image is not None:
                on_image(record, rgb)
            images.append(record)
        if progress is not None:
            progress(min(start + batch_size, total), total)
    return images


def write_json(report: dict, path: str | Path) -> Path:
    """Write the report as indented UTF-8 JSON."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def write_csv(report: dict, path: str | Path) -> Path:
    """One row per image: ``path, label, score, topk``, then ``<head>, <head>_score`` for every head of a
    multi-head model, then ``unknown`` (``true``/``false``) when the model has a threshold.

    ``topk`` reads ``label:probability`` pairs joined by ``;``.
    """
    heads = list(report["model"]["heads"])
    heads = heads if len(heads) > 1 else []
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        unknown = "unknown" in report["model"]
        writer.writerow(["path", "label", "score", "topk", *[c for h in heads for c in (h, f"{h}_score")],
                         *(["unknown"] if unknown else [])])
        for im in report["images"]:
            topk = ";".join(f"{label}:{p:.4f}" for label, p in im["topk"])
            per_head = [v for h in heads for v in (im["heads"][h]["label"], f"{im['heads'][h]['score']:.4f}")]
            flag = ["true" if im.get("unknown") else "false"] if unknown else []
            writer.writerow([im["path"], im["label"], f"{im['score']:.4f}", topk, *per_head, *flag])
    return out
