"""The music commands end to end with a tiny model: train, compose, harmonize."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from artlens.cli import app

runner = CliRunner()


def test_train_then_compose_then_harmonize(midi_folder, tmp_path) -> None:
    model = tmp_path / "model"
    trained = runner.invoke(app, ["train", "music", str(midi_folder), "--out", str(model), "--epochs", "1",
                                  "--hidden", "16", "--quiet", "--json"])
    assert trained.exit_code == 0, trained.output
    assert json.loads(trained.stdout)["model"] == str(model)

    composed = runner.invoke(app, ["compose", str(model), "--out", str(tmp_path / "p.mid"), "--bars", "2",
                                   "--key", "G", "--roll", str(tmp_path / "p.png"), "--json"])
    assert composed.exit_code == 0, composed.output
    summary = json.loads(composed.stdout)
    assert summary["schema"] == "artlens.music/1" and summary["key"] == "G major" and summary["bars"] == 2
    assert (tmp_path / "p.mid").is_file() and (tmp_path / "p.png").is_file()

    harmonized = runner.invoke(app, ["harmonize", str(model), str(midi_folder / "phrase01.mid"), "--out",
                                     str(tmp_path / "h.musicxml"), "--candidates", "2"])
    assert harmonized.exit_code == 0, harmonized.output
    assert (tmp_path / "h.musicxml").read_text(encoding="utf-8").count("<part ") == 4
    assert f"musicxml\t{tmp_path / 'h.musicxml'}" in harmonized.stdout  # the result table, as TSV in a pipe
    assert "key\t" in harmonized.stdout


def test_bad_inputs_are_one_line_errors(midi_folder, tmp_path) -> None:
    from artlens.cli import main  # noqa: F401 - the entry point turns errors into one line

    result = runner.invoke(app, ["compose", str(tmp_path / "no-model"), "--out", str(tmp_path / "p.mid")])
    assert result.exit_code != 0
    assert "not a music model folder" in str(result.exception)
    bad = runner.invoke(app, ["compose", "--out", str(tmp_path / "p.wav")])
    assert bad.exit_code != 0 and "write a .mid or .musicxml file" in str(bad.exception)
