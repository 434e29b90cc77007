"""Indices on simulated sales: a planted jump is recovered by both indices; the forecast has intervals."""

from __future__ import annotations

import numpy as np

from artlens.market import (
    SimulationSettings,
    hedonic_index,
    market_trends,
    prepare,
    repeat_sales_index,
    simulate_sales,
)
from artlens.market.forecast import forecast_index


def test_indices_recover_a_planted_jump() -> None:
    sim = simulate_sales(
        SimulationSettings(
            works=2000,
            artists=20,
            years=8,
            seed=5,
            jump_year=2014,
            jump=0.6,
            cycle_amplitude=0.0,
            trend=0.0,
            repeat_share=0.5,
        )
    )
    p = prepare(sim.sales, rates=sim.rates)
    truth = np.array(sim.truth["log_index"])
    hedonic = hedonic_index(p)
    step = hedonic.log_index[4] - hedonic.log_index[3]
    assert abs(step - 0.6) < 0.1
    assert np.sqrt(np.mean((hedonic.log_index - truth) ** 2)) < 0.08
    repeat = repeat_sales_index(p, hedonic.periods)
    assert repeat is not None and repeat.observations > 100
    assert abs(repeat.log_index[4] - repeat.log_index[3] - 0.6) < 0.15
    low, high = hedonic.band()
    assert (low <= hedonic.log_index).all() and (hedonic.log_index <= high).all()


def test_trends_record_validates_and_groups(tmp_path) -> None:
    import jsonschema

    from artlens.schemas import read_schema

    sim = simulate_sales(SimulationSettings(works=800, artists=6, years=5, seed=2))
    p = prepare(sim.sales, rates=sim.rates)
    record = market_trends(p, "medium", horizon=2)
    jsonschema.validate(record, read_schema("market-trends"))
    assert record["groups"] and len(record["all"]["forecast"]["index"]) == 2
    assert all(0 <= s <= 1 for s in record["all"]["bought_in_share"])


def test_forecast_follows_a_trend_with_widening_intervals() -> None:
    f = forecast_index(np.array([0.0, 0.1, 0.2, 0.32, 0.4, 0.5, 0.61, 0.7]), horizon=3)
    assert f["log_index"][0] > 0.7 and f["log_index"][2] > f["log_index"][0]
    widths = np.array(f["high"]) - np.array(f["low"])
    assert (np.diff(widths) > 0).all()
