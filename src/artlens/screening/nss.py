"""Natural-scene-statistics building blocks shared by BRISQUE and NIQE.

Private module: MSCN coefficients, their pairwise products, and moment-matching fits of the generalised
Gaussian (GGD) and asymmetric generalised Gaussian (AGGD) distributions. The shape parameter of both fits is
found by table lookup over a fixed grid (0.2 to 10 in steps of 0.001, as in the authors' reference code), so
a fit costs a few array reductions and one binary search.

References
----------
.. [1] A. Mittal, A. K. Moorthy and A. C. Bovik, "No-reference image quality assessment in the spatial
       domain", IEEE Trans. Image Processing 21(12):4695-4708, 2012. doi:10.1109/TIP.2012.2214050
.. [2] K. Sharifi and A. Leon-Garcia, "Estimation of shape parameter for generalized Gaussian distributions
       in subband decompositions of video", IEEE Trans. Circuits Syst. Video Technol. 5(1):52-56, 1995.
.. [3] N.-E. Lasmar, Y. Stitou and Y. Berthoumieu, "Multiscale skewed heavy tailed model for texture
       analysis", Proc. IEEE ICIP, pp. 2281-2284, 2009.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
from scipy.special import gammaln

from artlens.errors import ArtlensError

__all__ = [
    "FLAT_EPS",
    "LUMA_WEIGHTS",
    "AGGDFit",
    "fit_aggd",
    "fit_ggd",
    "mscn",
    "paired_products",
    "to_grey255",
]

#: ITU-R BT.601 luma weights (R, G, B), the same as OpenCV's ``COLOR_RGB2GRAY`` and MATLAB's ``rgb2gray``.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)

#: MSCN magnitudes below this are rounding residue of flat areas (a one-level step on 0-255 gives ~1e-4).
FLAT_EPS = 1e-9

# Shape grid and the moment ratio it maps to: E[|x|]^2 / E[x^2] = G(2/a)^2 / (G(1/a) G(3/a)) for a zero-mean
# GGD, rising with a, so a binary search on the table finds the nearest grid point. The AGGD fit looks up
# the same ratio after correcting for the asymmetry.
_ALPHA = np.arange(0.2, 10.0 + 5e-4, 0.001)
_AGGD_RATIO = np.exp(2.0 * gammaln(2.0 / _ALPHA) - gammaln(1.0 / _ALPHA) - gammaln(3.0 / _ALPHA))


def to_grey255(image: np.ndarray) -> np.ndarray:
    """Greyscale float32 image on the 0-255 scale.

    Colour (H, W, 3) or (H, W, 4) input is read as RGB(A) and reduced with the BT.601 luma weights
    :data:`LUMA_WEIGHTS` (alpha ignored); (H, W) and (H, W, 1) input is taken as grey. ``uint8`` is used
    as is, other integer types are rescaled from their full range, floating point input is taken to lie in
    [0, 1].
    """
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] in (3, 4):
        arr = arr[..., :3]
    elif arr.ndim != 2:
        raise ArtlensError(f"expected a grey (H, W) or RGB (H, W, 3) image array, got shape {arr.shape}")
    if arr.dtype == np.uint8:
        scaled = arr
        factor = 1.0
    elif np.issubdtype(arr.dtype, np.integer):
        scaled, factor = arr, 255.0 / np.iinfo(arr.dtype).max
    elif np.issubdtype(arr.dtype, np.floating) or arr.dtype == np.bool_:
        scaled, factor = arr, 255.0
    else:
        raise ArtlensError(f"unsupported image dtype {arr.dtype}")
    if scaled.ndim == 3:
        if scaled.dtype == np.uint8:
            grey = cv2.cvtColor(np.ascontiguousarray(scaled), cv2.COLOR_RGB2GRAY).astype(np.float32)
        else:
            weights = np.asarray(LUMA_WEIGHTS, np.float32)
            grey = np.tensordot(scaled.astype(np.float32), weights, axes=([2], [0]))
    else:
        grey = scaled.astype(np.float32)
    if factor != 1.0:
        grey = grey * np.float32(factor)
    return np.ascontiguousarray(grey, dtype=np.float32)


def mscn(
    grey: np.ndarray,
    *,
    sigma: float = 7.0 / 6.0,
    ksize: int = 7,
    c: float = 1.0,
    border: int = cv2.BORDER_REPLICATE,
) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients of a 0-255 grey image.

    ``(I - mu) / (sd + c)`` where ``mu`` and ``sd`` are the local mean and standard deviation under a
    normalised ``ksize`` x ``ksize`` Gaussian window of width ``sigma`` (OpenCV ``border`` mode, replicated
    by default). Computed in
    float64 (``E[I^2] - mu^2`` cancels badly in float32) and returned as float32. Coefficients smaller than
    :data:`FLAT_EPS` are set to exactly zero: in flat areas ``I - mu`` is zero up to rounding, and left as
    rounding noise its random sign would tip the AGGD fits' left/right split.
    """
    img = np.asarray(grey, dtype=np.float64)
    size = (ksize, ksize)
    mu = cv2.GaussianBlur(img, size, sigma, borderType=border)
    var = cv2.GaussianBlur(img * img, size, sigma, borderType=border)
    var -= mu * mu
    sd = np.sqrt(np.abs(var, out=var), out=var)
    sd += c
    out = img - mu
    out /= sd
    out[np.abs(out) < FLAT_EPS] = 0.0
    return out.astype(np.float32)


