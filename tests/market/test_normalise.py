"""Normalisation: currencies through a user table, sizes to centimetres, mediums to categories, premiums."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from artlens.market import SalesError, prepare, read_rates, read_sales
from artlens.market.mediums import medium_table_from_rows
from artlens.market.premiums import premium_table_from_rows


def test_currency_size_and_medium(tmp_path, small_medium_table) -> None:
    (tmp_path / "s.csv").write_text(
        "price,date,currency,medium,height,width,unit\n"
        "100,2020-01-01,GBP,oil on canvas,10,10,in\n"
        "100,2020-01-01,USD,bronze with brown patina,100,100,mm\n"
    )
    (tmp_path / "r.csv").write_text("currency,rate\nGBP,1.25\nUSD,1\n")
    p = prepare(read_sales(tmp_path / "s.csv"), rates=read_rates(tmp_path / "r.csv"))
    assert np.allclose(np.exp(p.log_price), [125.0, 100.0])
    assert np.allclose(np.exp(p.log_area), [25.4**2, 100.0])
    assert p.medium.tolist() == ["painting", "sculpture"]


def test_unknown_currency_names_row_and_column(tmp_path) -> None:
    (tmp_path / "s.csv").write_text("price,date,currency\n100,2020-01-01,USD\n100,2020-01-01,JPY\n")
    with pytest.raises(SalesError, match=r"row 3, column currency: currency 'JPY'"):
        prepare(read_sales(tmp_path / "s.csv"), rates={"USD": 1.0})


def test_several_currencies_need_a_table(tmp_path) -> None:
    (tmp_path / "s.csv").write_text("price,date,currency\n100,2020-01-01,USD\n100,2020-01-01,EUR\n")
    with pytest.raises(SalesError, match="--rates"):
        prepare(read_sales(tmp_path / "s.csv"))


def test_medium_words_classify_unseen_descriptions() -> None:
    table = medium_table_from_rows(
        [
            ("Sculpture", "bronze"),
            ("Sculpture", "patinated bronze"),
            ("Painting", "oil on canvas"),
            ("Painting", "oil on panel"),
            ("Photograh", "gelatin silver print"),
            ("", "unlabelled"),
        ]
    )
    assert table.category("Oil on canvas.") == "painting"  # exact, ignoring case and end punctuation
    assert table.category("bronze on a marble base") == "sculpture"  # by its words
    assert table.category("gelatin silver print, framed") == "photograph"  # the typo folded
    assert table.category("") == "other" and table.category("zzz qqq") == "other"


def test_premium_tiers_are_marginal() -> None:
    rows = [
        [
            "Auction House",
            "Location",
            "Date Started",
            "Date Ended",
            "Currency Code",
            "Tier 1",
            "Tier 2",
            "Tier 3",
            "Tier 4",
            "Overhead %",
            "Tier 1 %",
            "Tier 2 %",
            "Tier 3 %",
            "Tier 4 %",
        ],
        ["House", "London", "", "", "GBP", "1000", "1001", "10001", "-", "-", "0.25", "0.2", "0.1", "-"],
    ]
    table = premium_table_from_rows(rows)
    when = dt.date(2020, 1, 1)
    assert table.with_premium(500, "house", "London", when) == pytest.approx(625)
    assert table.with_premium(5000, "House", "London", when) == pytest.approx(5000 + 250 + 800)
    assert table.with_premium(20000, "House", "London", when) == pytest.approx(20000 + 250 + 1800 + 1000)
    assert table.with_premium(500, "Other", "London", when) is None


@pytest.mark.weights
def test_arttactic_tables_resolve_and_fit() -> None:
    from artlens.market import load_medium_table, load_premium_table

    table = load_medium_table()
    assert len(table.exact) > 30000
    assert table.category("watercolour on paper") == "work on paper"
    assert table.category("bronze with brown patina") == "sculpture"
    premiums = load_premium_table()
    assert premiums.with_premium(10000, "Christie's", "London", dt.date(2022, 6, 1)) > 12000


def test_hammer_prices_get_the_premium_where_the_table_knows_the_house(tmp_path, monkeypatch) -> None:
    from artlens.market import premiums

    rows = [["Auction House", "Location", "Date Started", "Date Ended", "Currency Code", "Tier 1", "Tier 2",
             "Tier 3", "Tier 4", "Overhead %", "Tier 1 %", "Tier 2 %", "Tier 3 %", "Tier 4 %"],
            ["House", "Paris", "", "", "EUR", "1000", "1001", "-", "-", "-", "0.25", "0.2", "-", "-"]]
    table = premium_table_from_rows(rows)
    monkeypatch.setattr(premiums, "load_premium_table", lambda path=None: table)
    (tmp_path / "s.csv").write_text("price,date,house,location\n2000,2020-01-01,House,Paris\n"
                                    "2000,2020-01-01,Elsewhere,Paris\n")
    p = prepare(read_sales(tmp_path / "s.csv"), add_premium=True)
    assert np.allclose(np.exp(p.log_price), [2000 + 250 + 200, 2000]) and p.premium_added == 1
