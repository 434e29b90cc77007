"""Buyer's premiums of the major auction houses, from arttactic's table of tiers (MIT licence).

A hammer price ``h`` pays the tier-1 rate on the part of ``h`` up to the first threshold, the tier-2 rate on
the part between the first and second, and so on (the houses' published schedules, as the table records
them by house, sale location and period). Prices that already include the premium are left as they are.
"""

from __future__ import annotations

import datetime as dt
import functools
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from artlens.market.errors import MarketModelError
from artlens.market.xlsx import read_first_sheet

__all__ = ["PremiumSchedule", "PremiumTable", "load_premium_table", "premium_table_from_rows"]

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class PremiumSchedule:
    """One house's schedule at one place for a period: hammer thresholds and the marginal rates."""

    house: str
    location: str
    start: dt.date | None
    end: dt.date | None
    currency: str
    thresholds: tuple[float, ...]  # where tiers 2, 3, ... begin (hammer price)
    rates: tuple[float, ...]

    def premium(self, hammer: float) -> float:
        """The buyer's premium on a hammer price (marginal rates, tier by tier)."""
        total, lower = 0.0, 0.0
        bounds = (*self.thresholds, float("inf"))
        for rate, upper in zip(self.rates, bounds, strict=False):
            if hammer <= lower:
                break
            total += rate * (min(hammer, upper) - lower)
            lower = upper
        return total


@dataclass(frozen=True)
class PremiumTable:
    """Every schedule, looked up by house, location and sale date."""

    schedules: tuple[PremiumSchedule, ...]

    def schedule(self, house: str, location: str, date: dt.date) -> PremiumSchedule | None:
        """The schedule in force (the nearest one in time when the date is outside every period)."""
        mine = [
            s
            for s in self.schedules
            if s.house.lower() == house.strip().lower() and s.location.lower() == location.strip().lower()
        ]
        if not mine:
            return None

        def distance(s: PremiumSchedule) -> int:
            if s.start is not None and date < s.start:
                return (s.start - date).days
            if s.end is not None and date > s.end:
                return (date - s.end).days
            return 0

        return min(mine, key=distance)

    def with_premium(self, hammer: float, house: str, location: str, date: dt.date) -> float | None:
        """``hammer`` plus the premium, or ``None`` when the table has no schedule for the house and place."""
        found = self.schedule(house, location, date)
        return None if found is None else hammer + found.premium(hammer)


def premium_table_from_rows(rows: list[list[str]]) -> PremiumTable:
    """A table from the workbook's rows (header first: house, location, start, end, currency, tiers 1-4,
    overhead, rates 1-4)."""
    schedules = []
    for row in rows[1:]:
        row = row + [""] * (14 - len(row))
        rates = [r for r in (_number(x) for x in row[10:14]) if r is not None]
        starts = [_number(x) for x in row[6:9]]
        if not row[0] or not rates:
            continue
        thresholds = tuple(s - 1 for s in starts[: len(rates) - 1] if s is not None)
        start, end = _number(row[2]), _number(row[3])
        schedules.append(
            PremiumSchedule(
                house=row[0].strip(),
                location=row[1].strip(),
                start=None if start is None else _EXCEL_EPOCH + dt.timedelta(days=start),
                end=None if end is None else _EXCEL_EPOCH + dt.timedelta(days=end),
                currency=row[4].strip(),
                thresholds=thresholds,
                rates=tuple(rates),
            )
        )
    return PremiumTable(tuple(schedules))


@functools.cache
def load_premium_table(path: Path | None = None) -> PremiumTable:
    """arttactic's premium tiers, resolved through :mod:`artlens.weights` (``arttactic_premiums``)."""
    from artlens.weights import resolve

    source = resolve("arttactic_premiums", path)
    try:
        return premium_table_from_rows(read_first_sheet(source))
    except (zipfile.BadZipFile, KeyError, ET.ParseError, ValueError) as exc:
        raise MarketModelError(f"{source}: not a readable premium table ({exc})") from None
