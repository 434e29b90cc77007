"""``value``: an estimate, a prediction interval and the main drivers for each work, from a fitted model."""

from __future__ import annotations

import numpy as np

from artlens.market.attributions import group_effects
from artlens.market.errors import MarketModelError
from artlens.market.fitting import image_matrix
from artlens.market.modelfile import LoadedMarketModel
from artlens.market.normalise import Prepared, period_labels

__all__ = ["best_model", "value_works"]

_BACKGROUND = 24


def best_model(loaded: LoadedMarketModel) -> str:
    """The model with the lowest validation MdAPE (averaged over the rolling origins)."""
    summary = loaded.model.report.get("summary", {})
    scored = [(summary.get(k, {}).get("mdape") or np.inf, k) for k in loaded.model.models]  # type: ignore[union-attr]
    if not scored:
        raise MarketModelError("the model folder holds no fitted model")
    return min(scored)[1]


def value_works(
    loaded: LoadedMarketModel,
    works: Prepared,
    embeddings: dict[str, np.ndarray] | None = None,
    model: str | None = None,
) -> dict[str, object]:
    """Estimates for ``works`` (an ``artlens.market-value/1`` record): the median price, the interval at the
    model's level, every model's median, and each feature group's effect (log points and percent)."""
    kind = model or best_model(loaded)
    fitted = loaded.model.models.get(kind)
    if fitted is None:
        raise MarketModelError(
            f"the model folder has no {kind!r} model (it has {', '.join(loaded.model.models)})"
        )
    pca = loaded.model.pca
    images = {**(loaded.embeddings or {}), **(embeddings or {})}
    image = image_matrix(works, pca, images) if kind == "boosting+image" else None
    mid, low, high = fitted.predict(works, image)
    others = {
        k: np.exp(f.predict(works, image_matrix(works, pca, images) if k == "boosting+image" else None)[0])
        for k, f in loaded.model.models.items()
    }
    rng = np.random.default_rng(0)
    train = loaded.prepared.take(np.flatnonzero(loaded.prepared.sold))
    pick = rng.choice(len(train), min(_BACKGROUND, len(train)), replace=False)
    background = train.take(pick)
    x, groups = fitted.design(works, image)
    xb, _ = fitted.design(background, image_matrix(background, pca, images) if image is not None else None)
    effects = group_effects(fitted.predict_design, x, xb, groups)
    last = int(loaded.prepared.period.max())
    rows = []
    for i in range(len(works)):
        period = int(works.period[i])
        rows.append(
            {
                "row": int(works.sales.row[i]),
                "artist": str(works.artist[i]),
                "title": str(works.sales.title[i]),
                "medium": str(works.medium[i]),
                "image": str(works.sales.image[i]) or None,
                "period": period_labels(np.array([min(period, last)]), works.frequency)[0],
                "estimate": round(float(np.exp(mid[i])), 2),
                "low": round(float(np.exp(low[i])), 2),
                "high": round(float(np.exp(high[i])), 2),
                "models": {k: round(float(v[i]), 2) for k, v in others.items()},
                "drivers": sorted(
                    (
                        {"group": g, "log_effect": e, "percent": round(100 * (np.exp(e) - 1), 1)}
                        for g, e in effects[i].items()
                    ),
                    key=lambda d: -abs(d["log_effect"]),
                ),
                "known_artist": str(works.artist[i]) in fitted.encoder.artists,
            }
        )
    return {
        "schema": "artlens.market-value/1",
        "model": kind,
        "level": fitted.level,
        "currency": "base currency of the model's sales",
        "works": rows,
    }
