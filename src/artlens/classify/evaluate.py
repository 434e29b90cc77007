"""``artlens evaluate MODEL DATA``: a trained classifier measured on labelled images.

Per head: accuracy, macro and per-class precision/recall/F1, ROC-AUC (from the calibrated probabilities),
the confusion matrix (also as a PNG), and a self-contained HTML page of the misclassified images with their
top-3 predictions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from artlens.classify.data import Dataset
from artlens.classify.model import Classifier
from artlens.errors import ImageLoadError
from artlens.evaluation import classification_metrics, save_confusion_matrix_png
from artlens.imageio import load_image
from artlens.thumbnails import thumbnail_uri

__all__ = ["evaluate_classifier", "write_misclassified_html"]

_BATCH = 32


def evaluate_classifier(model: Classifier, data: Dataset, *, out_dir: str | Path | None = None,
                        top_k: int = 3, progress: Callable[[int, int], None] | None = None) -> dict:
    """Metrics of ``model`` on ``data`` per head, and optionally the confusion PNGs and misclassified page.

    Parameters
    ----------
    model
        A loaded classifier.
    data
        Labelled images whose heads and classes are those of the model (a missing label is skipped).
    out_dir
        Where to write ``confusion-<head>.png`` per head and ``misclassified.html`` (nothing written if None).
    top_k
        Predictions listed per misclassified image.
    progress
        ``progress(done, total)`` after each batch.

    Returns
    -------
    dict
        ``{"model", "data", "n", "heads": {head: metrics}, "misclassified": [...], "skipped": [...],
        "files": {...}}``.

    Raises
    ------
    ConfigError
        A head of the data is not in the model, or the data has a class the model does not know.
    """
    from artlens.errors import ConfigError

    for head, classes in data.heads.items():
        if head not in model.heads:
            raise ConfigError(f"{data.source}: label column {head!r} is not a head of the model "
                              f"({', '.join(model.heads)})")
        unknown = sorted(set(classes) - set(model.heads[head]))
        if unknown:
            raise ConfigError(f"{data.source}: head {head!r} has classes the model was not trained on: "
                              f"{', '.join(unknown[:5])}")
    records: list[dict | None] = [None] * len(data.paths)
    skipped: list[dict] = []
    total = len(data.paths)
    for start in range(0, total, _BATCH):
        idx, rgbs = [], []
        for i in range(start, min(start + _BATCH, total)):
            try:
                rgbs.append(load_image(data.paths[i]).rgb)
                idx.append(i)
            except ImageLoadError as exc:
                skipped.append({"path": str(data.paths[i]), "reason": exc.reason})
        probs = model.probabilities(rgbs) if rgbs else {}
        preds = model.describe(probs, top_k) if rgbs else []
        for j, (i, pred) in enumerate(zip(idx, preds, strict=True)):
            records[i] = {"pred": pred, "probs": {h: p[j] for h, p in probs.items()}}
        if progress is not None:
            progress(min(start + _BATCH, total), total)
    out = Path(out_dir) if out_dir is not None else None
    heads: dict[str, dict] = {}
    files: dict[str, object] = {"confusion": {}}
    wrong: list[dict] = []
    for head, data_classes in data.heads.items():
        classes = model.heads[head]
        remap = np.asarray([classes.index(c) for c in data_classes], np.int64)
        rows = [i for i, r in enumerate(records) if r is not None and data.labels[head][i] >= 0]
        y = remap[data.labels[head][rows]] if rows else np.zeros(0, np.int64)
        proba = np.stack([records[i]["probs"][head] for i in rows]) if rows else np.zeros((0, len(classes)))
        pred = proba.argmax(1) if rows else np.zeros(0, np.int64)
        metrics = classification_metrics(y, pred, classes, proba=proba) if rows else {"n": 0}
        heads[head] = metrics
        if out is not None and rows:
            png = save_confusion_matrix_png(metrics["confusion_matrix"], classes,
                                            out / f"confusion-{_safe(head)}.png",
                                            title=f"{head}: accuracy {metrics['accuracy']:.3f}")
            files["confusion"][head] = str(png)
        for k, i in enumerate(rows):
            if pred[k] != y[k]:
                wrong.append({"path": str(data.paths[i]), "head": head, "true": classes[y[k]],
                              "predicted": records[i]["pred"]["heads"][head]["label"],
                              "topk": records[i]["pred"]["heads"][head]["topk"]})
    if out is not None:
        files["misclassified_html"] = str(write_misclassified_html(wrong, out / "misclassified.html",
                                                                   title=f"{model.directory}"))
    n_used = sum(r is not None for r in records)
    return {"model": str(model.directory), "data": str(data.source), "n": n_used, "heads": heads,
            "misclassified": wrong, "skipped": skipped, "files": files}


def _safe(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name) or "head"


_STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:14px}
.card{border:1px solid #ddd;border-radius:8px;padding:8px}.card img{width:100%;height:auto;border-radius:4px}
.path{font-size:12px;color:#555;word-break:break-all}.true{color:#1a7f37}.pred{color:#c62828}
ol{margin:4px 0 0 18px;padding:0}"""


def write_misclassified_html(wrong: list[dict], path: str | Path, *, title: str = "",
                             thumb_size: int = 220) -> Path:
    """A self-contained page (thumbnails as data URIs) with one card per misclassified image."""
    e = html.escape
    cards = []
    for w in wrong:
        uri = thumbnail_uri(w["path"], thumb_size)
        img = f'<img src="{uri}" alt="">' if uri else "<p>(no preview)</p>"
        topk = "".join(f"<li>{e(label)} {p:.1%}</li>" for label, p in w["topk"])
        cards.append(f'<div class="card">{img}<div class="path">{e(w["path"])}</div>'
                     f'<div>{e(w["head"])}: <span class="true">true {e(w["true"])}</span>, '
                     f'<span class="pred">predicted {e(w["predicted"])}</span></div><ol>{topk}</ol></div>')
    body = "".join(cards) or "<p>No misclassified images.</p>"
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>misclassified — {e(title)}'
            f'</title><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            f'img-src data:; style-src \'unsafe-inline\'"><style>{_STYLE}</style></head><body>'
            f'<h1>{len(wrong)} misclassified image(s) — {e(title)}</h1><div class="grid">{body}</div>'
            f"</body></html>\n")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
