"""The market commands end to end: simulate, fit, value, trends; bad input is one line naming row and
column; a damaged model folder is a message, not a traceback."""

from __future__ import annotations

import json

import jsonschema
from typer.testing import CliRunner

from artlens.cli import app
from artlens.schemas import read_schema

runner = CliRunner()


def test_simulate_fit_value_trends(tmp_path, pictures) -> None:
    sim = tmp_path / "sim"
    made = runner.invoke(
        app,
        [
            "market",
            "simulate",
            "--out",
            str(sim),
            "--works",
            "300",
            "--artists",
            "8",
            "--years",
            "5",
            "--images",
            str(pictures[0].parent),
            "--pool",
            "12",
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert summary["pictures"] == 12 and summary["repeat_sales"] > 0

    model = tmp_path / "model"
    fitted = runner.invoke(
        app,
        [
            "market",
            "fit",
            str(sim / "sales.csv"),
            "--rates",
            str(sim / "rates.csv"),
            "--out",
            str(model),
            "--no-images",
            "--origins",
            "1",
            "--iterations",
            "40",
            "--quiet",
            "--json",
        ],
    )
    assert fitted.exit_code == 0, fitted.output
    report = json.loads(fitted.stdout)
    jsonschema.validate(report, read_schema("market-fit"))
    assert set(report["latest"]["models"]) == {"mean price", "hedonic", "boosting"}

    works = tmp_path / "works.csv"
    works.write_text(
        "artist,title,medium,height,width,year_created\n"
        "Artist 001,New work,oil on canvas,80,60,1990\n"
        "Nobody,Unknown,lithograph in colours,30,20,\n",
        encoding="utf-8",
    )
    valued = runner.invoke(app, ["market", "value", str(model), str(works), "--json"])
    assert valued.exit_code == 0, valued.output
    answer = json.loads(valued.stdout)
    jsonschema.validate(answer, read_schema("market-value"))
    first, second = answer["works"]
    assert first["low"] <= first["estimate"] <= first["high"] and first["known_artist"]
    assert not second["known_artist"] and {d["group"] for d in first["drivers"]} >= {
        "artist",
        "medium",
        "size",
    }
    assert first["models"]["hedonic"] > second["models"]["hedonic"]  # a large oil above a small print

    page, table = tmp_path / "trends.html", tmp_path / "trends.csv"
    trends = runner.invoke(
        app,
        [
            "market",
            "trends",
            str(sim / "sales.csv"),
            "--rates",
            str(sim / "rates.csv"),
            "--html",
            str(page),
            "--csv",
            str(table),
        ],
    )
    assert trends.exit_code == 0, trends.output
    assert "period\thedonic" in trends.stdout and "(forecast)" in trends.stdout
    assert page.read_text(encoding="utf-8").count("<svg") >= 3
    assert table.read_text(encoding="utf-8").startswith("group,period,kind")


def test_bad_cell_is_one_line_naming_row_and_column(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("price,date\n10,2020-01-01\n12,yesterday\n", encoding="utf-8")
    result = runner.invoke(app, ["market", "trends", str(bad)])
    assert result.exit_code != 0
    message = str(result.exception)  # artlens.cli.entry.main prints it as one line
    assert "row 3, column date" in message and "\n" not in message


def test_damaged_model_folder_is_an_error_message(tmp_path) -> None:
    from artlens.market import MarketModelError, load_market_model

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.json").write_text("{not json", encoding="utf-8")
    (folder / "data.npz").write_bytes(b"garbage")
    try:
        load_market_model(folder)
    except MarketModelError as exc:
        assert "model.json" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("a damaged model loaded")
    (folder / "model.json").write_text(json.dumps({"schema": "artlens.market-model/1", "data_sha256": "0"}))
    try:
        load_market_model(folder)
    except MarketModelError as exc:
        assert "data.npz" in str(exc) and "SHA-256" in str(exc)
