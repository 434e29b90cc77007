"""The backbone's own ImageNet classifier read into the text tower's space: ConSE.

Norouzi et al., "Zero-Shot Learning by Convex Combination of Semantic Embeddings", ICLR 2014: an image's
embedding is the probability-weighted mean of the text embeddings of its ``top`` most probable ImageNet
class names. It needs no training; its cosine with a text (MiniLM) is a second opinion beside the trained
heads' cosine, strongest on scenes and objects ImageNet names and weakest on drawings of things it lacks.
The class names' MiniLM vectors (prompt-ensembled) are computed once by training and stored with the heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["IMAGENET_TOP", "class_vectors", "conse_vectors", "joint", "reweight"]

IMAGENET_TOP = 5  # ConSE's T: the classes mixed per image


def class_vectors(encode, names: Sequence[str], prompts: Sequence[str]) -> np.ndarray:
    """(C, D) unit vectors: each class name's mean text embedding over ``prompts``, renormalised."""
    texts = [p.format(n) for n in names for p in prompts]
    vecs = np.asarray(encode(texts), np.float32).reshape(len(names), len(prompts), -1).mean(1)
    return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)


def conse_vectors(probs: np.ndarray, classes: np.ndarray, top: int = IMAGENET_TOP) -> np.ndarray:
    """(N, D) unit vectors from (N, C) class probabilities and (C, D) class-name vectors."""
    p = np.asarray(probs, np.float32)
    if not len(p):
        return np.zeros((0, classes.shape[1]), np.float32)
    keep = np.argsort(-p, axis=1)[:, :top]
    weights = np.take_along_axis(p, keep, 1)
    v = (weights[:, :, None] * classes[keep]).sum(1)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def joint(aligned: np.ndarray, second: np.ndarray, weight: float) -> np.ndarray:
    """``[aligned, sqrt(w) * second] / sqrt(1 + w)``: for unit rows on both sides, the dot product of two
    such vectors is ``(aligned cosine + w * second cosine) / (1 + w)``, still at most 1."""
    if weight <= 0:
        return np.asarray(aligned, np.float32)
    out = np.concatenate([aligned, np.sqrt(weight) * np.asarray(second, np.float32)], axis=1)
    return (out / np.sqrt(1.0 + weight)).astype(np.float32)


def reweight(vectors: np.ndarray, dim: int, weight: float, new_weight: float) -> np.ndarray:
    """Rows made by :func:`joint` at ``weight`` (their first ``dim`` numbers the heads' part), as if made at
    ``new_weight``: the ConSE part is scaled by ``sqrt(new_weight / weight)`` and each row renormalised, so
    dot products become ``(heads' cosine + new_weight * ConSE cosine) / (1 + new_weight)``."""
    v = np.asarray(vectors, np.float32)
    if weight <= 0 or new_weight == weight or v.shape[1] <= dim:
        return v
    out = v.copy()
    out[:, dim:] *= np.sqrt(max(new_weight, 0.0) / weight)
    return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)).astype(np.float32)
