"""Art market: ``POST /v1/market/value`` (estimates with intervals and drivers), ``GET /v1/market/trends``
(the price index of the model's sales, for the web page's plot) and ``GET /v1/market/status`` (whether there
is a model: the page asks before it shows its panel), with the model given to ``--market-model``.
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from artlens.serve.deps import GUARDED, SettingsDep
from artlens.serve.inputs import ERRORS, json_body
from artlens.serve.market_models import market_model, market_trends_of
from artlens.serve.responses import MarketStatus, MarketTrendsReport, MarketValueReport
from artlens.serve.settings import ServeSettings

__all__ = ["router"]

router = APIRouter(prefix="/v1/market", dependencies=GUARDED, responses=ERRORS, tags=["market"])


class MarketWork(BaseModel):
    """One work to value (the sales columns; all optional)."""

    model_config = ConfigDict(extra="forbid")

    artist: str = Field("", max_length=200)
    title: str = Field("", max_length=300)
    medium: str = Field("", max_length=300)
    height: float | None = Field(None, gt=0)
    width: float | None = Field(None, gt=0)
    unit: str = Field("cm", max_length=10)
    year_created: int | None = Field(None, ge=0, le=3000)
    date: str = Field("", max_length=10, description="Sale date (ISO); default today.")


class ValueRequest(BaseModel):
    """Works to value, and optionally which model (hedonic, boosting, boosting+image)."""

    model_config = ConfigDict(extra="forbid")

    works: list[MarketWork] = Field(min_length=1, max_length=500)
    model: str | None = Field(None, pattern=r"^(hedonic|boosting|boosting\+image)$")


_VALUE_DOC = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": ValueRequest.model_json_schema()}}}}


def _value(spec: ValueRequest, settings: ServeSettings) -> dict[str, Any]:
    from artlens.market import prepare, value_works
    from artlens.market.sales import sales_from_rows

    loaded = market_model(settings)
    rows = [{k: "" if v is None else str(v) for k, v in w.model_dump().items()} for w in spec.works]
    sales = sales_from_rows(rows, "request", works=True)
    works = prepare(sales, rates=loaded.rates or None, frequency=loaded.prepared.frequency)
    return value_works(loaded, works, None, spec.model)


@router.get("/status", response_model=MarketStatus)
def status_route(settings: SettingsDep) -> dict[str, Any]:
    """Whether ``--market-model`` was given (the model itself is loaded on first use)."""
    folder = settings.market_model
    return {"available": folder is not None, "model": folder.name if folder is not None else None}


@router.post("/value", response_model=MarketValueReport, openapi_extra=_VALUE_DOC)
async def value_route(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """Estimate works with the server's market model: an ``artlens.market-value/1`` answer (a median, an
    interval at the model's level, each model's estimate, and the drivers). Pictures are not read here: the
    image model values a work without one as the model does a sale whose picture is missing."""
    spec = await json_body(request, ValueRequest, settings)
    return await anyio.to_thread.run_sync(_value, spec, settings)


@router.get("/trends", response_model=MarketTrendsReport)
async def trends_route(settings: SettingsDep) -> dict[str, Any]:
    """The hedonic and repeat-sales price indices of the model's sales with a forecast: an
    ``artlens.market-trends/1`` record."""
    return await anyio.to_thread.run_sync(market_trends_of, settings)
