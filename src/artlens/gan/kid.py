"""Distances between two sets of image features: KID and the Fréchet distance.

KID is the squared maximum mean discrepancy with the cubic polynomial kernel
``k(x, y) = (x·y / d + 1)^3``, estimated without bias on random subsets of both sets; its mean over the
subsets is the score, their spread its uncertainty. Unlike the Fréchet distance it has no bias that depends
on the number of images, so small sets (a few hundred) compare fairly.

References
----------
.. [1] M. Bińkowski, D. J. Sutherland, M. Arbel and A. Gretton, "Demystifying MMD GANs", ICLR 2018.
.. [2] M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler and S. Hochreiter, "GANs Trained by a Two
   Time-Scale Update Rule Converge to a Local Nash Equilibrium", NeurIPS 2017 (the Fréchet distance).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from artlens.errors import ConfigError

__all__ = ["KidResult", "frechet_distance", "kernel_inception_distance"]


@dataclass(frozen=True)
class KidResult:
    """KID (mean over subsets), the standard deviation over subsets and the standard error of the mean."""

    kid: float
    std: float
    stderr: float
    subsets: int
    subset_size: int


def _mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    d = x.shape[1]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    m, n = len(x), len(y)
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(sxx + syy - 2 * kxy.mean())


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, *, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> KidResult:
    """KID between two feature sets (N, D) and (M, D), on ``subsets`` draws of ``subset_size`` rows of each
    (without replacement within a draw; half the smaller set when that is not larger than ``subset_size``)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ConfigError(f"KID needs two (N, D) feature sets of one width, got {real.shape} and "
                          f"{fake.shape}")
    smaller = min(len(real), len(fake))
    # subsets of half the smaller set when it is no larger than subset_size: whole sets would be the same
    # draw every time, and the spread over subsets would say nothing
    size = min(subset_size, smaller) if smaller > subset_size else smaller // 2
    if size < 2:
        raise ConfigError(f"KID needs at least 4 images in each set, got {len(real)} and {len(fake)}")
    rng = np.random.default_rng(seed)
    values = np.array([_mmd2_unbiased(real[rng.choice(len(real), size, replace=False)],
                                      fake[rng.choice(len(fake), size, replace=False)])
                       for _ in range(subsets)])
    std = float(values.std(ddof=1)) if subsets > 1 else 0.0
    return KidResult(float(values.mean()), std, std / np.sqrt(subsets), subsets, size)


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if len(real) < 2 or len(fake) < 2:
        raise ConfigError(f"the Fréchet distance needs at least 2 images per set, got {len(real)} and "
                          f"{len(fake)}")
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    with warnings.catch_warnings():  # singular with fewer images than dimensions: expected, handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = np.real(covmean)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