def paired_products(coeffs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Products of neighbouring MSCN coefficients: horizontal, vertical, main and anti diagonal.

    Only pairs that lie inside the image are used (no wrap-around), so each product map is one row and/or
    column smaller than the input.
    """
    m = coeffs
    horizontal = m[:, :-1] * m[:, 1:]
    vertical = m[:-1, :] * m[1:, :]
    diag_main = m[:-1, :-1] * m[1:, 1:]
    diag_anti = m[1:, :-1] * m[:-1, 1:]
    return horizontal, vertical, diag_main, diag_anti


def _nearest_alpha(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Grid shapes whose entry in the increasing ``table`` is nearest to each of ``values``."""
    i = np.clip(np.searchsorted(table, values), 1, table.size - 1)
    below = np.abs(values - table[i - 1])
    above = np.abs(table[i] - values)
    return _ALPHA[np.where(above < below, i, i - 1)]


def _row_dots(rows: np.ndarray) -> np.ndarray:
    """Sum of squares of each row (one BLAS dot per row: faster than einsum for few long rows)."""
    return np.fromiter((np.dot(r, r) for r in rows), dtype=np.float64, count=rows.shape[0])


def fit_ggd(x: np.ndarray) -> tuple[float, float]:
    """Moment-matching fit of a zero-mean generalised Gaussian [2]_ to all values of ``x``.

    Returns
    -------
    alpha : float
        Shape parameter (grid 0.2-10).
    variance : float
        ``E[x^2]``.
    """
    flat = np.ravel(x)
    n = flat.size
    sum_neg = float(np.minimum(flat, 0).sum(dtype=np.float64))
    mean_abs = (float(flat.sum(dtype=np.float64)) - 2.0 * sum_neg) / n
    mean_sq = float(np.dot(flat, flat)) / n
    if mean_abs <= 0.0:
        return float("nan"), mean_sq
    # E[x^2] / E[|x|]^2 falls with alpha: look its reciprocal up in the increasing AGGD table.
    alpha = _nearest_alpha(_AGGD_RATIO, np.asarray(mean_abs * mean_abs / mean_sq))
    return float(alpha), mean_sq


class AGGDFit(NamedTuple):
    """Per-row AGGD parameters (arrays of one value per row of the fitted samples)."""

    alpha: np.ndarray  #: shape (grid 0.2-10)
    mean: np.ndarray  #: mean of the fitted distribution, (beta_r - beta_l) G(2/a) / G(1/a)
    left_var: np.ndarray  #: sigma_l^2, mean square of the negative samples
    right_var: np.ndarray  #: sigma_r^2, mean square of the positive samples

    def betas(self) -> tuple[np.ndarray, np.ndarray]:
        """Scale parameters ``beta = sigma * sqrt(G(1/a) / G(3/a))`` (left, right)."""
        factor = np.exp(0.5 * (gammaln(1.0 / self.alpha) - gammaln(3.0 / self.alpha)))
        return np.sqrt(self.left_var) * factor, np.sqrt(self.right_var) * factor


def fit_aggd(rows: np.ndarray) -> AGGDFit:
    """Moment-matching fit of an asymmetric generalised Gaussian [3]_ to each row of ``rows``.

    Parameters
    ----------
    rows : ndarray of shape (P, N)
        P independent samples of N values each; zeros count on neither side.

    Returns
    -------
    AGGDFit
        Arrays of shape (P,). Rows without both negative and positive values get NaN.
    """
    rows = np.asarray(rows)
    n = rows.shape[1]
    neg = np.minimum(rows, 0)
    n_neg = np.count_nonzero(neg, axis=1)
    n_pos = np.count_nonzero(rows, axis=1) - n_neg
    sum_sq_neg = _row_dots(neg)
    sum_sq = _row_dots(rows)
    sum_abs = rows.sum(axis=1, dtype=np.float64) - 2.0 * neg.sum(axis=1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        left_var = sum_sq_neg / n_neg
        right_var = np.maximum(sum_sq - sum_sq_neg, 0.0) / n_pos
        g = np.sqrt(left_var / right_var)
        r_hat = (sum_abs / n) ** 2 / (sum_sq / n)
        big_r = r_hat * (g**3 + 1.0) * (g + 1.0) / (g * g + 1.0) ** 2
    ok = np.isfinite(big_r) & (n_neg > 0) & (n_pos > 0)
    alpha = np.full(rows.shape[0], np.nan)
    alpha[ok] = _nearest_alpha(_AGGD_RATIO, big_r[ok])
    g1, g2, g3 = gammaln(1.0 / alpha), gammaln(2.0 / alpha), gammaln(3.0 / alpha)
    # beta = sigma * sqrt(G(1/a) / G(3/a)); mean = (beta_r - beta_l) * G(2/a) / G(1/a)
    mean = (np.sqrt(right_var) - np.sqrt(left_var)) * np.exp(g2 - g1 + 0.5 * (g1 - g3))
    return AGGDFit(alpha, mean, left_var, right_var)
