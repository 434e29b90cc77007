"""The market errors: a sales file that cannot be used, and a market model folder that cannot be loaded."""

from __future__ import annotations

from artlens.errors import ArtlensError, printable

__all__ = ["MarketModelError", "SalesError"]


class SalesError(ArtlensError):
    """A sales file, or one of its cells, cannot be used: the message names the file, row and column.

    ``row`` counts data rows from 1 as a spreadsheet shows them after the header (the header is row 1, the
    first sale row 2); ``column`` is the column's name.
    """

    def __init__(
        self, path: object, reason: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.path = str(path)
        self.row = row
        self.column = column
        self.reason = reason
        where = printable(self.path)
        if row is not None:
            where += f": row {row}"
        if column is not None:
            where += f", column {printable(column)}" if row is not None else f": column {printable(column)}"
        super().__init__(f"{where}: {reason}")


class MarketModelError(ArtlensError):
    """A market model folder is missing, damaged or does not fit the data it is given."""
