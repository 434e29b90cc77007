"""The text commands: write with a style model (text and JSON), train text on a file."""

from __future__ import annotations

import json

import jsonschema
from typer.testing import CliRunner

from artlens.cli import app
from artlens.schemas import read_schema

runner = CliRunner()


def test_write_prints_text_and_json(tiny_text_model) -> None:
    result = runner.invoke(app, ["write", "poem", "--about", "the sea", "--style", str(tiny_text_model),
                                 "--lines", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("The sea")
    result = runner.invoke(app, ["write", "caption", "--style", str(tiny_text_model), "--json"])
    record = json.loads(result.stdout)
    jsonschema.validate(record, read_schema("write"))
    assert record["kind"] == "caption"


def test_write_refuses_an_unknown_kind_in_one_line(tiny_text_model) -> None:
    result = runner.invoke(app, ["write", "sonnet", "--style", str(tiny_text_model)])
    assert result.exit_code != 0 and "kind must be one of" in str(result.exception or result.output)


def test_train_text_writes_a_model(toy_corpus, tmp_path) -> None:
    out = tmp_path / "model"
    result = runner.invoke(app, ["train", "text", str(toy_corpus), "--out", str(out), "--epochs", "1",
                                 "--steps", "3", "--batch-size", "4", "--window", "16", "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["model"] == str(out) and (out / "model.safetensors").is_file()


def test_train_text_from_the_poetry_recipe_with_options(toy_corpus, tmp_path) -> None:
    out = tmp_path / "subword"
    result = runner.invoke(app, ["train", "text", str(toy_corpus), "--out", str(out), "--recipe", "poetry",
                                 "--vocab", "300", "--embed", "8", "--hidden", "16", "--epochs", "1",
                                 "--steps", "2", "--batch-size", "4", "--window", "8", "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert config["tokens"] == "bpe" and config["vocab"] == 300 and config["tie"] and config["hidden"] == 16
    assert (out / "tokenizer.json").is_file()
    bad = runner.invoke(app, ["train", "text", str(toy_corpus), "--recipe", "haiku"])
    assert bad.exit_code != 0 and "recipe must be one of char, poetry" in str(bad.exception or bad.output)
