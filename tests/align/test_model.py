"""The alignment with its real towers (MobileNetV2 and MiniLM) and heads trained here on coloured shapes."""

from pathlib import Path

import jsonschema
import numpy as np
import pytest
from PIL import Image

from artlens.align.describe import describe_path
from artlens.align.heads import save_heads
from artlens.align.image import image_features
from artlens.align.model import load_align_model
from artlens.align.tag import tag_paths, zero_shot_paths
from artlens.align.text import get_text_encoder
from artlens.align.textsearch import rank_by_text
from artlens.align.train.recipe import AlignSettings, TrainingSet, train_heads
from artlens.errors import ConfigError
from artlens.schemas import read_schema

from .conftest import COLOURS, draw

pytestmark = [pytest.mark.weights, pytest.mark.slow]


@pytest.fixture(scope="module")
def model(shapes_train, tmp_path_factory):
    images, colours, shapes = shapes_train
    caps = [[f"{c} {s}", f"a {c} {s}", f"a {c} thing", c] for c, s in zip(colours, shapes, strict=True)]
    feats = image_features(images)
    data = TrainingSet(feats, caps)
    heads, _ = train_heads(data, data, get_text_encoder().encode,
                           AlignSettings(epochs=25, batch_size=32, lr=3e-3, embed_dim=64, hidden=128,
                                         imagenet_weight=0.0))
    folder = tmp_path_factory.mktemp("align") / "heads"
    save_heads(heads, folder)
    return load_align_model(folder)


@pytest.fixture(scope="module")
def gallery(shapes_test, tmp_path_factory):
    images, colours, _ = shapes_test
    folder = tmp_path_factory.mktemp("gallery")
    paths = []
    for i, (im, c) in enumerate(zip(images, colours, strict=True)):
        path = folder / f"{i:03d}-{c}.png"
        Image.fromarray(im).save(path)
        paths.append(path)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return folder, paths, colours


def test_minilm_places_related_sentences_closer():
    vec = get_text_encoder().encode(["a dog", "a puppy", "a car"])
    assert np.allclose(np.linalg.norm(vec, axis=1), 1, atol=1e-5)
    assert vec[0] @ vec[1] > vec[0] @ vec[2]


def test_a_colour_query_ranks_that_colour_first(model, gallery):
    _, paths, _colours = gallery
    emb, kept, skipped = model.embed_files(paths)
    assert not skipped and kept == list(range(len(paths)))
    for colour in COLOURS:
        hits = rank_by_text(model, emb, [str(p) for p in paths], f"a {colour} thing", k=3)
        assert all(f"-{colour}" in h["path"] for h in hits), (colour, hits)
    with pytest.raises(ConfigError):
        rank_by_text(model, emb, [str(p) for p in paths], "  ")


def test_tag_report_is_schema_valid_and_reports_bad_files(model, gallery):
    folder, _, _ = gallery
    report = tag_paths([folder], vocabulary=list(COLOURS), top_k=2, model=model)
    jsonschema.validate(report, read_schema("tag"))
    assert [Path(e["path"]).name for e in report["errors"]] == ["broken.png"]
    right = sum(Path(im["path"]).stem.split("-")[1] == im["tags"][0]["tag"] for im in report["images"])
    assert right / len(report["images"]) > 0.5


def test_zero_shot_report(model, gallery):
    folder, _, _colours = gallery
    report = zero_shot_paths([folder], list(COLOURS), model=model)
    jsonschema.validate(report, read_schema("zeroshot"))
    accuracy = np.mean([Path(im["path"]).stem.split("-")[1] == im["label"] for im in report["images"]])
    assert accuracy >= 2 / len(COLOURS)
    with pytest.raises(ConfigError):
        zero_shot_paths([folder], ["red"], model=model)


def test_describe_record(model, tmp_path):
    path = tmp_path / "shape.png"
    Image.fromarray(draw("red", "square", seed=5, size=160)).save(path)
    record = describe_path(path, model=model)
    jsonschema.validate(record, read_schema("describe"))
    assert record["palette"][0]["name"] in ("white", "red")
    assert record["sentence"].endswith(".")


def test_index_keeps_aligned_vectors_and_searches_by_text(model, gallery, tmp_path):
    from artlens.align.indexed import aligned_vectors, search_text, update_aligned
    from artlens.search.index import SearchIndex

    folder, paths, _ = gallery
    with SearchIndex.create(tmp_path / "idx") as index:
        index.update([folder])
        with pytest.raises(ConfigError, match="no aligned embeddings"):
            search_text(index, "a red thing", model=model)
        first = update_aligned(index, model)
        assert first["embedded"] == len(paths)
        assert update_aligned(index, model)["embedded"] == 0  # kept, not made again
        found, vectors = aligned_vectors(index, model)
        assert len(found) == len(paths) and vectors.shape[0] == len(paths)
        report = search_text(index, "a blue thing", 4, model=model)
    jsonschema.validate(report, read_schema("textsearch"))
    assert all("-blue" in r["path"] for r in report["results"][:3])


def test_an_index_made_with_other_heads_asks_to_be_rebuilt(model, gallery, tmp_path):
    from artlens.align.indexed import search_text, update_aligned
    from artlens.align.model import AlignModel
    from artlens.search.index import SearchIndex

    folder, _, _ = gallery
    newer = AlignModel(model.heads, fingerprint="heads-of-a-later-round")  # e.g. the first round's index
    with SearchIndex.create(tmp_path / "idx") as index:
        index.update([folder])
        update_aligned(index, model)
        with pytest.raises(ConfigError, match=r"other alignment heads; run `artlens index build") as err:
            search_text(index, "a red thing", model=newer)
        assert "\n" not in str(err.value)
        assert update_aligned(index, newer)["embedded"] > 0  # rebuilding replaces the old vectors
        assert search_text(index, "a red thing", model=newer)["results"]
