"""Whether two indexed images are near-duplicates, by the rule the duplicate finder uses.

Two images are near-duplicates when their content embeddings are within ``threshold`` cosine distance
(crops, colour edits, overlays), or when their 64-bit perceptual hashes differ in at most ``hash_threshold``
bits (resizes, re-encodes) and the embeddings agree loosely too (within ``2 threshold``: unrelated plain or
mostly blank images can share a hash). The defaults are :mod:`artlens.search.duplicates`'s.
"""

from __future__ import annotations

import numpy as np

from artlens.search.duplicates import DEFAULT_HASH_THRESHOLD, DEFAULT_THRESHOLD
from artlens.search.phash import hamming_distances

__all__ = ["near_duplicates"]


def near_duplicates(vectors_a: np.ndarray, hashes_a: np.ndarray, vectors_b: np.ndarray, hashes_b: np.ndarray,
                    *, threshold: float = DEFAULT_THRESHOLD,
                    hash_threshold: int = DEFAULT_HASH_THRESHOLD) -> np.ndarray:
    """(A, B) booleans: is image ``a`` a near-duplicate of image ``b``?

    Parameters
    ----------
    vectors_a, vectors_b
        (A, D) and (B, D) unit content vectors.
    hashes_a, hashes_b
        (A,) and (B,) int64 perceptual hashes (:func:`artlens.search.phash.phash`).
    threshold
        Largest cosine distance of visual near-duplicates.
    hash_threshold
        Largest Hamming distance of near-identical hashes (negative: hashes are not used).
    """
    cosine = np.asarray(vectors_a, np.float32) @ np.asarray(vectors_b, np.float32).T
    near = cosine >= 1.0 - threshold
    if hash_threshold >= 0:
        bits = hamming_distances(np.asarray(hashes_a, np.int64)[:, None],
                                 np.asarray(hashes_b, np.int64)[None, :])
        near |= (bits <= hash_threshold) & (cosine >= 1.0 - min(2.0, 2 * threshold))
    return near
