"""Art market analysis: sales records in, valuations with intervals, price indices and forecasts out.

``docs/market.md`` describes the input columns, the models and their validation. Names are re-exported lazily
(:mod:`artlens.lazy`): reading sales does not import scikit-learn or PyTorch.
"""

from __future__ import annotations

from artlens.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "CATEGORIES": "artlens.market.mediums",
        "FitSettings": "artlens.market.fitting",
        "GROUPINGS": "artlens.market.trends",
        "MODELS": "artlens.market.estimators",
        "MarketModel": "artlens.market.fitting",
        "MarketModelError": "artlens.market.errors",
        "Prepared": "artlens.market.normalise",
        "Sales": "artlens.market.sales",
        "SalesError": "artlens.market.errors",
        "SimulationSettings": "artlens.market.simulate",
        "default_image_pool": "artlens.market.pool",
        "embed_images": "artlens.market.imagefeatures",
        "fit_market": "artlens.market.fitting",
        "hedonic_index": "artlens.market.indices",
        "load_market_model": "artlens.market.modelfile",
        "load_medium_table": "artlens.market.mediums",
        "load_premium_table": "artlens.market.premiums",
        "market_trends": "artlens.market.trends",
        "prepare": "artlens.market.normalise",
        "read_rates": "artlens.market.normalise",
        "read_sales": "artlens.market.sales",
        "repeat_sales_index": "artlens.market.indices",
        "rolling_origin": "artlens.market.timesplit",
        "save_market_model": "artlens.market.modelfile",
        "simulate_sales": "artlens.market.simulate",
        "trends_csv": "artlens.market.report",
        "trends_html": "artlens.market.report",
        "value_works": "artlens.market.value",
    },
)
