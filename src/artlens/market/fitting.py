"""``fit``: the valuation models side by side, validated on time-ordered splits, then fitted on all sales.

Bought-in lots are censored observations (the market's value was below the reserve the lot failed to reach):
they are counted and left out of fitting and scoring, never dropped silently, and their share per period is
in the trends report. Fitting on sold lots only is the standard hedonic practice; the resulting upward
selection bias in weak periods is discussed by Collins, Scorcu & Zanola, "Sample selection bias and time
instability of hedonic art price indexes", Journal of Cultural Economics 33 (2009).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from artlens.market.attributions import segment_importance
from artlens.market.design import fit_encoder
from artlens.market.errors import SalesError
from artlens.market.estimators import MODELS, Fitted, conformal_quantile, fit_estimator
from artlens.market.imagefeatures import ImagePCA, fit_image_pca
from artlens.market.metrics import valuation_metrics
from artlens.market.normalise import Prepared, period_labels
from artlens.market.timesplit import rolling_origin
from artlens.training.progress import Progress, report

__all__ = ["FitSettings", "MarketModel", "fit_calibrated", "fit_market", "image_matrix"]


@dataclass(frozen=True)
class FitSettings:
    """How ``fit`` validates and fits."""

    models: tuple[str, ...] = MODELS
    level: float = 0.8
    origins: int = 3
    image_dim: int = 8
    seed: int = 0
    iterations: int = 300  # boosting rounds of each gradient-boosting model


@dataclass
class MarketModel:
    """Fitted models (on every sold lot), their image projection, and the validation report."""

    models: dict[str, Fitted]
    pca: ImagePCA | None
    settings: FitSettings
    report: dict[str, object] = field(default_factory=dict)


def image_matrix(
    p: Prepared, pca: ImagePCA | None, embeddings: dict[str, np.ndarray] | None
) -> np.ndarray | None:
    """Image component scores of each sale, or ``None`` without a projection."""
    if pca is None or embeddings is None:
        return None
    return pca.transform([str(x) for x in p.sales.image], embeddings)


def fit_calibrated(
    kind: str, p: Prepared, embeddings: dict[str, np.ndarray] | None, settings: FitSettings
) -> tuple[Fitted, ImagePCA | None]:
    """A model fitted on the sold lots of ``p`` with its conformal correction from the latest period of
    ``p`` (predicted by the same kind of model fitted on the periods before it)."""
    sold = p.take(np.flatnonzero(p.sold))
    last = int(sold.period.max())
    proper, cal = (
        sold.take(np.flatnonzero(sold.period < last)),
        sold.take(np.flatnonzero(sold.period == last)),
    )
    if len(proper) < 10 or len(cal) < 5:
        raise SalesError(
            p.sales.source,
            "too few sold lots for a calibrated model: it needs sales in at least "
            "two periods (10 before the latest, 5 in it)",
        )
    use_image = kind == "boosting+image"

    def one(data: Prepared) -> tuple[Fitted, ImagePCA | None]:
        pca = (
            fit_image_pca([str(x) for x in data.sales.image], embeddings, settings.image_dim)
            if use_image and embeddings
            else None
        )
        encoder = fit_encoder(data, pca.dim if pca is not None else 0)
        return fit_estimator(
            kind,
            encoder,
            data,
            data.log_price,
            image_matrix(data, pca, embeddings),
            level=settings.level,
            seed=settings.seed,
            iterations=settings.iterations,
        ), pca

    early, early_pca = one(proper)
    scores = early.scores(cal, cal.log_price, image_matrix(cal, early_pca, embeddings))
    final, pca = one(sold)
    final.correction = conformal_quantile(scores, settings.level)
    return final, pca


def fit_market(
    p: Prepared,
    embeddings: dict[str, np.ndarray] | None = None,
    settings: FitSettings = FitSettings(),
    progress: Progress | None = None,
) -> MarketModel:
    """Validate each model of ``settings.models`` by rolling origin (each of the last ``origins`` periods
    predicted from the periods before it) against a mean-price baseline, then fit on all sales.

    ``embeddings`` maps image paths (the ``image`` column) to backbone embeddings; without it the
    ``boosting+image`` model is left out.
    """
    kinds = [k for k in settings.models if k != "boosting+image" or embeddings]
    unknown = [k for k in kinds if k not in MODELS]
    if unknown:
        raise SalesError(p.sales.source, f"unknown model {unknown[0]!r} (known: {', '.join(MODELS)})")
    splits = list(rolling_origin(p.period, settings.origins, min_train_periods=2))
    total = len(splits) * len(kinds) + len(kinds)
    done = 0
    origins = []
    importance: dict[str, dict[str, dict[str, float]]] = {}
    for split in splits:
        train, test = p.take(split.train), p.take(split.test)
        sold_test = test.take(np.flatnonzero(test.sold))
        y = sold_test.log_price
        baseline = np.full(len(y), train.log_price[train.sold].mean())
        row: dict[str, object] = {
            "period": period_labels(np.array([split.test_period]), p.frequency)[0],
            "train": int(train.sold.sum()),
            "test": len(y),
            "bought_in_test": int((~test.sold).sum()),
            "models": {"mean price": valuation_metrics(y, baseline)},
        }
        for kind in kinds:
            fitted, pca = fit_calibrated(kind, train, embeddings, settings)
            image = image_matrix(sold_test, pca, embeddings)
            mid, low, high = fitted.predict(sold_test, image)
            metrics = valuation_metrics(y, mid, low, high)
            unsold = test.take(np.flatnonzero(~test.sold))
            if len(unsold):  # censored: the market's value was below the recorded reserve
                above = fitted.predict(unsold, image_matrix(unsold, pca, embeddings))[0] > unsold.log_price
                metrics["bought_in_above_reserve"] = float(above.mean())
            row["models"][kind] = metrics  # type: ignore[index]
            if split is splits[-1]:
                x, groups = fitted.design(sold_test, image)
                importance[kind] = segment_importance(
                    fitted.predict_design, x, y, groups, sold_test.medium, seed=settings.seed
                )
            done += 1
            report(progress, "validate", done, total)
        origins.append(row)
    models: dict[str, Fitted] = {}
    pca_final: ImagePCA | None = None
    for kind in kinds:
        models[kind], pca = fit_calibrated(kind, p, embeddings, settings)
        pca_final = pca or pca_final
        done += 1
        report(progress, "validate", done, total)
    summary = _summary(origins, ["mean price", *kinds])
    record = {
        "schema": "artlens.market-fit/1",
        "sales": len(p),
        "sold": int(p.sold.sum()),
        "bought_in": int((~p.sold).sum()),
        "censoring": "bought-in lots are censored (value below the reserve): left out of fitting and "
        "scoring, counted here",
        "frequency": p.frequency,
        "level": settings.level,
        "periods": period_labels(np.unique(p.period), p.frequency),
        "latest": origins[-1] if origins else None,
        "origins": origins,
        "summary": summary,
        "image_features": pca_final.dim if pca_final is not None else 0,
        "importance": {
            "period": origins[-1]["period"] if origins else None,
            "segment": "medium",
            "models": importance,
        },
    }
    return MarketModel(models, pca_final, settings, record)


def _summary(
    origins: Sequence[dict[str, object]], kinds: Sequence[str]
) -> dict[str, dict[str, float | None]]:
    """Each model's metrics averaged over the rolling origins."""
    out: dict[str, dict[str, float | None]] = {}
    for kind in kinds:
        values = [o["models"][kind] for o in origins if kind in o["models"]]  # type: ignore[index,operator]
        out[kind] = {}
        for key in ("r2", "mdape", "coverage"):
            xs = [v[key] for v in values if v[key] is not None]
            out[kind][key] = float(np.mean(xs)) if xs else None
    return out
