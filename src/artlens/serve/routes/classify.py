"""Recognition: ``GET /v1/models`` and ``POST /v1/classify`` with the classifiers registered at startup."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request

from artlens.serve.deps import GUARDED, LimiterDep, MetricsDep, ModelsDep, SettingsDep
from artlens.serve.inputs import ERRORS, body_doc, read_inputs
from artlens.serve.responses import ClassifyReport, ModelsList
from artlens.serve.work import classify_inputs

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["classify"])


@router.get("/models", response_model=ModelsList)
def list_models(models: ModelsDep) -> dict[str, Any]:
    """Classifiers registered with this server (``--model NAME=DIR``) and their heads."""
    return {"models": {name: {"heads": {h: list(c) for h, c in m.classifier.heads.items()},
                              "backbone": m.classifier.config["backbone"], "mode": m.classifier.mode}
                       for name, m in models.items()}}


@router.post("/classify", response_model=ClassifyReport, openapi_extra=body_doc({
    "model": {"type": "string", "description": "Registered model name (optional with one model)."},
    "top_k": {"type": "integer", "minimum": 1, "maximum": 50}}))
async def classify_route(request: Request, settings: SettingsDep, models: ModelsDep, limiter: LimiterDep,
                         metrics: MetricsDep) -> dict[str, Any]:
    """Classify images with a registered model: an ``artlens.classify/1`` report.

    Same inputs as ``/v1/assess``, with optional ``model`` and ``top_k`` fields.
    """
    inputs = await read_inputs(request, settings)
    with inputs.cleanup:
        report = await anyio.to_thread.run_sync(classify_inputs, inputs, models, settings, limiter=limiter)
    report = inputs.relabel(report)
    metrics.images.inc(len(report["images"]), operation="classify", outcome="ok")
    metrics.images.inc(len(report["errors"]), operation="classify", outcome="error")
    return report
