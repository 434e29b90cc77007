"""The linear-head solver: the row-span reduction and warm starts reach the full-space optimum."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from artlens.classify.train.softmax import SoftmaxProblem, fit_softmax
from artlens.training.losses import class_weights


def _data(n: int = 30, d: int = 80, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    y[: n // 2] = 0  # imbalanced
    x = rng.normal(size=(n, d)).astype(np.float32) + 5.0
    x[np.arange(n), y] += 2.0
    return x, y


def _full_gradient(x: np.ndarray, y: np.ndarray, k: int, weight: np.ndarray, bias: np.ndarray,
                   wd: float) -> float:
    """Largest gradient entry of the full-space objective (standardised features) at the returned head."""
    xt = torch.as_tensor(x, dtype=torch.float64)
    mean, std = xt.mean(0), xt.std(0, unbiased=False)
    z = (xt - mean) / std
    w = (torch.as_tensor(weight, dtype=torch.float64) * std).requires_grad_(True)
    b = (torch.as_tensor(bias, dtype=torch.float64) + (torch.as_tensor(weight, dtype=torch.float64) @ mean)
         ).requires_grad_(True)
    loss = (F.cross_entropy(z @ w.T + b, torch.as_tensor(y), weight=class_weights(y, k).double())
            + 0.5 * wd * (w * w).sum())
    loss.backward()
    return float(max(w.grad.abs().max(), b.grad.abs().max()))


def test_row_span_fit_is_the_full_space_optimum():
    x, y = _data()
    problem = SoftmaxProblem(x, y, 3)
    assert problem.basis is not None and problem.z.shape[1] < x.shape[0]  # fewer rows than features
    weight, bias = problem.raw(*problem.fit(0.1, max_iter=1000))
    assert weight.shape == (3, 80) and bias.shape == (3,)
    assert _full_gradient(x, y, 3, weight, bias, 0.1) < 1e-4
    assert (((x @ weight.T + bias).argmax(1)) == y).mean() == 1.0


def test_tall_data_is_fitted_without_a_basis():
    x, y = _data(n=60, d=5)
    problem = SoftmaxProblem(x, y, 3)
    assert problem.basis is None
    weight, bias = problem.raw(*problem.fit(0.01, max_iter=1000))
    assert _full_gradient(x, y, 3, weight, bias, 0.01) < 1e-4


def test_warm_start_reaches_the_same_head_and_fit_softmax_is_deterministic():
    x, y = _data(seed=1)
    problem = SoftmaxProblem(x, y, 3)
    cold = problem.raw(*problem.fit(0.01, max_iter=1000))
    warm = problem.raw(*problem.fit(0.01, max_iter=1000, init=problem.fit(0.1, max_iter=1000)))
    np.testing.assert_allclose(cold[0], warm[0], atol=1e-3)
    a, b = fit_softmax(x, y, 3, weight_decay=0.01), fit_softmax(x, y, 3, weight_decay=0.01)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_an_absent_class_gets_the_lowest_score():
    x, y = _data()
    weight, bias = fit_softmax(x, y, 4, weight_decay=0.1)
    assert ((x @ weight.T + bias).argmax(1) != 3).all()
