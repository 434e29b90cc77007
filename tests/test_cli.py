"""The command line: versions, doctor, weights, policy and assess exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlens import __version__, weights


def artlens(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "artlens", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, check=False)


def test_version_and_help() -> None:
    result = artlens("--version")
    assert result.returncode == 0 and __version__ in result.stdout
    result = artlens("--help")
    assert result.returncode == 0
    for command in ("assess", "doctor", "weights", "policy"):
        assert command in result.stdout


def test_doctor_json_reports_the_installation() -> None:
    result = artlens("doctor", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["versions"]["artlens"] == __version__
    assert info["versions"]["torch"].startswith("2.14.1")
    assert info["device"] in {"cpu", "cuda"} or info["device"].startswith("cuda")
    assert info["cpu_cores"] >= 1 and info["torch_threads"] >= 1
    assert {w["name"] for w in info["weights"]} == set(weights.REGISTRY)


def test_weights_list_and_verify_offline_empty_cache(tmp_path: Path) -> None:
    env = {"ARTLENS_CACHE": str(tmp_path / "cache"), "TORCH_HOME": str(tmp_path / "torch"),
           "ARTLENS_OFFLINE": "1", "ARTLENS_WEIGHTS_DIR": ""}
    listed = json.loads(artlens("weights", "list", "--json", env=env).stdout)
    assert {row["name"] for row in listed} == set(weights.REGISTRY)
    assert all(row["state"] == "missing" for row in listed)
    result = artlens("weights", "verify", "mobilenet_v2", env=env)
    assert result.returncode == 1 and "missing" in result.stdout
    fetched = artlens("weights", "fetch", "mobilenet_v2", "--quiet", env=env)
    assert fetched.returncode == 1
    assert "skipped (offline)" in fetched.stderr and "mobilenet_v2" in fetched.stderr


def test_policy_commands(tmp_path: Path) -> None:
    assert "amazon" in artlens("policy", "list").stdout
    shown = artlens("policy", "show", "amazon")
    assert shown.returncode == 0 and "background_white" in shown.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  prodct_fill: {min: 0.9}\n")
    checked = artlens("policy", "check", str(bad))
    assert checked.returncode == 2 and "prodct_fill" in checked.stderr and "product_fill" in checked.stderr


def test_assess_exit_codes_and_one_line_errors(tmp_path: Path, photos: dict[str, np.ndarray]) -> None:
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    Image.fromarray(photos["coffee"]).save(inputs / "sub" / "coffee.jpg")
    (inputs / "broken.jpg").write_text("not an image")
    db = str(tmp_path / "r.db")
    result = artlens("assess", str(inputs), "--db", db, "--quiet", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [Path(im["path"]).name for im in report["images"]] == ["coffee.jpg"]
    error_lines = [ln for ln in result.stderr.splitlines() if "broken.jpg" in ln]
    assert len(error_lines) == 1

    sorted_dir = tmp_path / "sorted"
    gated = artlens("assess", str(inputs), "--policy", "amazon", "--db", db, "--fail-on", "review",
                    "--sort-into", str(sorted_dir))
    assert gated.returncode == 3  # the gate holds although broken.jpg could not be read
    assert "broken.jpg" in gated.stderr
    assert (sorted_dir / "fail" / "sub" / "coffee.jpg").is_file()  # the folder below the input is kept
    assert (sorted_dir / "unreadable" / "broken.jpg").read_text() == "not an image"
    assert gated.stdout.splitlines()[0] == "image\tverdict\tquality\treasons"  # a pipe: plain columns
    assert gated.stdout.splitlines()[1].split("\t")[:2] == [str(inputs / "sub" / "coffee.jpg"), "FAIL"]
    coffee = str(inputs / "sub" / "coffee.jpg")

    csv_path = tmp_path / "r.csv"
    ok = artlens("assess", coffee, "--db", db, "--quiet", "--out", str(csv_path))
    assert ok.returncode == 0 and csv_path.read_text().startswith("path,")

    failing = artlens("assess", coffee, "--policy", "amazon", "--db", db, "--quiet",
                      "--fail-on", "fail", "--json")
    assert failing.returncode == 3  # a cluttered photo fails Amazon's white-background rule

    bad_policy = artlens("assess", coffee, "--policy", "nope.yaml", "--no-db")
    assert bad_policy.returncode == 2
    assert bad_policy.stderr.strip().count("\n") == 0 and "nope.yaml" in bad_policy.stderr
    assert "Traceback" not in bad_policy.stderr

    missing = artlens("assess", str(tmp_path / "missing.jpg"), "--no-db", "--quiet", "--json")
    assert missing.returncode == 1 and "missing.jpg" in missing.stderr


@pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                    reason="mobilenet_v2 weights not verified in the cache (make weights)")
def test_train_evaluate_and_assess_with_own_quality_model(tmp_path: Path) -> None:
    from skimage import data

    rows = ["path,label"]
    for i, photo in enumerate((data.astronaut(), data.coffee(), data.chelsea(), data.rocket())):
        small = photo[::4, ::4]
        for j in range(2):
            crop = np.ascontiguousarray(small[j * 8:, j * 8:])
            Image.fromarray(crop).save(tmp_path / f"good{i}{j}.png")
            blurred = np.asarray(Image.fromarray(crop).resize((crop.shape[1] // 8, crop.shape[0] // 8))
                                 .resize((crop.shape[1], crop.shape[0])))
            Image.fromarray(blurred).save(tmp_path / f"bad{i}{j}.png")
            rows += [f"good{i}{j}.png,good", f"bad{i}{j}.png,bad"]
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    model = tmp_path / "model"
    trained = artlens("train", "quality", "--labels", str(labels), "--out", str(model), "--epochs", "40",
                      "--quiet", "--json", env={"ARTLENS_THREADS": "1"})
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["task"] == "classes"
    # without --json, in a pipe: the validation as plain columns on stdout, counts whole, per class left out
    shown = artlens("train", "quality", "--labels", str(labels), "--out", str(tmp_path / "m2"),
                    "--epochs", "40",
                    env={"ARTLENS_THREADS": "1"})
    assert shown.returncode == 0, shown.stderr
    rows = dict(line.split("\t") for line in shown.stdout.splitlines())
    assert rows["metric"] == "held-out split" and rows["n"] == "4"
    assert 0.0 <= float(rows["accuracy"]) <= 1.0 and not any(k.startswith("per_class") for k in rows)
    png = tmp_path / "cm.png"
    evaluated = artlens("evaluate", "quality", str(model), "--labels", str(labels), "--confusion", str(png),
                        "--json", env={"ARTLENS_THREADS": "1"})
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["metrics"]["accuracy"] >= 0.75 and png.is_file()
    assessed = artlens("assess", str(tmp_path / "good00.png"), str(tmp_path / "bad00.png"), "--quality-model",
                       str(model), "--no-db", "--quiet", "--json", "--workers", "1")
    assert assessed.returncode == 0, assessed.stderr
    quality = {Path(im["path"]).stem: im["scores"]["quality"] for im in json.loads(assessed.stdout)["images"]}
    assert quality["good00"] > quality["bad00"]
    both = artlens("train", "quality", "--out", str(model))
    assert both.returncode == 2 and "exactly one of --pristine and --labels" in both.stderr
    recipe_for_labels = artlens("train", "quality", "--labels", str(labels), "--out", str(model),
                                "--set", "max_size=768")
    assert recipe_for_labels.returncode == 2 and "--pristine recipe" in recipe_for_labels.stderr
    unknown = artlens("train", "quality", "--pristine", str(tmp_path), "--out", str(model),
                      "--set", "crops=9")
    assert unknown.returncode != 0 and "'crops=9'" in unknown.stderr and "max_size" in unknown.stderr
    twice = artlens("train", "quality", "--pristine", str(tmp_path), "--out", str(model), "--seed", "3",
                    "--set", "seed=4")
    assert twice.returncode == 2 and "--seed and --set seed=... both given" in twice.stderr


def test_assess_table_marks_reasons_that_only_ask_for_review() -> None:
    from artlens.cli.quality import _reasons_cell

    colour = {"pass": "green", "review": "yellow", "fail": "red"}
    image = {"verdict": "fail", "reasons": ["fill [low]", "blurry"],
             "reason_checks": [{"id": "product_fill", "status": "fail", "message": "fill [low]"},
                               {"id": "sharpness", "status": "review", "message": "blurry"}]}
    assert _reasons_cell(image, colour) == r"[red]fill \[low][/]; [yellow]review: blurry[/]"
    older = {"verdict": "review", "reasons": ["blurry"]}  # a stored report from before reason_checks
    assert _reasons_cell(older, colour) == "[yellow]blurry[/]"
