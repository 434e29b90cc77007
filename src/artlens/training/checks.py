"""Checks of a training run's settings, one wording per rule, shared by the trainers' settings classes."""

from __future__ import annotations

from collections.abc import Iterable

from artlens.errors import ConfigError

__all__ = ["check_dropout", "check_learning_rate", "check_positive_integers"]


def check_positive_integers(settings: object, names: Iterable[str], *,
                            zero_allowed: Iterable[str] = ()) -> None:
    """Each attribute ``names`` of ``settings`` is an int of at least 1 (at least 0 for ``zero_allowed``)."""
    zero = set(zero_allowed)
    for name in names:
        value = getattr(settings, name)
        if not isinstance(value, int) or value < (0 if name in zero else 1):
            raise ConfigError(f"{name} must be a positive integer, not {value!r}")


def check_dropout(dropout: float) -> None:
    """A dropout probability in [0, 1)."""
    if not 0.0 <= dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), not {dropout}")


def check_learning_rate(lr: float) -> None:
    """A learning rate above 0."""
    if not lr > 0:
        raise ConfigError(f"the learning rate must be positive, not {lr}")
