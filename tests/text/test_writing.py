"""write(): the four kinds with the style LSTM and the prompted model, grounding, the artlens.write/1
schema."""

from __future__ import annotations

import jsonschema
import numpy as np
import pytest

from artlens.errors import ConfigError
from artlens.schemas import read_schema
from artlens.text import Grounding, WriteRequest, build_prompt, write

SCHEMA = read_schema("write")
GROUNDING = Grounding(labels=[{"label": "lakeside, lakeshore", "p": 0.6}, {"label": "boathouse", "p": 0.2}],
                      palette=[{"name": "navy", "hex": "#102040", "share": 0.5}])


@pytest.fixture
def no_backbone(monkeypatch):
    """Grounding without the ImageNet backbone's weights: the record still carries what it saw."""
    monkeypatch.setattr("artlens.text.writing.ground_image", lambda image: GROUNDING)


@pytest.mark.parametrize("kind", ["poem", "story", "caption", "label"])
def test_every_kind_with_the_style_model(tiny_text_model, kind) -> None:
    record = write(WriteRequest(kind=kind, about="the harbour", style=str(tiny_text_model), seed=1))
    jsonschema.validate(record, SCHEMA)
    assert record["engine"] == "lstm" and record["text"].startswith("The harbour")
    assert record == write(WriteRequest(kind=kind, about="the harbour", style=str(tiny_text_model), seed=1))


def test_two_subjects_do_not_get_the_same_continuation(tiny_text_model) -> None:
    texts = {write(WriteRequest(about=about, style=str(tiny_text_model), lines=3))["text"].split("\n", 1)[1]
             for about in ("the harbour", "a white vase", "snow")}
    assert len(texts) == 3


@pytest.mark.parametrize("kind", ["poem", "caption"])
def test_the_prompted_model_about_an_image(tiny_llama, no_backbone, kind) -> None:
    image = np.full((32, 48, 3), 40, np.uint8)
    record = write(WriteRequest(kind=kind, max_new_tokens=6), image, prompted_path=str(tiny_llama))
    jsonschema.validate(record, SCHEMA)
    assert record["engine"] == "prompted" and "lakeside" in record["prompt"]
    assert record["grounding"]["labels"][0]["label"] == "lakeside, lakeshore"


def test_prompts_name_the_subject_and_the_grounding() -> None:
    prompt = build_prompt(WriteRequest(kind="label", about="a red chair"), GROUNDING)
    assert "gallery label" in prompt and "a red chair" in prompt
    assert "boathouse" in prompt and "navy" in prompt
    assert "8 lines" in build_prompt(WriteRequest(kind="poem"))


def test_bad_requests_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        WriteRequest(kind="sonnet").check()
    with pytest.raises(ConfigError, match="lines"):
        WriteRequest(lines=0).check()


@pytest.mark.weights
def test_grounding_names_labels_and_a_palette() -> None:
    from artlens.text import ground_image

    image = np.zeros((64, 64, 3), np.uint8)
    image[:, :32] = (200, 30, 30)
    grounding = ground_image(image, top_k=2, colours=2, tags=2)
    assert len(grounding.labels) == 2 and {c["name"] for c in grounding.palette} == {"red", "black"}
    assert grounding.describe().startswith("a picture showing ")
    # the alignment's content tags come first in the description when its text tower can run
    if grounding.tags:
        assert grounding.source == "align+imagenet+palette" and len(grounding.tags) == 2
        assert grounding.describe().startswith(f"a picture showing {grounding.tags[0]['tag']}")
    assert ground_image(image, top_k=1, colours=2, tags=0).source == "imagenet+palette"
