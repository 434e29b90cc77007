"""``POST /v1/classify`` with a tiny linear classifier trained on crops of scikit-image's photos."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from artlens import weights

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

pytestmark = pytest.mark.skipif(weights.local_status("mobilenet_v2").state != "verified",
                                reason="mobilenet_v2 weights not verified in the local cache")

CLASSES = ("astronaut", "chelsea")


def _crops(photo: np.ndarray, n: int, seed: int, size: int = 96) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    h, w = photo.shape[:2]
    out = []
    for _ in range(n):
        ch, cw = int(h * rng.uniform(0.6, 0.8)), int(w * rng.uniform(0.6, 0.8))
        y, x = rng.integers(0, h - ch), rng.integers(0, w - cw)
        out.append(cv2.resize(photo[y:y + ch, x:x + cw], (size, size), interpolation=cv2.INTER_AREA))
    return out


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, photos):
    from artlens.classify.data import load_dataset
    from artlens.classify.train.linear import train_linear

    root = tmp_path_factory.mktemp("data")
    for c, name in enumerate(CLASSES):
        (root / name).mkdir()
        for i, crop in enumerate(_crops(photos[name], 6, seed=c)):
            Image.fromarray(crop).save(root / name / f"{i}.png")
    out = tmp_path_factory.mktemp("model") / "m"
    train_linear(load_dataset(root), out, epochs=50, cache=False)
    return out


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def test_classify_upload_with_a_registered_model(make_client, model_dir, photos):
    import jsonschema

    from artlens.classify.predict import load_report_schema

    c, token = make_client(models={"subjects": model_dir})
    auth = {"Authorization": f"Bearer {token}"}
    assert c.get("/v1/models", headers=auth).json()["models"]["subjects"]["heads"]
    files = [("files", ("cat.png", _png(photos["chelsea"]), "image/png")),
             ("files", ("bad.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "image/png"))]
    response = c.post("/v1/classify", headers=auth, files=files, data={"model": "subjects", "top_k": "2"})
    assert response.status_code == 200, response.text
    report = response.json()
    jsonschema.validate(report, load_report_schema())
    assert report["schema"] == "artlens.classify/1" and report["model"]["path"] is None
    assert [im["path"] for im in report["images"]] == ["cat.png"]
    assert report["images"][0]["label"] == "chelsea"
    assert [e["path"] for e in report["errors"]] == ["bad.png"]
    unknown = c.post("/v1/classify", headers=auth, files=files[:1], data={"model": "nope"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_model"


def test_classify_without_models_is_404(client, auth, photos):
    response = client[0].post("/v1/classify", headers=auth,
                              files=[("files", ("a.png", _png(photos["coins"][:64, :64]), "image/png"))])
    assert response.status_code == 404 and response.json()["error"]["code"] == "no_models"
