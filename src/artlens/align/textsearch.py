"""Text-to-image search in the aligned space: a query's embedding against stored image embeddings.

Ranking is by cosine of unit vectors (the aligned vectors an index keeps); the
probability beside each hit is the calibrated one of :meth:`AlignModel.probability`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artlens.align.model import AlignModel
from artlens.errors import ConfigError

__all__ = ["TEXTSEARCH_SCHEMA", "rank_by_text"]

TEXTSEARCH_SCHEMA = "artlens.textsearch/1"


def rank_by_text(model: AlignModel, embeddings: np.ndarray, paths: Sequence[str], query: str,
                 k: int = 20) -> list[dict]:
    """The ``k`` images of ``embeddings`` (rows matching ``paths``) that best match ``query``, best first."""
    query = query.strip()
    if not query:
        raise ConfigError("the search text is empty")
    if k < 1:
        raise ConfigError(f"-k must be at least 1, got {k}")
    if len(paths) != len(embeddings):
        raise ConfigError(f"{len(paths)} paths for {len(embeddings)} embeddings")
    if not len(paths):
        return []
    q = model.embed_texts([query])[0]
    scores = np.asarray(embeddings, np.float32) @ q
    order = np.argsort(-scores, kind="stable")[:k]
    probs = model.probability(scores[order])
    return [{"rank": r + 1, "path": str(paths[i]), "score": round(float(scores[i]), 4),
             "probability": round(float(p), 4)} for r, (i, p) in enumerate(zip(order, probs, strict=True))]
