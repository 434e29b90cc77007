"""The JSON Schemas of the search outputs: similar, duplicates, recommend and the profile file."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from artlens.cli import app
from artlens.errors import ConfigError
from artlens.search.duplicates import find_duplicates
from artlens.search.index import SearchIndex
from artlens.search.keeper import KeepRule
from artlens.search.recommend import Profile, recommend
from artlens.search.report import load_schema
from artlens.search.similar import find_similar

NAMES = ("similar", "duplicates", "recommend", "profile")


@pytest.mark.parametrize("name", NAMES)
def test_schemas_are_draft_2020_12_with_their_ids(name: str) -> None:
    schema = load_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:artlens:schema:{name}:1"
    assert schema["properties"]["schema"]["const"] == f"artlens.{name}/1"


@pytest.fixture(scope="module")
def similar_report(built_index: Path, collection: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    missing = tmp_path_factory.mktemp("q") / "missing.jpg"
    with SearchIndex.open(built_index) as index:
        return find_similar(index, [collection["originals"]["astronaut"], collection["spare"], missing], k=3)


def test_similar_with_an_error_entry_is_valid(similar_report: dict) -> None:
    assert [q["indexed"] for q in similar_report["queries"]] == [True, False]
    assert len(similar_report["errors"]) == 1
    jsonschema.validate(similar_report, load_schema("similar"))


def test_similar_by_style_is_valid(built_index: Path, collection: dict) -> None:
    with SearchIndex.open(built_index) as index:
        report = find_similar(index, [collection["originals"]["coffee"]], k=2, by="style")
    jsonschema.validate(report, load_schema("similar"))


@pytest.mark.parametrize("settings", [{}, {"threshold": 0.8, "hash_threshold": -1,
                                          "keep": KeepRule(policy=None)}])
def test_duplicates_with_groups_are_valid(built_index: Path, settings: dict) -> None:
    with SearchIndex.open(built_index) as index:
        report = find_duplicates(index, **settings)
    assert report["groups"] and all(g["pairs"] for g in report["groups"])
    assessed = [m["assessment"] for g in report["groups"] for m in g["members"] if "assessment" in m]
    assert len(assessed) == (0 if settings else report["summary"]["in_groups"])  # the members, no more
    assert all(g["keep_reason"].startswith("kept: ") for g in report["groups"])
    if settings:  # only the visual level: every group is visual
        assert {g["kind"] for g in report["groups"]} == {"visual"}
    else:
        assert {"exact", "near-identical"} <= {g["kind"] for g in report["groups"]}
    jsonschema.validate(report, load_schema("duplicates"))


def test_recommend_and_profile_from_the_library_are_valid(built_index: Path, collection: dict,
                                                         tmp_path: Path) -> None:
    originals = collection["originals"]
    with SearchIndex.open(built_index) as index:
        report, profile = recommend(index, [originals["astronaut"], tmp_path / "gone.jpg"],
                                    [originals["coins"]], seen=[collection["extra"], tmp_path / "nope.jpg"],
                                    k=4, diversity=0.5)
    assert len(report["results"]) == 4 and len(report["errors"]) == 2
    jsonschema.validate(report, load_schema("recommend"))
    profile.save(tmp_path / "user.json")
    jsonschema.validate(json.loads((tmp_path / "user.json").read_text()), load_schema("profile"))
    fresh = Profile(backbone="mobilenet_v2", by="content", dim=1280)  # nothing rated yet: null sums
    fresh.save(tmp_path / "empty.json")
    jsonschema.validate(json.loads((tmp_path / "empty.json").read_text()), load_schema("profile"))


def test_recommend_from_the_cli_with_a_profile_file_is_valid(built_index: Path, collection: dict,
                                                            tmp_path: Path) -> None:
    profile = tmp_path / "user.json"
    result = CliRunner().invoke(app, ["recommend", str(built_index), "--liked",
                                      str(collection["originals"]["rocket"]), "-k", "3", "--profile",
                                      str(profile), "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["profile"]["file"] == str(profile)
    jsonschema.validate(report, load_schema("recommend"))
    jsonschema.validate(json.loads(profile.read_text()), load_schema("profile"))


def test_broken_documents_fail_validation(similar_report: dict, built_index: Path) -> None:
    with SearchIndex.open(built_index) as index:
        dups = find_duplicates(index, keep=KeepRule(technical=True))
    for name, original, change in [
        ("similar", similar_report, lambda d: d["queries"][0]["results"][0].update(score="high")),
        ("similar", similar_report, lambda d: d.update(note="not in the schema")),
        ("similar", similar_report, lambda d: d["errors"][0].pop("error")),
        ("duplicates", dups, lambda d: d["groups"][0].update(kind="similar")),
        # a visual link never carries a hash distance (hash links are recorded as near-identical)
        ("duplicates", dups,
         lambda d: d["groups"][0]["pairs"][0].update(match="visual", cosine=0.9, hamming=3)),
        ("duplicates", dups, lambda d: d["groups"][0]["members"][0]["assessment"].update(verdict="ok")),
        ("duplicates", dups, lambda d: d["groups"][0]["members"][0]["assessment"].update(error="x")),
        ("duplicates", dups, lambda d: d["groups"][0].update(keep_reason="")),
    ]:
        doc = copy.deepcopy(original)
        change(doc)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, load_schema(name))


def test_unknown_schema_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="no search schema"):
        load_schema("assess")
