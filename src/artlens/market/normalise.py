"""From validated sales to the quantities the models use: one currency, centimetres, medium categories,
sale periods, and (optionally) premium-inclusive prices."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artlens.market.errors import SalesError
from artlens.market.sales import Sales

__all__ = ["FREQUENCIES", "Prepared", "period_labels", "period_of", "prepare", "read_rates", "to_cm"]

FREQUENCIES = ("year", "half", "quarter", "month")
_CM = {"": 1.0, "cm": 1.0, "mm": 0.1, "m": 100.0, "in": 2.54, "inch": 2.54, "inches": 2.54}


def read_rates(path: str | Path) -> dict[str, float]:
    """A currency table: a CSV with columns ``currency`` and ``rate`` (units of the base currency that one
    unit of ``currency`` buys)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SalesError(path, f"cannot be read ({exc.__class__.__name__})") from None
    rates: dict[str, float] = {}
    reader = csv.DictReader(text.splitlines())
    if not {"currency", "rate"} <= {h.strip().lower() for h in reader.fieldnames or []}:
        raise SalesError(path, "a currency table needs the columns currency and rate")
    for n, row in enumerate(reader, start=2):
        cells = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        try:
            rate = float(cells["rate"])
        except ValueError:
            raise SalesError(path, f"{cells['rate'][:20]!r} is not a number", row=n, column="rate") from None
        if not rate > 0 or not math.isfinite(rate):
            raise SalesError(path, "the rate must be above zero", row=n, column="rate")
        rates[cells["currency"].upper()] = rate
    return rates


def to_cm(values: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Lengths in centimetres (an empty unit means centimetres)."""
    factor = np.array([_CM[str(u).lower()] for u in units], dtype=np.float64) if len(units) else 1.0
    return np.asarray(values, dtype=np.float64) * factor


def period_of(dates: np.ndarray, frequency: str) -> np.ndarray:
    """Integer sale periods counted from year 0 (``year*k + part``), ``frequency`` one of
    :data:`FREQUENCIES`."""
    years = dates.astype("datetime64[Y]").astype(int) + 1970
    months = dates.astype("datetime64[M]").astype(int) % 12
    per_year = {"year": 1, "half": 2, "quarter": 4, "month": 12}[frequency]
    return years * per_year + months * per_year // 12


def period_labels(periods: np.ndarray, frequency: str) -> list[str]:
    """Readable names of periods (``2019``, ``2019H2``, ``2019Q3``, ``2019-07``)."""
    per_year = {"year": 1, "half": 2, "quarter": 4, "month": 12}[frequency]
    labels = []
    for p in np.asarray(periods, dtype=int):
        year, part = divmod(int(p), per_year)
        labels.append(
            {
                "year": f"{year}",
                "half": f"{year}H{part + 1}",
                "quarter": f"{year}Q{part + 1}",
                "month": f"{year}-{part + 1:02d}",
            }[frequency]
        )
    return labels


@dataclass
class Prepared:
    """Sales in model units: ``log_price`` in the base currency, sizes in cm, ``medium`` categories,
    integer sale ``period`` (see :func:`period_of`) and ``sold`` (false: a bought-in lot, censored)."""

    sales: Sales
    log_price: np.ndarray
    period: np.ndarray
    frequency: str
    artist: np.ndarray
    medium: np.ndarray
    log_area: np.ndarray
    age: np.ndarray
    house: np.ndarray
    sold: np.ndarray
    premium_added: int

    def __len__(self) -> int:
        return len(self.log_price)

    def take(self, index: np.ndarray) -> Prepared:
        idx = np.asarray(index)
        return Prepared(
            self.sales.take(idx),
            self.log_price[idx],
            self.period[idx],
            self.frequency,
            self.artist[idx],
            self.medium[idx],
            self.log_area[idx],
            self.age[idx],
            self.house[idx],
            self.sold[idx],
            self.premium_added,
        )


def prepare(
    sales: Sales,
    *,
    rates: dict[str, float] | None = None,
    frequency: str = "year",
    medium_category: Callable[[list[str]], list[str]] | None = None,
    add_premium: bool = False,
) -> Prepared:
    """Normalise ``sales`` (never modified): convert currencies with ``rates`` (sales without a currency are
    taken to be in the base currency), sizes to cm, mediums to categories (arttactic's table by default), and
    with ``add_premium`` turn hammer prices into premium-inclusive ones where the premium table knows the
    house and place.
    """
    if frequency not in FREQUENCIES:
        raise SalesError(sales.source, f"frequency {frequency!r} is not one of {', '.join(FREQUENCIES)}")
    price = np.array(sales.price, dtype=np.float64)
    currencies = sales.currency
    if len(currencies) and any(c for c in currencies):
        known = rates or {}
        base = {c for c in currencies if c} if not known else set()
        if len(base) > 1:
            raise SalesError(
                sales.source,
                f"prices in {len(base)} currencies ({', '.join(sorted(base))}); "
                "give a currency table (--rates)",
                column="currency",
            )
        if known:
            for i, cur in enumerate(currencies):
                if cur and cur not in known:
                    raise SalesError(
                        sales.source,
                        f"currency {cur!r} is not in the currency table",
                        row=int(sales.row[i]),
                        column="currency",
                    )
                price[i] *= known.get(cur, 1.0) if cur else 1.0
    added = 0
    if add_premium:
        from artlens.market.premiums import load_premium_table

        table = load_premium_table()
        for i in range(len(price)):
            if sales.house[i] and sales.location[i]:
                date = sales.date[i].astype(object)
                value = table.with_premium(
                    float(sales.price[i]), str(sales.house[i]), str(sales.location[i]), date
                )
                if value is not None:
                    price[i] *= value / float(sales.price[i])
                    added += 1
    height, width = to_cm(sales.height, sales.unit), to_cm(sales.width, sales.unit)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_area = np.log(height * width)
    if medium_category is None:
        from artlens.market.mediums import load_medium_table

        medium_category = load_medium_table().categories
    mediums = np.array(medium_category([str(m) for m in sales.medium]), dtype=object)
    sale_year = sales.date.astype("datetime64[Y]").astype(int) + 1970
    age = sale_year - sales.year_created
    artists = np.array([a if a else "(unknown)" for a in sales.artist], dtype=object)
    houses = np.array([h if h else "(unknown)" for h in sales.house], dtype=object)
    return Prepared(
        sales,
        np.log(price),
        period_of(sales.date, frequency),
        frequency,
        artists,
        mediums,
        log_area,
        age.astype(np.float64),
        houses,
        np.asarray(sales.sold, dtype=bool),
        added,
    )
