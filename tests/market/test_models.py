"""The valuation models on simulated sales: they beat the mean price, never see the future, and their
intervals cover what they say."""

from __future__ import annotations

import numpy as np
import pytest

from artlens.market import (
    FitSettings,
    SimulationSettings,
    fit_market,
    prepare,
    rolling_origin,
    simulate_sales,
)
from artlens.market.fitting import fit_calibrated, image_matrix
from artlens.market.imagevalue import colourfulness, coverage

FAST = FitSettings(iterations=60)


def _prepared(works: int = 600, seed: int = 0, images=(), **kw):
    sim = simulate_sales(SimulationSettings(works=works, artists=15, years=6, seed=seed, **kw), images)
    return sim, prepare(sim.sales, rates=sim.rates)


def _measures(paths) -> dict[str, np.ndarray]:
    """A stand-in embedding (no backbone in tests): the two content measures plus noise dimensions."""
    from artlens.imageio import load_image

    rng = np.random.default_rng(1)
    out = {}
    for p in paths:
        rgb = load_image(p).rgb
        out[str(p)] = np.concatenate([[colourfulness(rgb) / 50, coverage(rgb)], rng.normal(0, 0.01, 6)])
    return out


def test_rolling_origin_never_trains_on_the_future() -> None:
    periods = np.array([3, 1, 2, 5, 4, 4, 5, 1, 2, 3])
    splits = list(rolling_origin(periods, origins=3))
    assert [s.test_period for s in splits] == [3, 4, 5]
    for s in splits:
        assert (periods[s.train] < s.test_period).all() and (periods[s.test] == s.test_period).all()


def test_future_prices_do_not_change_a_past_origin() -> None:
    _, p = _prepared(400)
    last = int(p.period.max())
    past = p.take(np.flatnonzero(p.period < last))
    target = p.take(np.flatnonzero(p.period == last - 1))
    fitted, _ = fit_calibrated("boosting", past.take(np.flatnonzero(past.period < last - 1)), None, FAST)
    before = fitted.predict(target)[0]
    poisoned = p.take(np.arange(len(p)))
    poisoned.log_price = np.where(poisoned.period >= last - 1, poisoned.log_price + 5.0, poisoned.log_price)
    train = poisoned.take(np.flatnonzero(poisoned.period < last - 1))
    again, _ = fit_calibrated("boosting", train, None, FAST)
    assert np.allclose(before, again.predict(target)[0])


def test_every_model_beats_the_mean_price(pictures) -> None:
    _, p = _prepared(700, images=pictures)
    model = fit_market(p, _measures(pictures), FitSettings(iterations=60, origins=1))
    latest = model.report["latest"]["models"]
    baseline = latest["mean price"]["mdape"]
    for kind in ("hedonic", "boosting", "boosting+image"):
        assert latest[kind]["mdape"] < 0.9 * baseline, kind
        assert latest[kind]["r2"] > 0.3, kind
        assert 0 <= latest[kind]["bought_in_above_reserve"] <= 1, kind  # the censored lots are scored apart
    assert model.report["bought_in"] > 0 and "censored" in model.report["censoring"]


@pytest.mark.slow
def test_intervals_reach_nominal_coverage_on_a_large_set() -> None:
    _, p = _prepared(3000, seed=3)
    model = fit_market(
        p, None, FitSettings(iterations=60, origins=3, models=("hedonic", "boosting"), level=0.8)
    )
    for kind in ("hedonic", "boosting"):
        assert 0.72 <= model.report["summary"][kind]["coverage"] <= 0.9, (kind, model.report["summary"])


def test_fit_report_validates_against_its_schema(pictures) -> None:
    import jsonschema

    from artlens.schemas import read_schema

    _, p = _prepared(300)
    model = fit_market(p, None, FitSettings(iterations=60, origins=1, models=("hedonic",)))
    jsonschema.validate(model.report, read_schema("market-fit"))


def test_saved_model_loads_to_the_same_valuations_and_image_drivers(tmp_path, pictures) -> None:
    import jsonschema

    from artlens.market import load_market_model, save_market_model, value_works
    from artlens.schemas import read_schema

    sim, p = _prepared(500, images=pictures)
    embeddings = _measures(pictures)
    model = fit_market(p, embeddings, FitSettings(iterations=60, origins=1))
    importance = model.report["importance"]["models"]["boosting+image"]
    assert importance and all("image" in groups for groups in importance.values())
    folder = save_market_model(tmp_path / "m", model, p, embeddings, rates=sim.rates)
    loaded = load_market_model(folder)
    works = p.take(np.arange(5))
    answer = value_works(loaded, works, embeddings, "boosting+image")
    jsonschema.validate(answer, read_schema("market-value"))
    mid = model.models["boosting+image"].predict(works, image_matrix(works, model.pca, embeddings))[0]
    assert np.allclose([w["estimate"] for w in answer["works"]], np.exp(mid).round(2), rtol=1e-6)
    assert all(any(d["group"] == "image" for d in w["drivers"]) for w in answer["works"])
