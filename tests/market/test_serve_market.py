"""The market routes: trends of the server's model and valuations, as their schemas say; 404 without a
model; bad works are 4xx JSON answers."""

from __future__ import annotations

import jsonschema
import pytest

from artlens.market import (
    FitSettings,
    SimulationSettings,
    fit_market,
    prepare,
    save_market_model,
    simulate_sales,
)
from artlens.schemas import read_schema

pytest.importorskip("fastapi")

from tests.serve.conftest import NO_RATE_LIMITS


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    sim = simulate_sales(SimulationSettings(works=300, artists=8, years=5, seed=4))
    p = prepare(sim.sales, rates=sim.rates)
    model = fit_market(p, None, FitSettings(origins=1, iterations=40))
    folder = tmp_path_factory.mktemp("market") / "model"
    return save_market_model(folder, model, p, None, rates=sim.rates)


def _client(tmp_path, **overrides):
    from fastapi.testclient import TestClient

    from artlens.serve.app import create_app
    from artlens.serve.settings import ServeSettings

    settings = ServeSettings(
        db_path=tmp_path / "serve.db", technical=True, upload_dir=tmp_path, **NO_RATE_LIMITS, **overrides
    )
    app = create_app(settings)
    token = app.state.keys.create("test")[0]
    return TestClient(app, raise_server_exceptions=False), {"Authorization": f"Bearer {token}"}


def test_trends_and_value(tmp_path, model_folder) -> None:
    client, auth = _client(tmp_path, market_model=model_folder)
    assert client.get("/v1/market/status", headers=auth).json() == {"available": True, "model": "model"}
    trends = client.get("/v1/market/trends", headers=auth)
    assert trends.status_code == 200, trends.text
    jsonschema.validate(trends.json(), read_schema("market-trends"))
    body = {
        "works": [
            {
                "artist": "Artist 001",
                "medium": "oil on canvas",
                "height": 80,
                "width": 60,
                "year_created": 1980,
            }
        ]
    }
    answer = client.post("/v1/market/value", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    jsonschema.validate(answer.json(), read_schema("market-value"))
    work = answer.json()["works"][0]
    assert work["low"] <= work["estimate"] <= work["high"]


def test_errors_are_json_4xx(tmp_path, model_folder) -> None:
    client, auth = _client(tmp_path)
    assert client.get("/v1/market/status", headers=auth).json() == {"available": False, "model": None}
    missing = client.get("/v1/market/trends", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_market_model"
    client, auth = _client(tmp_path, market_model=model_folder)
    bad = client.post("/v1/market/value", json={"works": [{"height": -1}]}, headers=auth)
    assert 400 <= bad.status_code < 500 and "error" in bad.json()
    bad_date = client.post("/v1/market/value", json={"works": [{"date": "someday"}]}, headers=auth)
    assert bad_date.status_code == 400 and "column date" in bad_date.json()["error"]["message"]
    assert client.post("/v1/market/value", json={"works": []}, headers={}).status_code == 401
