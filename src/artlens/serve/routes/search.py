"""Similar images, duplicates and recommendations over the indexes registered at startup (``--index``).

``GET /v1/indexes`` lists them, ``GET /v1/indexes/{name}/items`` pages through one's images and
``GET /v1/indexes/{name}/thumbnail`` shows one; ``POST /v1/similar``, ``POST /v1/duplicates`` and
``POST /v1/recommend`` call :mod:`artlens.search`. JSON requests name images by their *indexed* path only
(:mod:`artlens.serve.indexes`), so a client cannot make the server read or embed its other files;
``/v1/similar`` also takes query images as uploads. Answers name the index by its registered name and uploads
by the client's file names.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from artlens.errors import ArtlensError
from artlens.serve.deps import GUARDED, IndexesDep, LimiterDep, MetricsDep, SettingsDep
from artlens.serve.errors import ApiError
from artlens.serve.indexes import RegisteredIndex, check_by, indexed_paths, pick_index
from artlens.serve.inputs import ERRORS, content_type, json_body
from artlens.serve.metrics import Registry
from artlens.serve.responses import DuplicatesReport, IndexesList, IndexItems, RecommendReport, SimilarReport
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import read_multipart, saved_uploads

__all__ = ["MAX_K", "DuplicatesRequest", "RecommendRequest", "SimilarRequest", "router"]

#: Most results asked for per query (similar) or in all (recommend).
MAX_K = 200
_MAX_NAMES = 1000
#: Longest side of ``/v1/indexes/{name}/thumbnail`` images.
THUMBNAIL_SIDE = 256


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


class DuplicatesRequest(BaseModel):
    """JSON body of ``/v1/duplicates``: which index, and how alike copies must be."""

    model_config = ConfigDict(extra="forbid")
    index: str | None = Field(default=None, description="A registered index (optional with one index).")
    threshold: float = Field(default=0.12, ge=0.0, le=2.0,
                             description="Largest cosine distance of visual near-duplicates (0: off).")
    hash_threshold: int = Field(default=8, ge=-1, le=64,
                                description="Largest Hamming distance of near-identical hashes (-1: off).")


router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["search"])


def _count(metrics: Registry, operation: str, ok: int, failed: int) -> None:
    metrics.images.inc(ok, operation=operation, outcome="ok")
    metrics.images.inc(failed, operation=operation, outcome="error")


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


def _thumbnail(path: str, max_pixels: int) -> bytes:
    """JPEG bytes of the image at ``path``, at most :data:`THUMBNAIL_SIDE` px on its longest side."""
    import cv2

    from artlens.imageio import load_image
    from artlens.screening.metrics import working_image

    small = working_image(load_image(path, max_pixels=max_pixels).rgb, THUMBNAIL_SIDE)
    ok, buffer = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ArtlensError(f"{path}: the thumbnail could not be encoded as JPEG")
    return buffer.tobytes()


def _similar(reg: RegisteredIndex, queries: list[str], k: int, by: str, settings: ServeSettings
             ) -> dict[str, Any]:
    from artlens.search.similar import find_similar

    with reg.lock:
        report = find_similar(reg.index, queries, k, by=by, max_pixels=settings.max_pixels)
    report["index"] = reg.name  # the server's folders are not the client's business
    return report


@router.get("/indexes", response_model=IndexesList)
def list_indexes(indexes: IndexesDep) -> dict[str, Any]:
    """Search indexes registered with this server (``--index NAME=DIR``): items, backbone, vectors."""
    return {"indexes": {name: {"items": len(reg.index), "backbone": reg.index.backbone,
                               "by": ["content", "style"] if reg.index.has_style else ["content"]}
                        for name, reg in indexes.items()}}


@router.get("/indexes/{name}/items", response_model=IndexItems)
def index_items(name: str, indexes: IndexesDep, offset: Annotated[int, Query(ge=0)] = 0,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    """A page of the images of one index, in indexing order: their indexed paths (what the search routes
    take) and sizes."""
    reg = pick_index(indexes, name)
    with reg.lock:
        items = reg.index.items()
    page = items[offset:offset + limit]
    return {"index": reg.name, "total": len(items), "offset": offset,
            "items": [{"path": it.path, "name": Path(it.path).name, "width": it.width, "height": it.height}
                      for it in page]}


@router.get("/indexes/{name}/thumbnail", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}}, "description": "A JPEG of at most "
                             f"{THUMBNAIL_SIDE} px on its longest side"}})
async def index_thumbnail(name: str, path: Annotated[str, Query(min_length=1, max_length=4096)],
                          indexes: IndexesDep, settings: SettingsDep, limiter: LimiterDep) -> Response:
    """A small JPEG of one indexed image (named by its indexed path; no other file is read)."""
    reg = pick_index(indexes, name)
    found, errors = indexed_paths(reg, [path])
    if errors:
        raise ApiError(404, "not_found", errors[0]["error"])
    try:
        data = await anyio.to_thread.run_sync(
            _thumbnail, found[0], settings.max_pixels, limiter=limiter)
    except ArtlensError as exc:
        raise ApiError(422, "bad_image", str(exc)) from None
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/similar", response_model=SimilarReport, openapi_extra={"requestBody": {
    "required": True, "content": {
        "application/json": {"schema": SimilarRequest.model_json_schema()},
        "multipart/form-data": {"schema": {"type": "object", "required": ["files"], "properties": {
            "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "index": {"type": "string"}, "k": {"type": "integer", "minimum": 1, "maximum": MAX_K},
            "by": {"type": "string", "enum": ["content", "style"]}}}}}}})
async def similar_route(request: Request, settings: SettingsDep, indexes: IndexesDep, limiter: LimiterDep,
                        metrics: MetricsDep) -> dict[str, Any]:
    """The most similar indexed images of each query: an ``artlens.similar/1`` report.

    JSON ``{"index", "queries": [indexed paths], "k": 10, "by": "content"}``, or uploaded query images as
    ``multipart/form-data`` with optional ``index``, ``k`` and ``by`` fields. Queries that cannot be used
    are listed under ``errors``; the others are answered.
    """
    kind = content_type(request)
    if kind == "application/json":
        body = await json_body(request, SimilarRequest, settings)
        reg = pick_index(indexes, body.index)
        check_by(reg, body.by)
        queries, errors = indexed_paths(reg, body.queries)
        report = await anyio.to_thread.run_sync(_similar, reg, queries, body.k, body.by, settings,
                                                limiter=limiter)
        report["errors"] = errors + report["errors"]
    elif kind == "multipart/form-data":
        batch = await read_multipart(request, settings)
        unknown = set(batch.fields) - {"index", "k", "by"}
        if unknown:
            raise ApiError(422, "invalid_input",
                           f"unknown field(s) for similar: {', '.join(sorted(unknown))}")
        reg = pick_index(indexes, batch.fields.get("index"))
        k = _int_field(batch.fields, "k", 10)
        by = batch.fields.get("by", "content").strip().lower()
        if by not in ("content", "style"):
            raise ApiError(422, "invalid_input", f"by must be content or style, not {by!r}")
        check_by(reg, by)
        with ExitStack() as stack:
            saved = stack.enter_context(saved_uploads(batch, settings))
            report = await anyio.to_thread.run_sync(_similar, reg, [str(p) for p in saved], k, by, settings,
                                                    limiter=limiter)
        report = _relabel_similar(report, {str(p): name for p, name in saved.items()})
    else:
        raise ApiError(415, "unsupported_media_type", "send application/json ({\"queries\": [...]}) or "
                       "multipart/form-data (query images)")
    _count(metrics, "similar", len(report["queries"]), len(report["errors"]))
    return report


@router.post("/duplicates", response_model=DuplicatesReport, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": DuplicatesRequest.model_json_schema()}}}})
async def duplicates_route(request: Request, settings: SettingsDep, indexes: IndexesDep,
                           limiter: LimiterDep) -> dict[str, Any]:
    """Groups of copies among the images of an index, each with a suggested file to keep: an
    ``artlens.duplicates/1`` report.

    JSON ``{"index", "threshold": 0.12, "hash_threshold": 8}``. Nothing is deleted.
    """
    if content_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json ({\"index\": ...})")
    body = await json_body(request, DuplicatesRequest, settings)
    reg = pick_index(indexes, body.index)

    def work() -> dict[str, Any]:
        from artlens.search.duplicates import find_duplicates

        with reg.lock:
            report = find_duplicates(reg.index, threshold=body.threshold, hash_threshold=body.hash_threshold)
        report["index"] = reg.name
        return report

    return await anyio.to_thread.run_sync(work, limiter=limiter)


@router.post("/recommend", response_model=RecommendReport, openapi_extra={"requestBody": {
    "required": True, "content": {"application/json": {"schema": RecommendRequest.model_json_schema()}}}})
async def recommend_route(request: Request, settings: SettingsDep, indexes: IndexesDep, limiter: LimiterDep,
                          metrics: MetricsDep) -> dict[str, Any]:
    """Recommendations from a user's ratings: an ``artlens.recommend/1`` report.

    JSON ``{"index", "liked": [...], "disliked": [...], "seen": [...], "k": 20, "diversity": 0.3,
    "by": "content"}``, every image an indexed path. Nothing is stored: the client keeps the user's
    history and sends it again. Images with the same bytes as a rated or seen one are never recommended.
    """
    if content_type(request) != "application/json":
        raise ApiError(415, "unsupported_media_type", "send application/json ({\"liked\": [...]})")
    body = await json_body(request, RecommendRequest, settings)
    reg = pick_index(indexes, body.index)
    check_by(reg, body.by)
    liked, errors = indexed_paths(reg, body.liked)
    disliked, more = indexed_paths(reg, body.disliked)
    seen, rest = indexed_paths(reg, body.seen)
    errors += more + rest
    if not liked:
        raise ApiError(422, "no_liked", f"none of the liked images is an indexed path of index {reg.name!r}")

    def work() -> dict[str, Any]:
        from artlens.search.recommend import recommend

        with reg.lock:
            report, _profile = recommend(reg.index, liked, disliked, seen=seen, k=body.k,
                                         diversity=body.diversity, by=body.by, max_pixels=settings.max_pixels)
        report["index"] = reg.name
        return report

    report = await anyio.to_thread.run_sync(work, limiter=limiter)
    report["errors"] = errors + report["errors"]
    _count(metrics, "recommend", len(report["results"]), len(report["errors"]))
    return report
