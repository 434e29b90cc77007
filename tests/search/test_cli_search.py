"""The search commands: index build/add/remove/info, similar, duplicates, recommend."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from artlens.cli import app
from artlens.errors import ArtlensError

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=True)


def test_index_commands_similar_duplicates_recommend(tmp_path: Path, collection: dict) -> None:
    images = tmp_path / "images"
    shutil.copytree(collection["folder"], images)
    (images / "zz-broken.png").write_bytes(b"not an image at all")
    idx = tmp_path / "idx"

    built = invoke("index", "build", images, "--index", idx, "--quiet", "--json")
    assert built.exit_code == 1  # one unreadable file; the rest is indexed
    assert "zz-broken.png" in built.stderr and len(built.stderr.strip().splitlines()) == 1
    data = json.loads(built.stdout)
    assert data["update"]["added"] == 14 and data["index"]["items"] == 14
    (images / "zz-broken.png").unlink()

    again = invoke("index", "build", images, "--index", idx, "--json", "--quiet")
    assert again.exit_code == 0 and json.loads(again.stdout)["update"]["unchanged"] == 14

    info = invoke("index", "info", idx, "--json")
    assert json.loads(info.stdout)["vectors"]["content"]["kind"] == "flat"

    similar = invoke("similar", idx, images / "astronaut.jpg", "-k", "2", "--json")
    assert similar.exit_code == 0, similar.output
    names = {Path(r["path"]).name for r in json.loads(similar.stdout)["queries"][0]["results"]}
    assert names == {"astronaut-small.jpg", "astronaut-q30.jpg"}
    table = invoke("similar", idx, images / "astronaut.jpg", "-k", "2")  # not a terminal: tab-separated
    lines = table.stdout.splitlines()
    assert lines[0] == "query\trank\tsimilar image\tcosine" and len(lines) == 3
    assert {Path(line.split("\t")[2]).name for line in lines[1:]} == names
    assert [line.split("\t")[1] for line in lines[1:]] == ["1", "2"]
    page = tmp_path / "similar.html"
    html = invoke("similar", idx, images / "coffee.jpg", tmp_path / "nope.jpg", "--out", page, "--quiet")
    assert html.exit_code == 1 and "nope.jpg" in html.stderr  # a bad query is reported, the others answered
    assert page.read_text().count("data:image/jpeg;base64,") == 11

    csv_file = tmp_path / "dups.csv"
    dups = invoke("duplicates", idx, "--format", "csv", "--out", csv_file, "--no-assess", "--quiet")
    assert dups.exit_code == 0 and len(csv_file.read_text().splitlines()) == 1 + 7
    groups = invoke("duplicates", idx, "--quiet").stdout.splitlines()
    as_json = json.loads(invoke("duplicates", idx, "--json", "--quiet").stdout)
    assert groups[0] == "group\tkind\tkeep (suggested)\twhy\tcopies"
    assert len(groups) == 1 + len(as_json["groups"])
    assert [g.split("\t")[2] for g in groups[1:]] == [g["keep"] for g in as_json["groups"]]
    assert [g.split("\t")[3] for g in groups[1:]] == [g["keep_reason"] for g in as_json["groups"]]
    assert len(list(images.iterdir())) == 14  # nothing deleted

    profile = tmp_path / "user.json"
    rec = invoke("recommend", idx, "--liked", images / "astronaut.jpg", images / "rocket.jpg",
                 "--disliked", images / "coins.jpg", "-k", "5", "--diversity", "0.5", "--profile", profile,
                 "--json")
    assert rec.exit_code == 0, rec.output
    result = json.loads(rec.stdout)
    assert (result["profile"]["liked"], result["profile"]["disliked"], len(result["results"])) == (2, 1, 5)
    names = {Path(r["path"]).name for r in result["results"]}
    assert not names & {"astronaut.jpg", "rocket.jpg", "coins.jpg"}
    more = invoke("recommend", idx, "--liked", images / "coffee.jpg", "--profile", profile, "-k", "3")
    rows = [line.split("\t") for line in more.stdout.splitlines()]
    assert rows[0] == ["rank", "recommended image", "relevance"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert len(json.loads(profile.read_text())["liked"]) == 3

    removed = invoke("index", "remove", images / "coffee-crop.jpg", "--index", idx, "--json", "--quiet")
    assert removed.exit_code == 0 and json.loads(removed.stdout)["index"]["items"] == 13
    add = invoke("index", "add", images / "coffee-crop.jpg", "--index", idx, "--json", "--quiet")
    assert json.loads(add.stdout)["update"]["added"] == 1

    style = invoke("similar", idx, images / "coffee.jpg", "--by", "style")
    assert isinstance(style.exception, ArtlensError) and "style" in str(style.exception)


def test_empty_index_is_a_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (tmp_path / "none").mkdir()
    result = subprocess.run([sys.executable, "-m", "artlens", "index", "build", str(tmp_path / "none"),
                             "--index", str(empty), "--quiet"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "artlens", "similar", str(empty), "x.jpg"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "is empty" in result.stderr
