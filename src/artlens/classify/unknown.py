"""The "unknown" answer of a classifier: images unlike its trained classes, or below a chosen probability.

Two tests, either of which makes a head's answer unknown (``"unknown": true``; ``label`` stays the most
probable class, so a reader that does not know the field still reads a class):

- **out of domain** (the default, when the model recorded a threshold at training): the head's *domain
  score*, the log-sum-exp of its raw logits (the negative free energy of Liu et al., NeurIPS 2020), is below
  the ``1 - IN_DOMAIN_SHARE`` quantile of the held-out images' scores, so 95 % of held-out images of the
  trained classes pass. Unlike the top softmax probability, it does not saturate when the classes are easy
  to tell apart: on a small, clean training set temperature scaling fits a small temperature and random
  noise or another product then still gets a calibrated probability of 0.95 and more, while its energy
  stays far below the trained classes' (measured on the test fixtures: held-out crops 6.9 to 9.1, noise,
  a grey frame and unrelated photos 1.2 to 2.7).
- **below --min-score**: the head's calibrated top probability (temperature scaling, Guo et al., ICML 2017)
  is below a threshold the user chose; the maximum-softmax-probability rule of Hendrycks and Gimpel (ICLR
  2017).

References
----------
.. [1] W. Liu, X. Wang, J. D. Owens and Y. Li, "Energy-based Out-of-distribution Detection", NeurIPS 2020.
.. [2] D. Hendrycks and K. Gimpel, "A Baseline for Detecting Misclassified and Out-of-Distribution Examples
       in Neural Networks", ICLR 2017.
.. [3] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural Networks", ICML 2017.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from artlens.errors import ConfigError

__all__ = ["IN_DOMAIN_SHARE", "UnknownRule", "domain_scores", "domain_threshold"]

#: Share of held-out images of the trained classes that the recorded threshold keeps.
IN_DOMAIN_SHARE = 0.95


def domain_scores(logits: np.ndarray) -> np.ndarray:
    """(N,) log-sum-exp of each row of (N, K) raw logits: higher is more like the training data."""
    z = np.asarray(logits, np.float64)
    top = z.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(z - top).sum(axis=1, keepdims=True)))[:, 0]


def domain_threshold(logits: np.ndarray, keep: float = IN_DOMAIN_SHARE) -> float:
    """The domain score that ``keep`` of the held-out images (N, K raw logits) reach.

    ``artlens train classify`` stores it per head in ``config.json`` as ``domain_min``.
    """
    if not 0.0 < keep <= 1.0:
        raise ConfigError(f"keep must be in (0, 1], got {keep}")
    z = np.asarray(logits, np.float64)
    if z.ndim != 2 or z.shape[0] == 0:
        raise ConfigError("domain_threshold needs held-out logits of shape (N, K) with N >= 1")
    return float(np.quantile(domain_scores(z), 1.0 - keep))


@dataclass(frozen=True)
class UnknownRule:
    """Per head: the least domain score (from training) and the least calibrated probability (--min-score)."""

    domain_min: dict[str, float] = field(default_factory=dict)
    min_score: float | None = None

    @classmethod
    def for_model(cls, heads: list[Mapping], min_score: float | None = None,
                  domain_check: bool = True) -> UnknownRule:
        """The rule of a model's ``config.json`` heads, with an optional probability floor for every head."""
        if min_score is not None and not 0.0 <= min_score <= 1.0:
            raise ConfigError(f"--min-score must be a probability in [0, 1], got {min_score}")
        domain = ({h["name"]: float(h["domain_min"]) for h in heads if "domain_min" in h} if domain_check
                  else {})
        return cls(domain, min_score if min_score else None)

    def applies_to(self, head: str) -> bool:
        return self.min_score is not None or head in self.domain_min

    def describe(self) -> dict:
        """The report's ``model.unknown``: the thresholds in force."""
        out: dict = {}
        if self.domain_min:
            out["domain_min"] = dict(self.domain_min)
        if self.min_score is not None:
            out["min_score"] = self.min_score
        return out

    def mark(self, record: dict, domain: Mapping[str, float]) -> None:
        """Add ``domain_score`` and ``unknown`` to each head's prediction in ``record`` (and the first's to
        the record itself); ``domain`` maps head names to this image's domain score."""
        for head, prediction in record["heads"].items():
            prediction["domain_score"] = round(float(domain[head]), 4)
            if not self.applies_to(head):
                continue
            low_domain = head in self.domain_min and domain[head] < self.domain_min[head]
            low_score = self.min_score is not None and prediction["score"] < self.min_score
            prediction["unknown"] = bool(low_domain or low_score)
        first = record["heads"][next(iter(record["heads"]))]
        for key in ("domain_score", "unknown"):
            if key in first:
                record[key] = first[key]
