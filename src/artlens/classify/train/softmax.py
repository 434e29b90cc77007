"""Multinomial logistic regression with class-balanced weights and an L2 penalty, fitted by L-BFGS: the
linear head every ``--mode linear`` candidate is fitted with.

:class:`SoftmaxProblem` prepares one training matrix once (standardisation, and when there are fewer rows
than features, an orthonormal basis of the rows' span) so that several L2 strengths can be fitted on it,
each warm-started from the last; :func:`fit_softmax` is one such fit.
"""

from __future__ import annotations

import numpy as np
import torch

from artlens.models.backbones import one_thread
from artlens.training.losses import class_weights

__all__ = ["SoftmaxProblem", "fit_softmax"]

_RANK_TOL = 1e-9  # eigenvalues of the Gram matrix below this share of the largest are dropped


class SoftmaxProblem:
    """One training set of a class-balanced, L2-penalised softmax regression, ready for several fits.

    Parameters
    ----------
    x
        (N, D) features.
    y
        (N,) class indices in ``[0, n_classes)``.
    n_classes
        K, the number of classes (a class absent from ``y`` gets a low bias).

    Notes
    -----
    Features are standardised (training mean and standard deviation). With an L2 penalty on the weights, the
    optimal weights lie in the span of the standardised training rows (the representer theorem, Schölkopf,
    Herbrich and Smola, "A generalized representer theorem", COLT 2001), so when N < D the fit runs on the
    N-or-fewer coordinates of each row in an orthonormal basis of that span (from the eigenvectors of the
    N x N Gram matrix): the same optimum, with a fraction of the work per L-BFGS step. Each class's loss
    weight is ``N / (K * n_k)`` (:func:`artlens.training.class_weights`), so every class counts as much as
    any other whatever its size (King and Zeng, "Logistic regression in rare events data", Political
    Analysis 9(2), 2001).
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        with one_thread():  # small products: a second thread only costs (see one_thread)
            self._prepare(x, y, n_classes)

    def _prepare(self, x: np.ndarray, y: np.ndarray, n_classes: int) -> None:
        x64 = torch.as_tensor(np.asarray(x, np.float64))
        self.n_classes = int(n_classes)
        self.y = torch.as_tensor(np.asarray(y, np.int64))
        self.mean = x64.mean(dim=0)
        std = x64.std(dim=0, unbiased=False)
        self.std = torch.where(std > 1e-6, std, torch.ones_like(std))
        z = (x64 - self.mean) / self.std
        self.basis: torch.Tensor | None = None
        if z.shape[0] < z.shape[1]:
            evals, evecs = torch.linalg.eigh(z @ z.T)
            keep = evals > max(float(evals.max()), 1e-12) * _RANK_TOL
            self.basis = (z.T @ evecs[:, keep]) / evals[keep].sqrt()  # (D, r), orthonormal columns
            z = z @ self.basis
        self.z = z.contiguous()
        weights = class_weights(np.asarray(y), n_classes).double()[self.y]
        self.row_w = weights / weights.sum()  # the weighted mean of F.cross_entropy(weight=...)

    def loss_and_grad(self, theta: np.ndarray, weight_decay: float) -> tuple[float, np.ndarray]:
        """The class-weighted mean cross-entropy plus ``weight_decay / 2 * ||W||^2`` at the flat parameters
        ``theta`` (W row-major, then b), and its gradient, in float64 (torch's threads, no autograd)."""
        k, r = self.n_classes, self.z.shape[1]
        t = torch.from_numpy(theta)
        w, b = t[:k * r].view(k, r), t[k * r:]
        logp = torch.log_softmax(torch.addmm(b, self.z, w.T), dim=1)
        loss = float(-(self.row_w * logp.gather(1, self.y[:, None])[:, 0]).sum()
                     + 0.5 * weight_decay * (w * w).sum())
        g = logp.exp_()
        g.scatter_add_(1, self.y[:, None], torch.full((self.y.numel(), 1), -1.0, dtype=torch.float64))
        g *= self.row_w[:, None]
        grad_w = torch.addmm(w, g.T, self.z, beta=weight_decay)
        return loss, torch.cat([grad_w.reshape(-1), g.sum(dim=0)]).numpy()

    def fit(self, weight_decay: float, *, max_iter: int = 200,
            init: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The (K, r) weights and (K,) bias in the problem's own coordinates, by L-BFGS (Byrd, Lu, Nocedal
        and Zhu, SIAM J. Sci. Comput. 16(5), 1995; SciPy's L-BFGS-B) from ``init`` (zeros when None; a
        fit at a nearby L2 strength converges in fewer steps)."""
        from scipy.optimize import minimize

        k, r = self.n_classes, self.z.shape[1]
        theta0 = np.zeros(k * r + k) if init is None else np.concatenate([init[0].ravel(), init[1]])
        with one_thread():  # steps of small products: a second thread only costs (see one_thread)
            result = minimize(self.loss_and_grad, theta0, args=(float(weight_decay),), jac=True,
                              method="L-BFGS-B",
                              options={"maxiter": int(max_iter), "maxcor": 20, "gtol": 1e-6, "ftol": 1e-10})
        return result.x[:k * r].reshape(k, r), result.x[k * r:]

    def raw(self, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, D) weight and (K,) bias of a :meth:`fit` acting on the raw features:
        ``logits = x @ weight.T + bias``."""
        wt, bt = torch.from_numpy(np.asarray(w, np.float64)), torch.from_numpy(np.asarray(b, np.float64))
        full = wt if self.basis is None else wt @ self.basis.T
        weight = full / self.std
        bias = bt - weight @ self.mean
        return weight.numpy().astype(np.float32), bias.numpy().astype(np.float32)


def fit_softmax(x: np.ndarray, y: np.ndarray, n_classes: int, *, weight_decay: float = 1e-3,
                max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with class-balanced weights and an L2 penalty.

    Parameters
    ----------
    x
        (N, D) features.
    y
        (N,) class indices in ``[0, n_classes)``.
    n_classes
        K, the number of classes (a class absent from ``y`` gets a low bias).
    weight_decay
        L2 penalty ``weight_decay / 2 * ||W||^2`` on the weights of the standardised features.
    max_iter
        L-BFGS iterations.

    Returns
    -------
    weight, bias
        (K, D) and (K,) float32 acting on the raw features: ``logits = x @ weight.T + bias``.

    Notes
    -----
    See :class:`SoftmaxProblem` (standardisation folded into the returned parameters, class weights, the
    row-span reduction). The objective is convex and starts from zero, and L-BFGS is deterministic, so the
    result depends on the data alone.
    """
    problem = SoftmaxProblem(x, y, n_classes)
    return problem.raw(*problem.fit(weight_decay, max_iter=max_iter))
