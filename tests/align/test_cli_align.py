"""`artlens tag`, `describe` and `classify --zero-shot` end to end with the shipped alignment heads."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
from PIL import Image

from artlens.schemas import read_schema

from .conftest import draw

pytestmark = [pytest.mark.weights, pytest.mark.slow]


def artlens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "artlens", *args], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-align")
    for name, colour, shape in (("a", "red", "circle"), ("b", "blue", "square")):
        Image.fromarray(draw(colour, shape, seed=7, size=160)).save(folder / f"{name}.png")
    (folder / "bad.png").write_bytes(b"not an image")
    return folder


def test_tag_json_and_bad_file(images):
    result = artlens("tag", str(images), "--top-k", "3", "--json")
    assert result.returncode == 1  # one file could not be read
    report = json.loads(result.stdout)
    jsonschema.validate(report, read_schema("tag"))
    assert len(report["images"]) == 2 and all(len(im["tags"]) == 3 for im in report["images"])
    assert [e["path"].endswith("bad.png") for e in report["errors"]] == [True]
    assert "bad.png" in result.stderr


def test_describe_json(images):
    result = artlens("describe", str(images / "a.png"), "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    jsonschema.validate(record, read_schema("describe"))


def test_describe_an_unreadable_file_is_one_line(images):
    result = artlens("describe", str(images / "bad.png"))
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_zero_shot_classify(images):
    result = artlens("classify", "--zero-shot", "red thing,blue thing", str(images / "a.png"),
                     str(images / "b.png"), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    jsonschema.validate(report, read_schema("zeroshot"))
    assert report["labels"] == ["red thing", "blue thing"]
