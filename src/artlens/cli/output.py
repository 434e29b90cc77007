"""How results reach stdout, by one rule for every command.

* ``--json``: JSON, wherever stdout goes.
* Otherwise, stdout on a terminal: a Rich table for people, wrapped to the terminal's width (cells fold,
  nothing is cut off).
* Otherwise (a pipe, a file, a CI log): the same rows as plain tab-separated columns, a header line first;
  no box drawing, no colour, no truncation, so ``grep``, ``cut -f`` and ``sort`` work on them.

Progress bars and messages go to stderr (:data:`err`), so stdout holds only the result.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["err", "is_terminal", "out", "plain", "print_json", "print_table", "say_error"]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line, whatever the width


def is_terminal() -> bool:
    """Whether stdout is a terminal (a person reads it) rather than a pipe or a file."""
    return out.is_terminal


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def plain(cell: str) -> str:
    """A cell's text without Rich markup, on one line (tabs and line breaks become spaces)."""
    text = Text.from_markup(cell).plain
    return " ".join(text.replace("\t", " ").split()) if text else ""


def print_table(columns: Sequence[str], rows: Iterable[Sequence[str]], *, title: str | None = None,
                right: Collection[str] = (), show_header: bool = True) -> None:
    """Rows of already formatted cells (Rich markup allowed): a table on a terminal, TSV otherwise.

    Parameters
    ----------
    columns
        Column headers.
    rows
        One sequence of cells per row, as many as ``columns``.
    title
        Shown above the table on a terminal (left out of the plain columns).
    right
        Headers of the columns aligned to the right (numbers).
    show_header
        Whether the header is shown (a table of ``key value`` rows may go without).
    """
    rows = [list(r) for r in rows]
    if not is_terminal():
        lines = (["\t".join(columns)] if show_header else []) + ["\t".join(plain(c) for c in r) for r in rows]
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
        return
    table = Table(title=title, show_header=show_header)
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    out.print(table)


def say_error(message: str) -> None:
    """One ``error: ...`` line on stderr (the message is not read as markup)."""
    err.print(Text.assemble(("error:", "red"), " ", message), highlight=False)
