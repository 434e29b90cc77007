"""``POST /v1/similar`` and ``POST /v1/recommend`` over a small index of generated and sample images."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens import weights

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
jsonschema = pytest.importorskip("jsonschema")

pytestmark = pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                                reason="mobilenet_v2 weights not verified in the local cache")


def _picture(seed: int) -> np.ndarray:
    """A made-up picture: a colour gradient, stripes and a few filled shapes."""
    rng = np.random.default_rng(seed)
    h, w = 128, 160
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(0, 255, 3) * (xx / w)[..., None] + rng.uniform(0, 255, 3) * (yy / h)[..., None]
    stripes = 60 * np.sin(rng.uniform(0.05, 0.4) * (xx + yy * rng.uniform(-1, 1)))[..., None]
    img = np.clip(base / 2 + stripes, 0, 255).astype(np.uint8)
    for _ in range(4):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(img, centre, int(rng.integers(8, 40)), colour, -1)
    return img


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory, photos):
    """(index folder, {name: indexed path}): five photos, four made-up pictures and an exact copy."""
    from artlens.search.index import SearchIndex

    folder = tmp_path_factory.mktemp("collection")
    arrays = {name: cv2.resize(rgb, (160, round(rgb.shape[0] * 160 / rgb.shape[1])))
              for name, rgb in photos.items()}
    arrays |= {f"pic{seed}": _picture(seed) for seed in range(4)}
    paths = {}
    for name, rgb in arrays.items():
        paths[name] = folder / f"{name}.png"
        Image.fromarray(rgb).save(paths[name])
    paths["astronaut-copy"] = folder / "astronaut-copy.png"
    paths["astronaut-copy"].write_bytes(paths["astronaut"].read_bytes())
    index_dir = tmp_path_factory.mktemp("index") / "idx"
    with SearchIndex.create(index_dir) as index:
        assert not index.update([folder]).errors
    return index_dir, {name: str(path.resolve()) for name, path in paths.items()}


@pytest.fixture
def search_client(make_client, indexed):
    """A client of the app with the index registered as ``art``, and its auth header."""
    c, token = make_client(indexes={"art": indexed[0]})
    return c, {"Authorization": f"Bearer {token}"}


def _schema(name: str) -> dict:
    from artlens.search.report import load_schema

    return load_schema(name)


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]["message"]


def test_similar_by_indexed_path(search_client, indexed):
    c, auth = search_client
    paths = indexed[1]
    queries = [paths["astronaut"], "/etc/passwd", "coins.png"]
    response = c.post("/v1/similar", headers=auth, json={"index": "art", "queries": queries, "k": 3})
    assert response.status_code == 200, response.text
    report = response.json()
    jsonschema.validate(report, _schema("similar"))
    assert report["index"] == "art" and report["k"] == 3 and report["by"] == "content"
    (query,) = report["queries"]
    assert query["indexed"] and query["path"] == paths["astronaut"]
    assert len(query["results"]) == 3
    assert query["results"][0]["path"] == paths["astronaut-copy"]  # identical bytes: the nearest
    assert paths["astronaut"] not in [r["path"] for r in query["results"]]  # the query itself left out
    assert [e["query"] for e in report["errors"]] == ["/etc/passwd", "coins.png"]  # not indexed: not read
    assert str(indexed[0]) not in response.text  # the index is named, its folder is not shown


def test_similar_by_upload(search_client, indexed, photos):
    c, auth = search_client
    crop = photos["chelsea"][40:-40, 60:-60]
    files = [("files", ("uploads/cat.png", _png(crop), "image/png")),
             ("files", ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"))]
    response = c.post("/v1/similar", headers=auth, files=files, data={"k": "2"})  # one index: no name needed
    assert response.status_code == 200, response.text
    report = response.json()
    jsonschema.validate(report, _schema("similar"))
    (query,) = report["queries"]
    assert query["query"] == query["path"] == "cat.png" and not query["indexed"]
    assert query["results"][0]["path"] == indexed[1]["chelsea"]
    assert [e["query"] for e in report["errors"]] == ["broken.png"]
    assert "artlens-upload" not in response.text
    assert not any(c.app.state.settings.upload_dir.iterdir())  # the private copies are gone
    text = [("files", ("a.png", b"not an image at all" * 10, "image/png"))]
    _error(c.post("/v1/similar", headers=auth, files=text), 422, "not_an_image")


def test_recommend_excludes_rated_and_seen(search_client, indexed):
    c, auth = search_client
    paths = indexed[1]
    body = {"index": "art", "liked": [paths["astronaut"], paths["pic0"]], "disliked": [paths["coins"]],
            "seen": [paths["pic1"], "/nowhere.png"], "k": 5, "diversity": 0.5}
    response = c.post("/v1/recommend", headers=auth, json=body)
    assert response.status_code == 200, response.text
    report = response.json()
    jsonschema.validate(report, _schema("recommend"))
    assert report["index"] == "art" and report["k"] == 5 and report["diversity"] == 0.5
    assert report["profile"] == {"liked": 2, "disliked": 1, "seen": 1, "excluded_items": 5}
    shown = [r["path"] for r in report["results"]]
    assert len(shown) == 5 and [r["rank"] for r in report["results"]] == [1, 2, 3, 4, 5]
    # rated and seen items are never recommended, nor the copy with the liked astronaut's bytes
    assert not {paths[n] for n in ("astronaut", "astronaut-copy", "pic0", "coins", "pic1")} & set(shown)
    assert [e["query"] for e in report["errors"]] == ["/nowhere.png"]


def test_unknown_index_is_404(search_client, indexed):
    c, auth = search_client
    path = indexed[1]["coffee"]
    assert "art" in _error(c.post("/v1/similar", headers=auth, json={"index": "nope", "queries": [path]}),
                           404, "unknown_index")
    _error(c.post("/v1/recommend", headers=auth, json={"index": "nope", "liked": [path]}), 404,
           "unknown_index")
    files = [("files", ("a.png", _png(_picture(7)), "image/png"))]
    _error(c.post("/v1/similar", headers=auth, files=files, data={"index": "nope"}), 404, "unknown_index")


def test_bad_fields_are_422(search_client, indexed):
    c, auth = search_client
    path = indexed[1]["coffee"]
    for body in ({"queries": [path], "k": 0}, {"queries": [path], "k": 10_000}, {"queries": []},
                 {"queries": [path], "by": "colour"}, {"queries": [path], "extra": 1}):
        _error(c.post("/v1/similar", headers=auth, json=body), 422, "invalid_input")
    _error(c.post("/v1/similar", headers=auth, json={"queries": [path], "by": "style"}), 422,
           "invalid_input")  # this index has no style vectors
    for body in ({"liked": [path], "diversity": 1.5}, {"liked": [path], "diversity": -0.1},
                 {"liked": [path], "k": 0}, {"liked": []}):
        _error(c.post("/v1/recommend", headers=auth, json=body), 422, "invalid_input")
    _error(c.post("/v1/recommend", headers=auth, json={"liked": ["/etc/passwd"]}), 422, "no_liked")
    files = [("files", ("a.png", _png(_picture(7)), "image/png"))]
    for data in ({"k": "many"}, {"k": "0"}, {"by": "colour"}, {"profile": "/tmp/p.json"}):
        _error(c.post("/v1/similar", headers=auth, files=files, data=data), 422, "invalid_input")
    _error(c.post("/v1/recommend", headers=auth, files=files), 415, "unsupported_media_type")


def test_auth_required(search_client, indexed):
    c, _auth = search_client
    body = {"queries": [indexed[1]["coffee"]]}
    for headers in ({}, {"Authorization": "Bearer alk_00000000_nope"}):
        _error(c.post("/v1/similar", headers=headers, json=body), 401, "unauthorized")
        _error(c.post("/v1/recommend", headers=headers, json={"liked": body["queries"]}), 401, "unauthorized")
        _error(c.get("/v1/indexes", headers=headers), 401, "unauthorized")


def test_indexes_listed_and_none_registered(search_client, make_client, indexed):
    c, auth = search_client
    listed = c.get("/v1/indexes", headers=auth).json()["indexes"]
    assert listed == {"art": {"items": 10, "backbone": "mobilenet_v2", "by": ["content"]}}
    bare, token = make_client()
    response = bare.post("/v1/similar", headers={"Authorization": f"Bearer {token}"},
                         json={"queries": [indexed[1]["coffee"]]})
    _error(response, 404, "no_indexes")


def test_settings_refuse_a_bad_index(tmp_path):
    from artlens.errors import ArtlensError, ConfigError
    from artlens.serve.indexes import open_indexes
    from artlens.serve.settings import ServeSettings

    with pytest.raises(ConfigError, match="--index"):
        ServeSettings(db_path=tmp_path / "s.db", indexes={"a/b": tmp_path}).check()
    with pytest.raises(ConfigError, match="not an index folder"):
        ServeSettings(db_path=tmp_path / "s.db", indexes={"a": tmp_path / "missing"}).check()
    with pytest.raises(ArtlensError, match="no artlens index"):
        open_indexes({"a": tmp_path})


def test_duplicates_of_an_index(search_client, indexed):
    c, auth = search_client
    response = c.post("/v1/duplicates", headers=auth, json={"index": "art"})
    assert response.status_code == 200, response.text
    report = response.json()
    jsonschema.validate(report, _schema("duplicates"))
    assert report["index"] == "art" and str(indexed[0]) not in response.text
    paths = indexed[1]
    exact = [g for g in report["groups"] if g["kind"] == "exact"]
    assert [sorted(m["path"] for m in g["members"]) for g in exact] == [
        sorted([paths["astronaut"], paths["astronaut-copy"]])]
    assert exact[0]["keep"] in (paths["astronaut"], paths["astronaut-copy"])
    _error(c.post("/v1/duplicates", headers=auth, json={"index": "nope"}), 404, "unknown_index")
    _error(c.post("/v1/duplicates", headers=auth, json={"threshold": 3}), 422, "invalid_input")
    _error(c.post("/v1/duplicates", headers=auth, data={"index": "art"}), 415, "unsupported_media_type")


def test_index_items_page_through_the_index(search_client, indexed):
    c, auth = search_client
    first = c.get("/v1/indexes/art/items", headers=auth, params={"limit": 4}).json()
    rest = c.get("/v1/indexes/art/items", headers=auth, params={"offset": 4, "limit": 100}).json()
    assert first["total"] == rest["total"] == 10 and first["index"] == "art"
    listed = [item["path"] for item in first["items"] + rest["items"]]
    assert len(first["items"]) == 4 and sorted(listed) == sorted(indexed[1].values())
    assert all(item["name"] == item["path"].rsplit("/", 1)[-1] for item in first["items"])
    _error(c.get("/v1/indexes/nope/items", headers=auth), 404, "unknown_index")


def test_thumbnails_only_of_indexed_images(search_client, indexed, tmp_path):
    c, auth = search_client
    response = c.get("/v1/indexes/art/thumbnail", headers=auth, params={"path": indexed[1]["coffee"]})
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(response.content)) as im:
        assert im.format == "JPEG" and max(im.size) <= 256
    secret = tmp_path / "secret.png"
    Image.new("RGB", (8, 8)).save(secret)
    for path in (str(secret), "/etc/passwd", indexed[1]["coffee"] + "/../coffee.png"):
        _error(c.get("/v1/indexes/art/thumbnail", headers=auth, params={"path": path}), 404, "not_found")
