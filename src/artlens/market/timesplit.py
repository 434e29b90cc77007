"""Time-ordered splits: train on the past, test on a later period, never the other way round.

Rolling-origin evaluation (Tashman, "Out-of-sample tests of forecasting accuracy", International Journal of
Forecasting 16, 2000): each of the last ``origins`` periods is a test period in turn, and its model is fitted
only on the sales of the periods before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["TimeSplit", "rolling_origin"]


@dataclass(frozen=True)
class TimeSplit:
    """Row positions of one split: every train row's period is before ``test_period``."""

    train: np.ndarray
    test: np.ndarray
    test_period: int


def rolling_origin(periods: np.ndarray, origins: int = 3, min_train_periods: int = 2) -> Iterator[TimeSplit]:
    """Splits with each of the last ``origins`` periods as the test period, the earliest first; periods with
    fewer than ``min_train_periods`` earlier periods are skipped."""
    periods = np.asarray(periods)
    distinct = np.unique(periods)
    for test_period in distinct[max(min_train_periods, len(distinct) - origins) :]:
        yield TimeSplit(
            np.flatnonzero(periods < test_period), np.flatnonzero(periods == test_period), int(test_period)
        )
