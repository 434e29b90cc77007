"""`artlens stylize`: naming, folders, mixing, batch errors, presets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import artlens.cli.style  # noqa: F401  (registers the command)
from artlens.cli import app

pytestmark = pytest.mark.weights


@pytest.fixture()
def files(tmp_path, small_photo, painting, photos):
    (tmp_path / "content").mkdir()
    (tmp_path / "styles").mkdir()
    Image.fromarray(small_photo).save(tmp_path / "content" / "cat.jpg")
    Image.fromarray(photos["coffee"][::4, ::4]).save(tmp_path / "content" / "cup.png")
    Image.fromarray(painting).save(tmp_path / "styles" / "stripes.png")
    Image.fromarray(photos["rocket"][::4, ::4]).save(tmp_path / "styles" / "rocket.jpg")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    return tmp_path


def test_every_content_times_every_style(files) -> None:
    before = (files / "content" / "cat.jpg").read_bytes()
    result = CliRunner().invoke(app, ["stylize", str(files / "content"), "--style", str(files / "styles"),
                                      "-o", str(files / "out"), "--size", "64", "--json", "-q"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (files / "out").iterdir())
    assert names == ["cat__rocket.png", "cat__stripes.png", "cup__rocket.png", "cup__stripes.png"]
    assert max(Image.open(files / "out" / "cat__stripes.png").size) == 64
    assert (files / "content" / "cat.jpg").read_bytes() == before  # inputs are never modified


def test_mixing_and_single_file_output(files) -> None:
    out = files / "mixed.png"
    result = CliRunner().invoke(app, ["stylize", str(files / "content" / "cat.jpg"),
                                      "--style", f"{files / 'styles' / 'stripes.png'}:0.7",
                                      "--style", f"{files / 'styles' / 'rocket.jpg'}:0.3",
                                      "-o", str(out), "--size", "80", "--json", "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["outputs"][0]["output"] == str(out) and len(report["outputs"][0]["styles"]) == 2
    assert max(Image.open(out).size) == 80


def test_bad_input_is_one_line_and_the_batch_continues(files) -> None:
    cat = str(files / "content" / "cat.jpg")
    result = CliRunner().invoke(app, ["stylize", str(files / "broken.jpg"), cat, "--style", "preset:2",
                                      "-o", str(files / "out"), "--size", "48"])
    assert result.exit_code == 1
    assert "broken.jpg" in result.output and "Traceback" not in result.output
    assert (files / "out" / "cat__preset_02.png").is_file()
    assert np.asarray(Image.open(files / "out" / "cat__preset_02.png")).std() > 1


def test_list_presets() -> None:
    result = CliRunner().invoke(app, ["stylize", "--list-presets", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["presets"][25] == "preset_25"


def test_missing_weights_are_reported_not_raised(files, tmp_path, monkeypatch) -> None:
    import artlens.style.fast as fast

    monkeypatch.setattr(fast, "_stylizers", {})
    monkeypatch.setenv("ARTLENS_CACHE", str(tmp_path / "empty"))
    monkeypatch.setenv("ARTLENS_OFFLINE", "1")
    monkeypatch.delenv("ARTLENS_WEIGHTS_DIR", raising=False)
    result = CliRunner().invoke(app, ["stylize", str(files / "content" / "cat.jpg"), "--style", "preset:1",
                                      "-o", str(files / "o.png")])
    assert result.exit_code == 1
    assert "could not be resolved" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(("device", "provider", "noted"), [("cuda", False, True), ("cuda", True, False),
                                                            ("cpu", False, False)])
def test_fast_method_says_when_it_cannot_use_the_gpu(monkeypatch, capsys, device, provider, noted) -> None:
    import torch

    import artlens.models.backbones
    import artlens.style.fast
    from artlens.cli.style import _say_if_cuda_unused

    monkeypatch.setattr(artlens.models.backbones, "select_device", lambda prefer=None: torch.device(device))
    monkeypatch.setattr(artlens.style.fast, "has_cuda_provider", lambda: provider)
    _say_if_cuda_unused(None)
    assert ("onnxruntime-gpu" in capsys.readouterr().err) == noted


def test_output_keeps_the_content_size_and_its_path_is_printed(files) -> None:
    cat = files / "content" / "cat.jpg"
    out = files / "same.png"
    result = CliRunner().invoke(app, ["stylize", str(cat), "--style", "preset:2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out)]
    assert Image.open(out).size == Image.open(cat).size  # no --size: the photo's own size (151 x 100)
    capped = CliRunner().invoke(app, ["stylize", str(cat), "--style", "preset:2", "-o", str(files / "c.png"),
                                      "--size", "1000", "-q"])
    assert capped.exit_code == 0
    assert Image.open(files / "c.png").size == Image.open(cat).size  # never enlarged
    assert capped.stdout.splitlines() == [str(files / "c.png")]


def test_max_size_caps_without_enlarging(small_photo) -> None:
    from artlens.style import stylize

    assert stylize(small_photo, "preset:2", size=None).size == (151, 100)
    assert stylize(small_photo, "preset:2", size=None, max_size=64).size == (64, 42)
    assert stylize(small_photo, "preset:2", size=None, max_size=512).size == (151, 100)
    assert stylize(small_photo, "preset:2", size=302).size == (302, 200)  # an explicit size still sets it
