"""Reading sales: every bad cell is a one-line error naming the file, row and column; bad rows can be
skipped."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.market import SalesError, read_sales

HEADER = "price,date,artist,medium,height,width,unit,sold\n"


def _write(tmp_path, text: str, name: str = "sales.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_valid_rows(tmp_path) -> None:
    path = _write(
        tmp_path,
        HEADER + "1200,2020-03-01,A,oil on canvas,50,40,cm,yes\n"
        "800,2021-05-02,B,ink on paper,20,16,in,bought in\n",
    )
    sales = read_sales(path)
    assert len(sales) == 2
    assert sales.sold.tolist() == [True, False]
    assert sales.date[1] == np.datetime64("2021-05-02")
    assert sales.row.tolist() == [2, 3]


@pytest.mark.parametrize(
    ("line", "row", "column", "words"),
    [
        ("abc,2020-01-01,A,oil,1,1,cm,yes", 3, "price", "not a number"),
        ("-5,2020-01-01,A,oil,1,1,cm,yes", 3, "price", "above zero"),
        ("10,01/02/2020,A,oil,1,1,cm,yes", 3, "date", "not a date"),
        ("10,2020-01-01,A,oil,x,1,cm,yes", 3, "height", "not a number"),
        ("10,2020-01-01,A,oil,1,1,furlong,yes", 3, "unit", "not one of"),
        ("10,2020-01-01,A,oil,1,1,cm,maybe", 3, "sold", "yes/no"),
    ],
)
def test_bad_cells_name_row_and_column(tmp_path, line, row, column, words) -> None:
    path = _write(tmp_path, HEADER + "1,2020-01-01,A,oil,1,1,cm,yes\n" + line + "\n")
    with pytest.raises(SalesError) as info:
        read_sales(path)
    message = str(info.value)
    assert f"row {row}, column {column}" in message and words in message and str(path) in message
    assert "\n" not in message


def test_missing_column_is_named(tmp_path) -> None:
    with pytest.raises(SalesError, match="no date column"):
        read_sales(_write(tmp_path, "price,artist\n10,A\n"))


def test_bad_rows_can_be_skipped_and_the_rest_goes_on(tmp_path) -> None:
    path = _write(
        tmp_path,
        HEADER + "1,2020-01-01,A,oil,1,1,cm,yes\nx,2020-01-01,A,oil,1,1,cm,yes\n"
        "3,2021-01-01,A,oil,1,1,cm,yes\n",
    )
    skipped: list[SalesError] = []
    sales = read_sales(path, on_error=skipped.append)
    assert len(sales) == 2 and len(skipped) == 1 and skipped[0].row == 3 and skipped[0].column == "price"


def test_input_file_is_not_modified(tmp_path) -> None:
    path = _write(tmp_path, HEADER + "1,2020-01-01,A,oil,1,1,cm,yes\n")
    before = path.read_bytes()
    read_sales(path)
    assert path.read_bytes() == before


def test_parquet_and_csv_read_the_same(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"price": [10.0, 20.0], "date": ["2020-01-01", "2021-06-30"], "artist": ["A", "B"]})
    pq.write_table(table, tmp_path / "s.parquet")
    sales = read_sales(tmp_path / "s.parquet")
    assert sales.price.tolist() == [10.0, 20.0] and sales.artist.tolist() == ["A", "B"]


def test_works_need_no_price(tmp_path) -> None:
    sales = read_sales(_write(tmp_path, "artist,medium\nA,oil on canvas\n"), works=True)
    assert np.isnan(sales.price[0]) and sales.artist[0] == "A"
