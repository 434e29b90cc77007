"""``trends``: the hedonic and repeat-sales indices (overall or by artist, medium or price segment), their
forecasts, and the bought-in share per period, as one ``artlens.market-trends/1`` record."""

from __future__ import annotations

import numpy as np

from artlens.market.errors import SalesError
from artlens.market.forecast import forecast_index
from artlens.market.indices import hedonic_index, repeat_sales_index
from artlens.market.normalise import Prepared, period_labels

__all__ = ["GROUPINGS", "market_trends", "segments"]

GROUPINGS = ("all", "artist", "medium", "segment")
_MIN_GROUP = 30


def segments(p: Prepared) -> np.ndarray:
    """Price segment of each sale: the tercile (``low``, ``middle``, ``high``) of its artist's median log
    price over all sold lots."""
    sold = p.sold
    medians = {a: float(np.median(p.log_price[sold & (p.artist == a)])) for a in set(p.artist[sold].tolist())}
    values = np.array([medians.get(a, np.nan) for a in p.artist])
    cuts = np.nanquantile(np.array(list(medians.values())), [1 / 3, 2 / 3]) if medians else [0.0, 0.0]
    return np.array(
        ["low" if v <= cuts[0] else "middle" if v <= cuts[1] else "high" for v in values], dtype=object
    )


def _one(p: Prepared, horizon: int, level: float) -> dict[str, object]:
    hedonic = hedonic_index(p)
    labels = period_labels(hedonic.periods, p.frequency)
    repeat = repeat_sales_index(p, hedonic.periods)
    counts = {
        int(q): (int(((p.period == q) & p.sold).sum()), int(((p.period == q) & ~p.sold).sum()))
        for q in hedonic.periods
    }
    last = int(hedonic.periods[-1])
    ahead = period_labels(np.arange(last + 1, last + 1 + horizon), p.frequency)
    return {
        "hedonic": hedonic.to_json(labels),
        "repeat_sales": repeat.to_json(labels) if repeat is not None else None,
        "forecast": {
            "method": "AR(1) on index changes with drift",
            "periods": ahead,
            **forecast_index(hedonic.log_index, horizon, level),
        },
        "sales": [counts[int(q)][0] for q in hedonic.periods],
        "bought_in_share": [
            round(b / (s + b), 4) if s + b else None for s, b in (counts[int(q)] for q in hedonic.periods)
        ],
    }


def market_trends(p: Prepared, by: str = "all", *, horizon: int = 2, level: float = 0.8) -> dict[str, object]:
    """Indices of all sales, or of each artist, medium category or price segment with at least 30 sold lots,
    with their forecasts (an ``artlens.market-trends/1`` record)."""
    if by not in GROUPINGS:
        raise SalesError(p.sales.source, f"--by {by!r} is not one of {', '.join(GROUPINGS)}")
    if len(np.unique(p.period[p.sold])) < 2:
        raise SalesError(p.sales.source, "an index needs sold lots in at least two periods")
    record: dict[str, object] = {
        "schema": "artlens.market-trends/1",
        "source": p.sales.source,
        "frequency": p.frequency,
        "by": by,
        "sales": len(p),
        "bought_in": int((~p.sold).sum()),
        "all": _one(p, horizon, level),
        "groups": {},
    }
    if by != "all":
        keys = {"artist": p.artist, "medium": p.medium, "segment": segments(p) if by == "segment" else None}[
            by
        ]
        for key in sorted(set(keys.tolist())):
            mask = keys == key
            if (mask & p.sold).sum() >= _MIN_GROUP and len(np.unique(p.period[mask & p.sold])) >= 2:
                record["groups"][str(key)] = _one(p.take(np.flatnonzero(mask)), horizon, level)  # type: ignore[index]
    return record
