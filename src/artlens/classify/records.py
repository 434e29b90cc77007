"""Report records of one batch of decoded images: the top classes per head and the "unknown" marks.

The one place that turns a classifier's logits into ``artlens.classify/1`` image records, shared by the
in-process loop of :func:`artlens.classify.predict.classify_paths` and the engine workers
(:mod:`artlens.engine.classify_job`), so both give the same records for the same files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artlens.classify.model import Classifier
from artlens.classify.unknown import UnknownRule, domain_scores

__all__ = ["predict_records"]


def predict_records(model: Classifier, paths: Sequence[str], rgbs: Sequence[np.ndarray], top_k: int,
                    rule: UnknownRule) -> list[dict]:
    """One record per image (``path`` first, then the predictions), marked "unknown" by ``rule``."""
    if not rgbs:
        return []
    logits = model.logits(model.preprocess(list(rgbs)))  # as Classifier.predict, keeping the logits
    preds = model.describe(model.probabilities_from_logits(logits), top_k)
    domain = {h: domain_scores(z) for h, z in zip(model.heads, logits, strict=True)}
    records = []
    for n, (path, pred) in enumerate(zip(paths, preds, strict=True)):
        record = {"path": str(path), **pred}
        rule.mark(record, {h: d[n] for h, d in domain.items()})
        records.append(record)
    return records
