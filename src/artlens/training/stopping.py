"""Early stopping on a validation figure (Prechelt, "Early Stopping -- But When?", Neural Networks: Tricks of
the Trade, 1998): stop after ``patience`` evaluations without improvement and keep the best state."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from artlens.errors import ConfigError

__all__ = ["EarlyStopping", "Score"]

#: A validation figure, or figures compared in order (the second breaks ties of the first, and so on).
Score = float | Sequence[float]


class EarlyStopping:
    """Track a validation score, say whether it improved, and when to stop.

    Parameters
    ----------
    patience
        Evaluations without improvement after which :attr:`should_stop` is True; 0 or None never stops (the
        best score is still tracked).
    min_delta
        An improvement must exceed this (a change within it is a tie).
    mode
        ``"min"`` (a loss) or ``"max"`` (an accuracy, F1...).

    Notes
    -----
    A score may be a tuple compared lexicographically: ``(macro_f1, -loss)`` with ``mode="max"`` prefers the
    higher F1 and breaks ties (within ``min_delta``) by the lower loss. The first score is always an
    improvement.
    """

    def __init__(self, patience: int | None, min_delta: float = 0.0, mode: str = "min") -> None:
        if patience is not None and (not isinstance(patience, int) or patience < 0):
            raise ConfigError(f"patience must be 0 (off) or more, got {patience!r}")
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise ConfigError(f"min_delta must be non-negative, got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ConfigError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience = patience or 0
        self.min_delta = float(min_delta)
        self.mode = mode
        self.best: tuple[float, ...] | None = None
        self.best_step: int | None = None
        self.stale = 0
        self.steps = 0

    @staticmethod
    def _as_tuple(value: Score) -> tuple[float, ...]:
        values = (value,) if isinstance(value, int | float) else tuple(value)
        if not values or not all(math.isfinite(float(v)) for v in values):
            raise ConfigError(f"an early-stopping score must be finite numbers, got {value!r}")
        return tuple(float(v) for v in values)

    def improves(self, value: Score) -> bool:
        """Whether ``value`` beats the best score so far (by more than ``min_delta``, in order)."""
        new = self._as_tuple(value)
        if self.best is None:
            return True
        sign = 1.0 if self.mode == "max" else -1.0
        for a, b in zip(new, self.best, strict=True):
            gain = sign * (a - b)
            if gain > self.min_delta:
                return True
            if gain < -self.min_delta:
                return False
        return False

    def update(self, value: Score) -> bool:
        """Record one evaluation; True when it is the new best (its step is then :attr:`best_step`)."""
        improved = self.improves(value)
        if improved:
            self.best, self.best_step, self.stale = self._as_tuple(value), self.steps, 0
        else:
            self.stale += 1
        self.steps += 1
        return improved

    @property
    def should_stop(self) -> bool:
        """True once ``patience`` evaluations in a row brought no improvement (never with patience 0)."""
        return bool(self.patience) and self.stale >= self.patience

    def state_dict(self) -> dict[str, Any]:
        """Checkpoint-safe state (plain values)."""
        return {"best": None if self.best is None else list(self.best), "best_step": self.best_step,
                "stale": self.stale, "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`."""
        self.best = None if state["best"] is None else tuple(float(v) for v in state["best"])
        self.best_step = None if state["best_step"] is None else int(state["best_step"])
        self.stale, self.steps = int(state["stale"]), int(state["steps"])
