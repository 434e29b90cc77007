"""The faces of generation: ``artlens.generate(...)``, the CLI commands and ``POST /v1/generate``."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from typer.testing import CliRunner

import artlens
from artlens.cli.entry import app
from artlens.gan import GanModel, GanModelError, interpolate


def test_artlens_generate_returns_pil_images(tiny_model):
    images = artlens.generate(tiny_model, 5, seed=2)
    assert len(images) == 5 and all(isinstance(im, Image.Image) and im.size == (32, 32) for im in images)
    again = artlens.generate(tiny_model, 5, seed=2, truncation=None)
    assert [im.tobytes() for im in images] == [im.tobytes() for im in again]
    cut = artlens.generate(tiny_model, 5, seed=2, truncation=0.5)
    assert [im.tobytes() for im in cut] != [im.tobytes() for im in images]
    assert len(interpolate(tiny_model, 6, seed=1, keys=3)) == 11


def test_generate_writes_the_requested_count_and_sizes(tiny_model, tmp_path):
    result = CliRunner().invoke(app, ["generate", str(tiny_model), "-n", "7", "--out", str(tmp_path / "imgs"),
                                      "--grid", str(tmp_path / "grid.png"), "--json"])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "imgs").glob("*.png"))
    assert len(files) == 7 and all(Image.open(f).size == (32, 32) for f in files)
    assert Image.open(tmp_path / "grid.png").size[0] > 32 * 2
    walk = CliRunner().invoke(app, ["generate", str(tiny_model), "--interpolate", "4", "--out",
                                    str(tmp_path / "walk.gif")])
    assert walk.exit_code == 0, walk.output
    assert Image.open(tmp_path / "walk.gif").n_frames == 6  # there and back


def test_a_damaged_model_is_one_line_not_a_traceback(tiny_model, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((tiny_model / "config.json").read_text())
    (bad / "model.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(GanModelError, match="weights do not fit"):
        GanModel.load(bad)
    result = CliRunner().invoke(app, ["generate", str(bad), "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    with pytest.raises(GanModelError, match="not a GAN model folder"):
        GanModel.load(tmp_path)


def test_train_gan_command_trains_and_resumes(shapes_folder, tmp_path):
    args = ["train", "gan", str(shapes_folder), "--out", str(tmp_path / "m"), "--size", "32", "--width", "8",
            "--batch-size", "8", "--tick", "1", "--kimg", "0.008", "--quiet", "--json"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    args[args.index("0.008")] = "0.016"
    second = CliRunner().invoke(app, [*args, "--resume"])
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["steps"] == 2


@pytest.mark.weights
@pytest.mark.slow
def test_evaluate_gan_follows_its_schema(tiny_model, shapes_folder):
    import jsonschema

    from artlens.schemas.read import read_schema

    result = CliRunner().invoke(app, ["evaluate", "gan", str(tiny_model), str(shapes_folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    jsonschema.validate(report, read_schema("gan-evaluation"))
    assert report["real_images"] == 48 and report["generated_images"] == 50
    assert report["kid"] > 0 and report["memorisation"]["near_copies"] == 0
    assert 0 <= report["precision"] <= 1 and 0 <= report["recall"] <= 1 and report["precision_recall_k"] == 3
    assert report["memorisation"]["nearest"][0]["train_file"].endswith(".png")
    assert report["features"] == "efficientnet_lite0"
    other = CliRunner().invoke(app, ["evaluate", "gan", str(tiny_model), str(shapes_folder), "--json",
                                     "--features", "mobilenet_v2"])
    assert other.exit_code == 0, other.output
    second = json.loads(other.stdout)
    jsonschema.validate(second, read_schema("gan-evaluation"))
    assert second["features"] == "mobilenet_v2" and second["kid"] != report["kid"]
    tight = CliRunner().invoke(app, ["evaluate", "gan", str(tiny_model), str(shapes_folder),
                                     "--max-pixels", "100"])  # every 40x40 shape is over the limit
    assert tight.exit_code != 0 and "above the" in tight.output  # each file named, then refused:
    assert "0 readable image" in str(tight.exception)  # (python -m artlens prints it as one line)
    bad = CliRunner().invoke(app, ["evaluate", "gan", str(tiny_model), str(shapes_folder),
                                   "--features", "vgg"])
    assert bad.exit_code == 2 and "mobilenet_v2" in bad.output


@pytest.fixture
def service(make_service, tiny_model):
    return make_service(gans={"shapes": tiny_model})


def test_generate_route_runs_a_job_and_serves_the_grid(service, finished_job):
    client, auth = service
    assert client.get("/v1/gans", headers=auth).json()["gans"]["shapes"]["size"] == 32
    response = client.post("/v1/generate", headers=auth, json={"model": "shapes", "n": 4, "seed": 1})
    assert response.status_code == 202, response.text
    job_id = response.json()["job"]["id"]
    job = finished_job(client, auth, job_id)
    assert job["status"] == "done", job
    summary = client.get(f"/v1/results/{job_id}", headers=auth).json()
    assert summary["schema"] == "artlens.generated/1" and summary["n"] == 4
    grid = client.get(summary["files"]["grid"], headers=auth)
    assert grid.status_code == 200 and grid.headers["content-type"] == "image/png"
    assert client.post("/v1/generate", headers=auth, json={"model": "nope"}).status_code == 404
    assert client.post("/v1/generate", headers=auth, json={"model": "shapes", "n": 500}).status_code == 422
    assert client.post("/v1/generate", json={"model": "shapes"}).status_code == 401


def test_panel_script_calls_only_generation_routes_and_writes_text_only():
    import re

    from artlens.serve.routes.meta import STATIC_DIR

    js = (STATIC_DIR / "generate.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js
    assert set(re.findall(r"'(/v1/[a-z/]+)", js)) == {"/v1/gans", "/v1/generate"}
    assert "`/v1/jobs/${" in js and "`/v1/results/${" in js and "Bearer" in js


def test_a_missing_folder_is_named_before_training(tmp_path):
    result = CliRunner().invoke(app, ["train", "gan", str(tmp_path / "gone"), "--out", str(tmp_path / "m"),
                                      "--kimg", "1"])
    assert result.exit_code == 1 and "gone: no such file or folder" in result.stderr
