"""Sales records: reading a CSV or Parquet file of sales, checking every cell, and the columns in memory.

Required columns are ``price`` and ``date``; the optional ones are listed in :data:`OPTIONAL`. Every bad cell
is an error naming the file, the row (as a spreadsheet numbers it: the header is row 1) and the column.
Nothing is converted here: :mod:`artlens.market.normalise` turns currencies, sizes and mediums into the
quantities the models use.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from artlens.market.errors import SalesError

__all__ = ["OPTIONAL", "REQUIRED", "Sales", "read_sales", "sales_from_rows", "write_sales"]

REQUIRED = ("price", "date")
OPTIONAL = (
    "currency",
    "artist",
    "title",
    "medium",
    "height",
    "width",
    "depth",
    "unit",
    "year_created",
    "house",
    "location",
    "estimate_low",
    "estimate_high",
    "sold",
    "image",
)
_NUMBERS = ("height", "width", "depth", "year_created", "estimate_low", "estimate_high")
_TRUE = {"1", "true", "yes", "y", "sold", "t"}
_FALSE = {"0", "false", "no", "n", "bought-in", "bought in", "unsold", "f", "passed"}
_UNITS = {"cm", "mm", "in", "m", "inch", "inches", ""}


@dataclass
class Sales:
    """Validated sales, one array per column (``nan`` or ``""`` where a cell was empty).

    ``price`` is the hammer or premium-inclusive price as given; for a bought-in lot (``sold`` false) it is
    the highest bid or the reserve the record gives, a lower bound on value that the models treat as
    censored. ``row`` is each sale's row number in its file.
    """

    price: np.ndarray
    date: np.ndarray  # datetime64[D]
    currency: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    artist: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    title: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    medium: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    height: np.ndarray = field(default_factory=lambda: np.array([]))
    width: np.ndarray = field(default_factory=lambda: np.array([]))
    depth: np.ndarray = field(default_factory=lambda: np.array([]))
    unit: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    year_created: np.ndarray = field(default_factory=lambda: np.array([]))
    house: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    location: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    estimate_low: np.ndarray = field(default_factory=lambda: np.array([]))
    estimate_high: np.ndarray = field(default_factory=lambda: np.array([]))
    sold: np.ndarray = field(default_factory=lambda: np.array([], dtype=bool))
    image: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    row: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))
    source: str = ""

    def __len__(self) -> int:
        return len(self.price)

    def take(self, index: np.ndarray | Sequence[int]) -> Sales:
        """The sales at ``index`` (positions or a boolean mask), as a new :class:`Sales`."""
        idx = np.asarray(index)
        values = {f.name: getattr(self, f.name)[idx] for f in fields(self) if f.name != "source"}
        return Sales(**values, source=self.source)


def _number(text: str, path: str, row: int, column: str, *, positive: bool = False) -> float:
    if text == "":
        return math.nan
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise SalesError(path, f"{text[:40]!r} is not a number", row=row, column=column) from None
    if not math.isfinite(value):
        raise SalesError(path, f"{text[:40]!r} is not a finite number", row=row, column=column)
    if positive and value <= 0:
        raise SalesError(path, f"{text[:40]!r} must be above zero", row=row, column=column)
    return value


def _date(text: str, path: str, row: int) -> np.datetime64:
    if text == "":
        raise SalesError(path, "the sale date is empty", row=row, column="date")
    try:
        return np.datetime64(dt.date.fromisoformat(text[:10]), "D")
    except ValueError:
        raise SalesError(
            path, f"{text[:40]!r} is not a date (write 2021-05-30)", row=row, column="date"
        ) from None


def _sold(text: str, path: str, row: int) -> bool:
    value = text.strip().lower()
    if value == "" or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SalesError(path, f"{text[:40]!r} is not yes/no (sold or bought in)", row=row, column="sold")


def _parse_row(cells: dict[str, str], path: str, row: int, works: bool) -> dict[str, object]:
    record: dict[str, object] = {"row": row}
    record["price"] = _number(cells.get("price", ""), path, row, "price", positive=True)
    if math.isnan(record["price"]) and not works:  # type: ignore[arg-type]
        raise SalesError(path, "the price is empty", row=row, column="price")
    if works and not cells.get("date", ""):
        record["date"] = np.datetime64(dt.date.today(), "D")
    else:
        record["date"] = _date(cells.get("date", ""), path, row)
    for name in _NUMBERS:
        record[name] = _number(
            cells.get(name, ""), path, row, name, positive=name in ("height", "width", "depth")
        )
    low, high = record["estimate_low"], record["estimate_high"]
    if not math.isnan(low) and not math.isnan(high) and low > high:  # type: ignore[arg-type,operator]
        raise SalesError(path, "estimate_low is above estimate_high", row=row, column="estimate_low")
    unit = cells.get("unit", "").strip().lower()
    if unit not in _UNITS:
        raise SalesError(path, f"unit {unit[:20]!r} is not one of cm, mm, m, in", row=row, column="unit")
    record["unit"] = unit
    record["sold"] = _sold(cells.get("sold", ""), path, row)
    for name in ("currency", "artist", "title", "medium", "house", "location", "image"):
        record[name] = cells.get(name, "").strip()
    record["currency"] = str(record["currency"]).upper()
    return record


def sales_from_rows(
    rows: Iterable[dict[str, str]],
    source: str = "sales",
    *,
    on_error: Callable[[SalesError], None] | None = None,
    first_row: int = 2,
    works: bool = False,
) -> Sales:
    """Validated :class:`Sales` from dictionaries of cell texts (column name to text).

    A bad row raises :class:`SalesError`, or, with ``on_error``, is passed to it and left out. With ``works``
    the rows are works to value: ``price`` may be empty and ``date`` defaults to today.
    """
    records: list[dict[str, object]] = []
    for offset, raw in enumerate(rows):
        cells = {
            str(k).strip().lower(): ("" if v is None else str(v).strip())
            for k, v in raw.items()
            if k is not None
        }
        try:
            records.append(_parse_row(cells, source, first_row + offset, works))
        except SalesError as exc:
            if on_error is None:
                raise
            on_error(exc)
    if not records:
        raise SalesError(source, "no usable rows")
    columns: dict[str, np.ndarray] = {}
    for f in fields(Sales):
        if f.name == "source":
            continue
        values = [r[f.name] for r in records]
        if f.name == "date":
            columns[f.name] = np.array(values, dtype="datetime64[D]")
        elif f.name in ("price", *_NUMBERS):
            columns[f.name] = np.array(values, dtype=np.float64)
        elif f.name == "sold":
            columns[f.name] = np.array(values, dtype=bool)
        elif f.name == "row":
            columns[f.name] = np.array(values, dtype=np.int64)
        else:
            columns[f.name] = np.array(values, dtype=object)
    return Sales(**columns, source=source)


def _parquet_rows(path: Path) -> list[dict[str, str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SalesError(path, "reading Parquet needs pyarrow (pip install 'artlens[market]')") from None
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error family on damaged files
        raise SalesError(path, f"not a readable Parquet file ({str(exc).splitlines()[0][:120]})") from None
    data = table.to_pydict()
    names = list(data)
    return [{n: "" if data[n][i] is None else str(data[n][i]) for n in names} for i in range(table.num_rows)]


def read_sales(
    path: str | Path, *, on_error: Callable[[SalesError], None] | None = None, works: bool = False
) -> Sales:
    """Read and validate a CSV (comma, semicolon or tab separated) or Parquet file of sales (with ``works``:
    of works to value, whose price and date may be left out).

    Raises
    ------
    SalesError
        The file cannot be read, lacks a required column, or (without ``on_error``) has a bad cell.
    """
    path = Path(path)
    if not path.is_file():
        raise SalesError(path, "no such file")
    if path.suffix.lower() in (".parquet", ".pq"):
        rows = _parquet_rows(path)
        header = list(rows[0]) if rows else []
    else:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SalesError(path, f"cannot be read as UTF-8 text ({exc.__class__.__name__})") from None
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(text.splitlines(), dialect=dialect)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        rows = list(reader)
    missing = [c for c in ((), REQUIRED)[not works] if c not in {h.strip().lower() for h in header}]
    if missing:
        raise SalesError(path, f"no {', '.join(missing)} column (the header has: {', '.join(header)[:200]})")
    return sales_from_rows(rows, str(path), on_error=on_error, works=works)


def write_sales(sales: Sales, path: Path, extra: dict[str, Sequence[object]] | None = None) -> None:
    """Write sales as a CSV file with every column (and ``extra`` ones), atomically."""
    from artlens.files import atomic_write_text

    names = [f.name for f in fields(Sales) if f.name not in ("row", "source")]
    extra = extra or {}

    def cell(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "" if math.isnan(value) else f"{value:.6g}"
        if isinstance(value, np.bool_ | bool):
            return "yes" if value else "no"
        return str(value)

    lines = [[*names, *extra]]
    for i in range(len(sales)):
        lines.append([cell(getattr(sales, n)[i]) for n in names] + [cell(v[i]) for v in extra.values()])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    atomic_write_text(path, buffer.getvalue())
