"""A minimal reader of the first sheet of an ``.xlsx`` workbook (Office Open XML, ECMA-376), standard library
only: the arttactic tables ship as workbooks, and openpyxl would be a dependency for two files."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

__all__ = ["read_first_sheet"]

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    index = 0
    for ch in letters.group(0) if letters else "A":
        index = index * 26 + ord(ch) - 64
    return index - 1


def read_first_sheet(path: Path) -> list[list[str]]:
    """Rows of the first worksheet as lists of strings (empty cells are ``""``; numbers as written).

    Raises ``zipfile.BadZipFile``, ``KeyError`` or ``xml.etree.ElementTree.ParseError`` on a damaged file;
    callers turn them into an :class:`~artlens.errors.ArtlensError`.
    """
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for si in ET.fromstring(zf.read("xl/sharedStrings.xml")).iter(f"{_NS}si"):
                shared.append("".join(t.text or "" for t in si.iter(f"{_NS}t")))
        sheet = ET.fromstring(zf.read("xl/worksheets/sheet1.xml"))
    rows: list[list[str]] = []
    for row in sheet.iter(f"{_NS}row"):
        cells: dict[int, str] = {}
        for cell in row.iter(f"{_NS}c"):
            kind = cell.get("t")
            value = cell.find(f"{_NS}v")
            if kind == "inlineStr":
                text = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
            elif value is None or value.text is None:
                text = ""
            elif kind == "s":
                text = shared[int(value.text)]
            else:
                text = value.text
            cells[_column(cell.get("r", "A"))] = text
        width = max(cells, default=-1) + 1
        rows.append([cells.get(i, "") for i in range(width)])
    return rows
