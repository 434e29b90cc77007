"""Synthetic sales with a known structure, for tests and benchmarks: the models must recover what was planted.

Log price = market index of the sale period + artist effect + medium effect + size elasticity x log area
+ age effect + image effect (:mod:`artlens.market.imagevalue`, from real pictures) + noise, the hedonic form
of
Rosen (1974) as used for art by Renneboog & Spaenjers, "Buying beauty", Management Science 59 (2013). Works
come back to auction (repeat sales), some lots are bought in below a reserve set from a noisy estimate.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from artlens.market.imagevalue import colourfulness, coverage, image_value
from artlens.market.sales import Sales

__all__ = ["MEDIUM_EFFECTS", "Simulated", "SimulationSettings", "simulate_sales"]

#: Medium descriptions the simulator writes, their category and their log-value effect.
MEDIUM_EFFECTS = {
    "oil on canvas": ("painting", 0.0),
    "acrylic on canvas": ("painting", -0.1),
    "watercolour on paper": ("work on paper", -0.9),
    "charcoal on paper": ("work on paper", -1.1),
    "lithograph in colours": ("print", -1.6),
    "screenprint in colours": ("print", -1.4),
    "bronze with brown patina": ("sculpture", 0.2),
    "gelatin silver print": ("photograph", -0.8),
}
_RATES = {"USD": 1.0, "GBP": 1.25, "EUR": 1.1}


@dataclass(frozen=True)
class SimulationSettings:
    """What :func:`simulate_sales` plants."""

    works: int = 3000
    artists: int = 60
    years: int = 12
    start_year: int = 2010
    seed: int = 0
    noise: float = 0.3
    size_elasticity: float = 0.4
    age_effect: float = 0.004
    artist_sd: float = 0.8
    trend: float = 0.05
    cycle_amplitude: float = 0.15
    cycle_years: float = 6.0
    jump_year: int | None = None
    jump: float = 0.0
    repeat_share: float = 0.3
    reserve_ratio: float = 0.8
    image_weight: float = 1.0
    currencies: bool = True


@dataclass
class Simulated:
    """Generated sales, their currency table, and the truth they were made from."""

    sales: Sales
    rates: dict[str, float]
    truth: dict[str, object] = field(default_factory=dict)

    def write(self, folder: Path) -> dict[str, Path]:
        """Write ``sales.csv``, ``rates.csv`` and ``truth.json`` into ``folder``; their paths."""
        from artlens.files import atomic_write_text
        from artlens.market.sales import write_sales

        folder.mkdir(parents=True, exist_ok=True)
        paths = {"sales": folder / "sales.csv", "rates": folder / "rates.csv", "truth": folder / "truth.json"}
        write_sales(self.sales, paths["sales"])
        atomic_write_text(
            paths["rates"], "currency,rate\n" + "".join(f"{c},{r}\n" for c, r in self.rates.items())
        )
        atomic_write_text(paths["truth"], json.dumps(self.truth, indent=1))
        return paths


def _image_effects(images: Sequence[Path]) -> tuple[np.ndarray, np.ndarray]:
    from artlens.imageio import load_image

    measures = []
    for path in images:
        rgb = load_image(path).rgb
        step = max(1, max(rgb.shape[:2]) // 256)
        small = rgb[::step, ::step]
        measures.append((colourfulness(small), coverage(small)))
    array = np.array(measures, dtype=np.float64).reshape(-1, 2)
    return array, image_value(array) if len(array) else np.zeros(0)


def simulate_sales(
    settings: SimulationSettings = SimulationSettings(), images: Sequence[Path] = ()
) -> Simulated:
    """Generate sales with a known index, effects and image dependence (see the module docstring).

    ``images`` is the pool of pictures works are drawn from; without images no image effect is planted.
    """
    s = settings
    rng = np.random.default_rng(s.seed)
    years = np.arange(s.start_year, s.start_year + s.years)
    t = years - s.start_year
    log_index = s.trend * t + s.cycle_amplitude * np.sin(2 * math.pi * t / s.cycle_years)
    if s.jump_year is not None:
        log_index = log_index + np.where(years >= s.jump_year, s.jump, 0.0)
    log_index = log_index - log_index[0]
    artist_effect = rng.normal(0.0, s.artist_sd, s.artists) + 8.5
    artist_born = rng.integers(1850, 1960, s.artists)
    mediums = list(MEDIUM_EFFECTS)
    medium_pref = rng.dirichlet(np.full(len(mediums), 0.6), s.artists)
    pool = [Path(p) for p in images]
    measures, effects = _image_effects(pool)
    effects = effects * s.image_weight

    work_artist = rng.integers(0, s.artists, s.works)
    work_medium = np.array([rng.choice(len(mediums), p=medium_pref[a]) for a in work_artist])
    height = np.exp(rng.normal(4.0, 0.5, s.works))
    width = height * np.exp(rng.normal(0.0, 0.25, s.works))
    created = np.minimum(artist_born[work_artist] + rng.integers(20, 55, s.works), years[0] - 1)
    work_image = rng.integers(0, len(pool), s.works) if pool else np.full(s.works, -1)
    work_value = (
        artist_effect[work_artist]
        + np.array([MEDIUM_EFFECTS[mediums[m]][1] for m in work_medium])
        + s.size_elasticity * np.log(height * width)
        + (effects[work_image] if pool else 0.0)
    )

    span = int((np.datetime64(f"{years[-1] + 1}-01-01") - np.datetime64(f"{years[0]}-01-01")).astype(int))
    sale_work, sale_day = [], []
    for w in range(s.works):
        first = rng.uniform(0, span)
        sale_work.append(w)
        sale_day.append(first)
        while rng.random() < s.repeat_share and first < span - 200:
            first = rng.uniform(first + 180, span)
            sale_work.append(w)
            sale_day.append(first)
    sale_work_a = np.array(sale_work)
    n = len(sale_work_a)
    dates = np.datetime64(f"{s.start_year}-01-01") + np.floor(np.array(sale_day)).astype("timedelta64[D]")
    year_idx = dates.astype("datetime64[Y]").astype(int) + 1970 - s.start_year
    sale_year = years[year_idx]
    age = sale_year - created[sale_work_a]
    true_log = work_value[sale_work_a] + log_index[year_idx] + s.age_effect * age
    log_price = true_log + rng.normal(0.0, s.noise, n)
    estimate_mid = true_log + rng.normal(0.0, 0.2, n)
    reserve = s.reserve_ratio * np.exp(estimate_mid) * 0.85
    sold = np.exp(log_price) >= reserve
    recorded = np.where(sold, np.exp(log_price), reserve)

    currency = rng.choice(list(_RATES), n, p=[0.5, 0.3, 0.2]) if s.currencies else np.full(n, "")
    rates = dict(_RATES)
    local = recorded / np.array([rates.get(c, 1.0) for c in currency])
    inches = rng.random(s.works) < 0.3
    unit = np.where(inches[sale_work_a], "in", "cm")
    scale = np.where(inches[sale_work_a], 1 / 2.54, 1.0)
    order = np.argsort(dates, kind="stable")
    sales = Sales(
        price=np.round(local, 2)[order],
        date=dates[order],
        currency=np.array(currency, dtype=object)[order],
        artist=np.array([f"Artist {a:03d}" for a in work_artist[sale_work_a]], dtype=object)[order],
        title=np.array([f"Work {w:05d}" for w in sale_work_a], dtype=object)[order],
        medium=np.array([mediums[m] for m in work_medium[sale_work_a]], dtype=object)[order],
        height=np.round(height[sale_work_a] * scale, 2)[order],
        width=np.round(width[sale_work_a] * scale, 2)[order],
        depth=np.full(n, np.nan),
        unit=np.array(unit, dtype=object)[order],
        year_created=created[sale_work_a].astype(np.float64)[order],
        house=np.array(["Simulated House"] * n, dtype=object),
        location=np.array(["London"] * n, dtype=object),
        estimate_low=np.round(
            np.exp(estimate_mid) * 0.8 / np.array([rates.get(c, 1.0) for c in currency]), -1
        )[order],
        estimate_high=np.round(
            np.exp(estimate_mid) * 1.25 / np.array([rates.get(c, 1.0) for c in currency]), -1
        )[order],
        sold=sold[order],
        image=np.array([str(pool[i]) if i >= 0 else "" for i in work_image[sale_work_a]], dtype=object)[
            order
        ],
        row=np.arange(2, n + 2),
        source="simulated",
    )
    truth = {
        "settings": asdict(s),
        "years": years.tolist(),
        "log_index": log_index.tolist(),
        "artist_effect": {f"Artist {a:03d}": float(v) for a, v in enumerate(artist_effect)},
        "medium_effect": {m: v for m, (_, v) in MEDIUM_EFFECTS.items()},
        "medium_category": {m: c for m, (c, _) in MEDIUM_EFFECTS.items()},
        "size_elasticity": s.size_elasticity,
        "age_effect": s.age_effect,
        "image_effect": {str(p): float(e) for p, e in zip(pool, effects, strict=True)},
        "image_measures": {str(p): m.tolist() for p, m in zip(pool, measures, strict=True)},
        "true_log_price": true_log[order].tolist(),
        "bought_in_share": float(1 - sold.mean()),
        "repeat_sales": int(n - s.works),
    }
    return Simulated(sales, rates, truth)
