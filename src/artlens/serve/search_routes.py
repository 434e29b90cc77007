"""``POST /v1/similar`` and ``POST /v1/recommend``: the search library over indexes registered at startup.

Indexes are named on the command line (``--index NAME=DIR``) and opened once when the app is built; a client
names one by that name and never by folder. JSON requests name images by their *indexed* path only: anything
else is listed under ``errors`` without touching the file system, so a client cannot make the server read or
embed its other files. ``/v1/similar`` also takes query images as uploads (checked by
:func:`~artlens.serve.uploads.saved_uploads`); answers name the index by its registered name and uploads by
the client's file names.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path, PurePath
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.params import Depends
from pydantic import BaseModel, ConfigDict, Field

from artlens.serve.errors import ApiError
from artlens.serve.inputs import content_type, json_body
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import read_multipart, saved_uploads

__all__ = ["MAX_K", "RecommendRequest", "SimilarRequest", "open_indexes", "search_router"]

#: Most results asked for per query (similar) or in all (recommend).
MAX_K = 200
_MAX_NAMES = 1000


class SimilarRequest(BaseModel):
    """JSON body of ``/v1/similar``: indexed paths whose neighbours are wanted."""

    model_config = ConfigDict(extra="forbid")
    index: str | None = Field(default=None, description="A registered index (optional with one index).")
    queries: list[str] = Field(min_length=1, max_length=_MAX_NAMES, description="Indexed paths.")
    k: int = Field(default=10, ge=1, le=MAX_K, description="Results per query.")
    by: Literal["content", "style"] = "content"


class RecommendRequest(BaseModel):
    """JSON body of ``/v1/recommend``: a user's ratings as indexed paths (no profile is kept on the
    server)."""

    model_config = ConfigDict(extra="forbid")
    index: str | None = Field(default=None, description="A registered index (optional with one index).")
    liked: list[str] = Field(min_length=1, max_length=_MAX_NAMES, description="Indexed paths liked.")
    disliked: list[str] = Field(default_factory=list, max_length=_MAX_NAMES)
    seen: list[str] = Field(default_factory=list, max_length=_MAX_NAMES,
                            description="Indexed paths never to recommend (shown before, bought ...).")
    k: int = Field(default=20, ge=1, le=MAX_K, description="How many recommendations.")
    diversity: float = Field(default=0.3, ge=0.0, le=1.0, description="MMR trade-off, 0 to 1.")
    by: Literal["content", "style"] = "content"


class _Registered:
    """An open index and the lock that keeps one request at a time on its connection and caches."""

    def __init__(self, name: str, index: Any) -> None:
        self.name, self.index, self.lock = name, index, threading.Lock()


def open_indexes(registered: dict[str, Path]) -> dict[str, _Registered]:
    """Open every registered index (an :class:`~artlens.errors.ArtlensError` names a folder holding none)."""
    if not registered:
        return {}
    from artlens.search.index import SearchIndex

    return {name: _Registered(name, SearchIndex.open(folder)) for name, folder in registered.items()}


def _pick(indexes: dict[str, _Registered], name: str | None) -> _Registered:
    if not indexes:
        raise ApiError(404, "no_indexes", "no search index is registered with this server (start it with "
                       "--index NAME=DIR)")
    if name is None and len(indexes) == 1:
        return next(iter(indexes.values()))
    if name is None:
        raise ApiError(422, "invalid_input", f"several indexes are registered: choose one with 'index' "
                       f"({', '.join(sorted(indexes))})")
    if name not in indexes:
        raise ApiError(404, "unknown_index",
                       f"unknown index {name!r}; registered: {', '.join(sorted(indexes))}")
    return indexes[name]


def _check_by(reg: _Registered, by: str) -> None:
    if by == "style" and not reg.index.has_style:
        raise ApiError(422, "invalid_input", f"index {reg.name!r} has no style vectors; use by=content")


def _indexed(reg: _Registered, raws: Sequence[str]) -> tuple[list[str], list[dict[str, str]]]:
    """The indexed paths among ``raws`` (as stored) and an error entry for each other one.

    Only absolute paths without ``..`` are looked up, and only in the index's table: nothing else is read.
    """
    found: list[str] = []
    errors: list[dict[str, str]] = []
    for raw in raws:
        item = None
        if raw and "\x00" not in raw and len(raw) <= 4096 and PurePath(raw).is_absolute() \
                and ".." not in PurePath(raw).parts:
            item = reg.index.item_by_path(raw)
        if item is None:
            errors.append({"query": raw, "error": f"{raw}: not an indexed path of index {reg.name!r}"})
        else:
            found.append(item.path)
    return found, errors


def _int_field(fields: dict[str, str], name: str, default: int) -> int:
    try:
        value = int(fields.get(name, default))
    except ValueError:
        raise ApiError(422, "invalid_input", f"{name} must be an integer") from None
    if not 1 <= value <= MAX_K:
        raise ApiError(422, "invalid_input", f"{name} must be between 1 and {MAX_K}, not {value}")
    return value


def _relabel_similar(report: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Replace the private paths of uploaded queries by the clients' file names."""
    for query in report["queries"]:
        shown = names.get(query["query"])
        if shown is not None:
            query["query"] = query["path"] = shown
    for error in report["errors"]:
        private = error["query"]
        shown = names.get(private, private)
        error["query"], error["error"] = shown, error["error"].replace(private, shown)
    return report


