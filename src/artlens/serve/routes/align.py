"""Content understanding: ``POST /v1/tag`` (open-vocabulary tags), ``POST /v1/describe`` (one image's tags,
palette, tone and composition) with the shipped alignment heads (:mod:`artlens.align`); text search over a
registered index is ``POST /v1/search/text``."""

from __future__ import annotations

import threading
from typing import Any

import anyio
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from artlens.errors import ConfigError
from artlens.serve.deps import GUARDED, IndexesDep, LimiterDep, MetricsDep, SettingsDep
from artlens.serve.errors import ApiError
from artlens.serve.indexes import RegisteredIndex, pick_index
from artlens.serve.inputs import ERRORS, Inputs, body_doc, content_type, json_body, read_inputs
from artlens.serve.responses import DescribeReport, TagReport, TextSearchReport

__all__ = ["TextSearchRequest", "router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["align"])
_LOCK = threading.Lock()  # one forward pass of the alignment at a time


def _vocabulary(fields: dict[str, Any]) -> list[str] | None:
    value = fields.get("vocabulary")
    if value is None:
        return None
    words = value if isinstance(value, list) else str(value).replace("\n", ",").split(",")
    words = [str(w).strip() for w in words if str(w).strip()]
    if not words:
        raise ApiError(422, "invalid_input", "vocabulary names no tag")
    return words


def _number(fields: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    try:
        value = float(fields.get(name, default))
    except (TypeError, ValueError):
        raise ApiError(422, "invalid_input", f"{name} must be a number") from None
    if not low <= value <= high:
        raise ApiError(422, "invalid_input", f"{name} must be between {low:g} and {high:g}")
    return value


def _tag(inputs: Inputs) -> dict[str, Any]:
    from artlens.align.tag import tag_paths

    unknown = set(inputs.fields) - {"top_k", "threshold", "vocabulary"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for tag: {', '.join(sorted(unknown))}")
    top_k = int(_number(inputs.fields, "top_k", 5, 1, 50))
    threshold = _number(inputs.fields, "threshold", 0.0, 0.0, 1.0)
    with _LOCK:
        report = tag_paths(inputs.paths, vocabulary=_vocabulary(inputs.fields), top_k=top_k,
                           threshold=threshold)
    report["errors"] = inputs.errors + report["errors"]
    return report


@router.post("/tag", response_model=TagReport, openapi_extra=body_doc({
    "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
    "threshold": {"type": "number", "minimum": 0, "maximum": 1},
    "vocabulary": {"type": "string", "description": "Comma-separated tags (default: the shipped list)."}}))
async def tag_route(request: Request, settings: SettingsDep, limiter: LimiterDep,
                    metrics: MetricsDep) -> dict[str, Any]:
    """Tag images from an open vocabulary with calibrated scores: an ``artlens.tag/1`` report.

    Same inputs as ``/v1/assess``, with optional ``top_k``, ``threshold`` and ``vocabulary`` fields.
    """
    inputs = await read_inputs(request, settings)
    with inputs.cleanup:
        report = await anyio.to_thread.run_sync(_tag, inputs, limiter=limiter)
    report = inputs.relabel(report)
    metrics.images.inc(len(report["images"]), operation="tag", outcome="ok")
    metrics.images.inc(len(report["errors"]), operation="tag", outcome="error")
    return report


def _describe(inputs: Inputs) -> dict[str, Any]:
    from artlens.align.describe import describe_path

    if inputs.errors:
        raise ApiError(422, "unreadable_image", inputs.errors[0]["error"])
    if len(inputs.paths) != 1:
        raise ApiError(422, "invalid_input", f"describe takes one image, got {len(inputs.paths)}")
    if set(inputs.fields):
        names = ", ".join(sorted(inputs.fields))
        raise ApiError(422, "invalid_input", f"unknown field(s) for describe: {names}")
    path = inputs.paths[0]
    with _LOCK:
        record = describe_path(path)
    record["path"] = inputs.names.get(str(path), str(path))
    return record


@router.post("/describe", response_model=DescribeReport, openapi_extra=body_doc({}))
async def describe_route(request: Request, settings: SettingsDep, limiter: LimiterDep,
                         metrics: MetricsDep) -> dict[str, Any]:
    """Describe one image: tags, colours, tone, composition and a sentence (``artlens.describe/1``)."""
    inputs = await read_inputs(request, settings)
    with inputs.cleanup:
        record = await anyio.to_thread.run_sync(_describe, inputs, limiter=limiter)
    metrics.images.inc(1, operation="describe", outcome="ok")
    return record


class TextSearchRequest(BaseModel):
    """JSON body of ``/v1/search/text``: which index, the text, how many results."""

    model_config = ConfigDict(extra="forbid")
    index: str | None = Field(default=None, description="A registered index (optional with one index).")
    query: str = Field(min_length=1, max_length=500, description="What the images should show.")
    k: int = Field(default=20, ge=1, le=200, description="How many results.")


def _search(reg: RegisteredIndex, query: str, k: int) -> dict[str, Any]:
    from artlens.align.indexed import search_text

    with reg.lock, _LOCK:
        return search_text(reg.index, query, k, name=reg.name)


@router.post("/search/text", response_model=TextSearchReport, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": TextSearchRequest.model_json_schema()}}}})
async def search_text_route(request: Request, settings: SettingsDep, indexes: IndexesDep, limiter: LimiterDep,
                            metrics: MetricsDep) -> dict[str, Any]:
    """Images of a registered index ranked by how well they match a text (``artlens.textsearch/1``).

    The index needs aligned embeddings (``artlens index build`` stores them).
    """
    if content_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json ({\"query\": ...})")
    body = await json_body(request, TextSearchRequest, settings)
    reg = pick_index(indexes, body.index)
    try:
        report = await anyio.to_thread.run_sync(_search, reg, body.query, body.k, limiter=limiter)
    except ConfigError as exc:
        message = str(exc).replace(str(reg.index.folder), reg.name)
        raise ApiError(409, "no_aligned_embeddings", message) from None
    metrics.images.inc(len(report["results"]), operation="search_text", outcome="ok")
    return report
