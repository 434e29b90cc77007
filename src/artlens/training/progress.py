"""The one progress protocol of every artlens trainer: a callback receiving :class:`ProgressEvent` records.

A trainer reports what it is doing (``stage``), how far it has come (``done`` of ``total``) and the figures
worth showing (``metrics``: loss, validation scores, the fold...). Library code never prints; the CLI draws a
bar per stage and the service stores a fraction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["Progress", "ProgressEvent", "report"]


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report.

    Attributes
    ----------
    stage
        What is running, e.g. ``"embed"``, ``"step"``, ``"epoch"``, ``"fold"``.
    done
        Units of the stage finished so far.
    total
        Units in the stage, or None when unknown (an open-ended iterator).
    metrics
        Figures to show beside it (read-only), e.g. ``{"loss": 0.31, "val_macro_f1": 0.8, "fold": 2}``.
    """

    stage: str
    done: int
    total: int | None
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    @property
    def fraction(self) -> float | None:
        """``done / total`` in [0, 1], or None when the total is unknown or zero."""
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


#: A progress callback: receives every :class:`ProgressEvent` of a run.
Progress = Callable[[ProgressEvent], None]


def report(progress: Progress | None, stage: str, done: int, total: int | None = None,
           metrics: Mapping[str, object] | None = None) -> None:
    """Send ``ProgressEvent(stage, done, total, metrics)`` to ``progress`` unless it is None.

    Values that are not finite numbers (None, NaN, text) are left out, so a callback can format every value
    as a number.
    """
    if progress is None:
        return
    shown = {k: v for k, v in (metrics or {}).items()
             if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}
    progress(ProgressEvent(stage, int(done), None if total is None else int(total), shown))