def search_router(settings: ServeSettings, dependencies: Sequence[Depends] = (),
                  limiter: anyio.CapacityLimiter | None = None) -> APIRouter:
    """The ``/v1/similar`` and ``/v1/recommend`` routes over ``settings.indexes``.

    Parameters
    ----------
    settings
        Checked settings (:meth:`ServeSettings.check`); ``settings.indexes`` maps names to index folders,
        each opened here.
    dependencies
        The app's auth dependency (``[Depends(require_key)]`` in :func:`~artlens.serve.app.create_app`).
    limiter
        The app's limit on requests doing heavy work at the same time; ``None``: anyio's default.

    Returns
    -------
    fastapi.APIRouter
        A router with prefix ``/v1`` to pass to ``app.include_router``.
    """
    indexes = open_indexes(settings.indexes)
    router = APIRouter(prefix="/v1", dependencies=list(dependencies), tags=["search"])

    def count(request: Request, operation: str, ok: int, failed: int) -> None:
        metrics = getattr(request.app.state, "metrics", None)
        if metrics is not None:
            metrics.images.inc(ok, operation=operation, outcome="ok")
            metrics.images.inc(failed, operation=operation, outcome="error")

    def similar(reg: _Registered, queries: list[str], k: int, by: str) -> dict[str, Any]:
        from artlens.search.similar import find_similar

        with reg.lock:
            report = find_similar(reg.index, queries, k, by=by, max_pixels=settings.max_pixels)
        report["index"] = reg.name  # the server's folders are not the client's business
        return report

    @router.get("/indexes")
    def list_indexes() -> dict[str, Any]:
        """Search indexes registered with this server (``--index NAME=DIR``): items, backbone, vectors."""
        return {"indexes": {name: {"items": len(reg.index), "backbone": reg.index.backbone,
                                   "by": ["content", "style"] if reg.index.has_style else ["content"]}
                            for name, reg in indexes.items()}}

    @router.post("/similar", openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": SimilarRequest.model_json_schema()},
        "multipart/form-data": {"schema": {"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "index": {"type": "string"}, "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
            "by": {"type": "string", "enum": ["content", "style"]}}}}}}})
    async def similar_route(request: Request) -> dict[str, Any]:
        """The most similar indexed images of each query: an ``artlens.similar/1`` report.

        JSON ``{"index", "queries": [indexed paths], "k": 10, "by": "content"}``, or uploaded query images as
        ``multipart/form-data`` with optional ``index``, ``k`` and ``by`` fields. Queries that cannot be used
        are listed under ``errors``; the others are answered.
        """
        kind = content_type(request)
        if kind == "application/json":
            body = await json_body(request, SimilarRequest, settings)
            reg = _pick(indexes, body.index)
            _check_by(reg, body.by)
            queries, errors = _indexed(reg, body.queries)
            report = await anyio.to_thread.run_sync(similar, reg, queries, body.k, body.by, limiter=limiter)
            report["errors"] = errors + report["errors"]
        elif kind == "multipart/form-data":
            batch = await read_multipart(request, settings)
            unknown = set(batch.fields) - {"index", "k", "by"}
            if unknown:
                raise ApiError(422, "invalid_input",
                               f"unknown field(s) for similar: {', '.join(sorted(unknown))}")
            reg = _pick(indexes, batch.fields.get("index"))
            k = _int_field(batch.fields, "k", 10)
            by = batch.fields.get("by", "content").strip().lower()
            if by not in ("content", "style"):
                raise ApiError(422, "invalid_input", f"by must be content or style, not {by!r}")
            _check_by(reg, by)
            with ExitStack() as stack:
                saved = stack.enter_context(saved_uploads(batch, settings))
                report = await anyio.to_thread.run_sync(similar, reg, [str(p) for p in saved], k, by,
                                                        limiter=limiter)
            report = _relabel_similar(report, {str(p): name for p, name in saved.items()})
        else:
            raise ApiError(415, "unsupported_media_type", "send application/json ({\"queries\": [...]}) or "
                           "multipart/form-data (query images)")
        count(request, "similar", len(report["queries"]), len(report["errors"]))
        return report

    @router.post("/recommend", openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": RecommendRequest.model_json_schema()}}}})
    async def recommend_route(request: Request) -> dict[str, Any]:
        """Recommendations from a user's ratings: an ``artlens.recommend/1`` report.

        JSON ``{"index", "liked": [...], "disliked": [...], "seen": [...], "k": 20, "diversity": 0.3,
        "by": "content"}``, every image an indexed path. Nothing is stored: the client keeps the user's
        history and sends it again. Images with the same bytes as a rated or seen one are never recommended.
        """
        if content_type(request) != "application/json":
            raise ApiError(415, "unsupported_media_type", "send application/json ({\"liked\": [...]})")
        body = await json_body(request, RecommendRequest, settings)
        reg = _pick(indexes, body.index)
        _check_by(reg, body.by)
        liked, errors = _indexed(reg, body.liked)
        disliked, more = _indexed(reg, body.disliked)
        seen, rest = _indexed(reg, body.seen)
        errors += more + rest
        if not liked:
            raise ApiError(422, "no_liked", f"none of the liked images is an indexed path of index "
                           f"{reg.name!r}")

        def work() -> dict[str, Any]:
            from artlens.search.recommend import recommend

            with reg.lock:
                report, _profile = recommend(reg.index, liked, disliked, seen=seen, k=body.k,
                                             diversity=body.diversity, by=body.by,
                                             max_pixels=settings.max_pixels)
            report["index"] = reg.name
            return report

        report = await anyio.to_thread.run_sync(work, limiter=limiter)
        report["errors"] = errors + report["errors"]
        count(request, "recommend", len(report["results"]), len(report["errors"]))
        return report

    return router
