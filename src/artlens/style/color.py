"""Keeping the content's colours in a stylised image (Gatys et al. 2016, "Preserving color in neural
artistic style transfer")."""

from __future__ import annotations

import numpy as np

__all__ = ["match_color", "transfer_luminance"]

# ITU-R BT.601 full-range YCbCr (JPEG's)
_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]],
                   np.float32)
_FROM_YCC = np.linalg.inv(_TO_YCC).astype(np.float32)


def transfer_luminance(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The stylised image's luminance with the content image's chroma.

    Parameters
    ----------
    stylised, content
        (H, W, 3) RGB float in [0, 1], same size.

    Returns
    -------
    numpy.ndarray
        (H, W, 3) float32 in [0, 1]: Y of ``stylised``, Cb and Cr of ``content`` (BT.601 YCbCr).

    Notes
    -----
    The luminance-only transfer of Gatys et al. applied after stylisation: the strokes and shading come from
    the style, the hues and saturation stay the content's.

    References
    ----------
    .. [1] L. A. Gatys, M. Bethge, A. Hertzmann, E. Shechtman, "Preserving color in neural artistic style
       transfer", arXiv:1606.05897, 2016.
    """
    y = stylised.astype(np.float32) @ _TO_YCC[0]
    ycc = content.astype(np.float32) @ _TO_YCC.T
    ycc[..., 0] = y
    return np.clip(ycc @ _FROM_YCC.T, 0.0, 1.0)


def match_color(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Recolour ``source`` so its pixel mean and covariance match ``target``'s (a linear colour transfer).

    Parameters
    ----------
    source, target
        (H, W, 3) RGB float in [0, 1]; sizes may differ.

    Returns
    -------
    numpy.ndarray
        ``source`` recoloured, float32 in [0, 1].

    Notes
    -----
    ``x' = C_t^{1/2} C_s^{-1/2} (x - mu_s) + mu_t`` with symmetric matrix square roots: the colour histogram
    matching of Gatys et al. [1]_, used on the style image before transfer.

    References
    ----------
    .. [1] L. A. Gatys, M. Bethge, A. Hertzmann, E. Shechtman, "Preserving color in neural artistic style
       transfer", arXiv:1606.05897, 2016.
    """
    s = source.reshape(-1, 3).astype(np.float64)
    t = target.reshape(-1, 3).astype(np.float64)
    mu_s, mu_t = s.mean(0), t.mean(0)
    cov_s = np.cov(s, rowvar=False) + np.eye(3) * 1e-5
    cov_t = np.cov(t, rowvar=False) + np.eye(3) * 1e-5

    def sqrtm(c: np.ndarray, inverse: bool = False) -> np.ndarray:
        vals, vecs = np.linalg.eigh(c)
        vals = np.maximum(vals, 1e-10) ** (-0.5 if inverse else 0.5)
        return (vecs * vals) @ vecs.T

    m = sqrtm(cov_t) @ sqrtm(cov_s, inverse=True)
    out = (s - mu_s) @ m.T + mu_t
    return np.clip(out, 0.0, 1.0).reshape(source.shape).astype(np.float32)
