"""Perceptual hash (DCT-based pHash) and Hamming distances between hashes."""

from __future__ import annotations

import cv2
import numpy as np

from artlens.imageio import as_grey

__all__ = ["hamming_distances", "phash"]

_HASH_SIDE = 8  # 8 x 8 low-frequency DCT coefficients -> 64 bits
_SAMPLE_SIDE = 32


def phash(rgb: np.ndarray) -> int:
    """64-bit perceptual hash of an image.

    Parameters
    ----------
    rgb
        (H, W, 3) RGB or (H, W) grey image, uint8.

    Returns
    -------
    int
        The hash as a signed 64-bit integer (the form SQLite stores); compare hashes with
        :func:`hamming_distances`.

    Notes
    -----
    The image is converted to grey, reduced to 32 x 32 pixels by area averaging, transformed with a 2-D DCT,
    and the 8 x 8 lowest-frequency coefficients (the DC term replaced by the next one, so a global brightness
    change does not matter) are compared with their median: one bit per coefficient. Resizing, re-encoding and
    mild colour or contrast changes leave most bits unchanged; different images differ in about half of them.

    References
    ----------
    .. [1] C. Zauner, "Implementation and Benchmarking of Perceptual Image Hash Functions", Master's thesis,
           Upper Austria University of Applied Sciences, Hagenberg, 2010.
    """
    grey = as_grey(rgb)
    small = cv2.resize(grey.astype(np.float32), (_SAMPLE_SIDE, _SAMPLE_SIDE), interpolation=cv2.INTER_AREA)
    coeffs = cv2.dct(small)[:_HASH_SIDE, :_HASH_SIDE].copy()
    coeffs[0, 0] = coeffs[0, 1]
    bits = (coeffs > np.median(coeffs)).ravel()
    value = int(np.packbits(bits).view(">u8")[0])
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming_distances(hashes: np.ndarray, query: int | np.ndarray) -> np.ndarray:
    """Number of differing bits between each hash in ``hashes`` and ``query`` (broadcasting).

    Parameters
    ----------
    hashes
        int64 hashes from :func:`phash`, any shape.
    query
        One hash, or an array broadcastable against ``hashes``.

    Returns
    -------
    numpy.ndarray
        Distances 0..64, uint8, the broadcast shape.
    """
    a = np.asarray(hashes, dtype=np.int64).view(np.uint64)
    b = np.asarray(query, dtype=np.int64).view(np.uint64)
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8)
