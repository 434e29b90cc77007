"""Pydantic models of the service's JSON answers, for FastAPI's ``response_model`` and the OpenAPI document.

The reports (assess, classify, similar, recommend, duplicates) are the library's versioned documents: their
models take their JSON Schema from :mod:`artlens.schemas` (local ``$ref`` s inlined, so the OpenAPI document
lists the very schema a report is checked against), and pass the report through unchanged. The service's
own small answers (health, models, indexes, jobs, style presets) are plain pydantic models.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import CoreSchema

from artlens.schemas import read_schema

__all__ = [
    "AssessReport",
    "ClassifyReport",
    "DescribeReport",
    "DuplicatesReport",
    "Health",
    "IndexItems",
    "IndexesList",
    "JobAnswer",
    "MarketStatus",
    "MarketTrendsReport",
    "MarketValueReport",
    "ModelsList",
    "PresetList",
    "RecommendReport",
    "SimilarReport",
    "TagReport",
    "TextSearchReport",
    "openapi_schema",
]


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/x"}`` replaced by (a copy of) definition ``x``."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/$defs/"):
        target = _inline(defs[node["$ref"].removeprefix("#/$defs/")], defs)
        return {**target, **{k: _inline(v, defs) for k, v in node.items() if k != "$ref"}}
    return {k: _inline(v, defs) for k, v in node.items()}


@functools.cache
def _openapi_schema(name: str) -> dict[str, Any]:
    schema = read_schema(name)
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return _inline(schema, defs)


def openapi_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of ``artlens.<name>/1``, self-contained (no ``$defs``): as the OpenAPI document
    gives it."""
    return copy.deepcopy(_openapi_schema(name))


class _Report(RootModel[dict[str, Any]]):
    """A library report passed through as it is; its documented schema is the shipped JSON Schema."""

    schema_name: ClassVar[str]

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
                                     ) -> JsonSchemaValue:
        return openapi_schema(cls.schema_name)


class AssessReport(_Report):
    """An ``artlens.assess/1`` report."""

    schema_name = "assess"


class MarketStatus(BaseModel):
    """Whether the server has a market model (``--market-model``), and the name of its folder."""

    available: bool
    model: str | None = None


class MarketValueReport(_Report):
    """An ``artlens.market-value/1`` answer."""

    schema_name = "market-value"


class MarketTrendsReport(_Report):
    """An ``artlens.market-trends/1`` record."""

    schema_name = "market-trends"


class ClassifyReport(_Report):
    """An ``artlens.classify/1`` report."""

    schema_name = "classify"


class TagReport(_Report):
    """An ``artlens.tag/1`` report."""

    schema_name = "tag"


class DescribeReport(_Report):
    """An ``artlens.describe/1`` record."""

    schema_name = "describe"


class TextSearchReport(_Report):
    """An ``artlens.textsearch/1`` report."""

    schema_name = "textsearch"


class SimilarReport(_Report):
    """An ``artlens.similar/1`` report."""

    schema_name = "similar"


class RecommendReport(_Report):
    """An ``artlens.recommend/1`` report."""

    schema_name = "recommend"


class DuplicatesReport(_Report):
    """An ``artlens.duplicates/1`` report."""

    schema_name = "duplicates"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(_Closed):
    status: Literal["ok"]
    version: str


class ModelInfo(_Closed):
    heads: dict[str, list[str]] = Field(description="Class names per head.")
    backbone: str
    mode: str


class ModelsList(_Closed):
    models: dict[str, ModelInfo] = Field(description="Registered classifiers by name.")


class IndexInfo(_Closed):
    items: int = Field(ge=0)
    backbone: str
    by: list[Literal["content", "style"]]


class IndexesList(_Closed):
    indexes: dict[str, IndexInfo] = Field(description="Registered search indexes by name.")


class IndexItem(_Closed):
    path: str = Field(description="The indexed path: what similar and recommend take.")
    name: str = Field(description="The file name, to show.")
    width: int
    height: int


class IndexItems(_Closed):
    index: str
    total: int = Field(ge=0, description="Items in the index.")
    offset: int = Field(ge=0)
    items: list[IndexItem]


class JobLinks(_Closed):
    self: str


class Job(_Closed):
    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1)
    created: float = Field(description="Unix time.")
    started: float | None
    finished: float | None
    error: str | None
    retriable: bool
    attempts: int
    params: dict[str, Any]
    links: JobLinks
    results: list[str]


class JobAnswer(_Closed):
    job: Job


class Preset(_Closed):
    name: str
    preview: str | None = Field(description="URL of a JPEG preview: the preset applied to a fixed sample "
                                "image; null while the presets' weights are not on the server.")


class PresetList(_Closed):
    presets: list[Preset]
