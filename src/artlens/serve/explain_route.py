"""``POST /v1/explain``: the learned quality model's heat map over one image, as a PNG.

The image comes in like one image of ``/v1/assess`` (an upload, or a path under ``--allow-root``), is
downscaled to at most :data:`MAX_EXPLAIN_SIDE` pixels on its longest side, and is scored patch by patch with
:func:`artlens.iqa.explain.quality_map`; :func:`~artlens.iqa.explain.heatmap_overlay` draws the
answer. A server started with ``--technical`` has no learned model and answers 409.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

import anyio
import cv2
import numpy as np
from fastapi import APIRouter, Request
from fastapi.params import Depends
from fastapi.responses import Response

from artlens.errors import ArtlensError, ImageLoadError, WeightsError
from artlens.serve.errors import ApiError
from artlens.serve.settings import ServeSettings

__all__ = ["MAX_EXPLAIN_SIDE", "explain_png", "explain_router"]

#: Longest side of the heat map answered (the image is downscaled first: bounded CPU time per request).
MAX_EXPLAIN_SIDE = 768

_HEADERS = {"X-Quality-Min": {"description": "Lowest value of the quality map (0 to 100).",
                              "schema": {"type": "number"}},
            "X-Quality-Mean": {"description": "Mean of the quality map (0 to 100).",
                               "schema": {"type": "number"}}}
_DOC = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["files"],
        "properties": {"files": {"type": "string", "format": "binary",
                                 "description": "The image: exactly one file part."}}}},
    "application/json": {"schema": {
        "type": "object", "required": ["paths"], "additionalProperties": False,
        "properties": {"paths": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 1,
                                 "description": "One image file under the server's --allow-root folders."}}}},
}}}


class Inputs(Protocol):
    """What the app's input reader gives: the request's files, their shown names, form fields, cleanup."""

    paths: list[Path]
    names: dict[str, str]
    fields: dict[str, Any]
    errors: list[dict[str, str]]
    cleanup: AbstractContextManager[Any]


def explain_png(path: Path, *, max_pixels: int,
                max_side: int = MAX_EXPLAIN_SIDE) -> tuple[bytes, dict[str, float]]:
    """Heat-map overlay of the shipped quality model over one image file, encoded as PNG.

    Parameters
    ----------
    path
        The image file.
    max_pixels
        Decoding limit (:func:`artlens.imageio.load_image`).
    max_side
        The image is downscaled (never upscaled) so that its longest side is at most this; the PNG has
        that size.

    Returns
    -------
    tuple
        ``(png bytes, {"min": ..., "mean": ...})``: the overlay and the quality map's minimum and mean.

    Raises
    ------
    ArtlensError
        The file cannot be decoded, or the model cannot be loaded.

    Notes
    -----
    The map follows the patch-wise scheme of :func:`artlens.iqa.explain.quality_map` (CNN-IQA, Kang et
    al., CVPR 2014): see there for what its values mean and do not mean.
    """
    from artlens.imageio import load_image
    from artlens.iqa.default import load_quality_model
    from artlens.iqa.explain import heatmap_overlay, quality_map

    rgb = load_image(path, max_pixels=max_pixels).rgb
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    model = load_quality_model()
    qmap = quality_map(model, rgb, max_side=max_side)
    overlay = heatmap_overlay(rgb, qmap)
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ArtlensError("the heat map could not be encoded as PNG")
    return buffer.tobytes(), {"min": float(np.min(qmap)), "mean": float(np.mean(qmap))}


def _one_image(inputs: Inputs) -> Path:
    """The single file of the request, or a 422 naming what is wrong."""
    if inputs.fields:
        unknown = ", ".join(sorted(inputs.fields))
        raise ApiError(422, "invalid_input", f"unknown field(s) for explain: {unknown}")
    if inputs.errors:
        raise ApiError(422, "bad_path", inputs.errors[0]["error"])
    if len(inputs.paths) != 1:
        raise ApiError(422, "one_image_only", f"explain takes exactly one image, not {len(inputs.paths)}")
    return inputs.paths[0]


def explain_router(settings: ServeSettings, dependencies: Sequence[Depends],
                   limiter: anyio.CapacityLimiter | None,
                   read_inputs: Callable[[Request, ServeSettings], Awaitable[Inputs]],
                   errors: dict[int | str, dict[str, Any]] | None = None) -> APIRouter:
    """The ``POST /v1/explain`` route.

    Parameters
    ----------
    settings
        Checked settings; with ``settings.technical`` the route answers 409.
    dependencies
        The app's auth dependency.
    limiter
        The app's limit on requests doing heavy work at the same time.
    read_inputs
        The app's reader of uploads and ``{"paths": [...]}`` bodies (the same checks as ``/v1/assess``).
    errors
        The app's documented error answers (status -> OpenAPI response); the 409 reuses their JSON body.

    Returns
    -------
    fastapi.APIRouter
        A router with prefix ``/v1`` to pass to ``app.include_router``.
    """
    errors = dict(errors or {})
    error_content = next((doc["content"] for doc in errors.values() if "content" in doc), None)
    conflict: dict[str, Any] = {"description": "No learned quality model: the server runs with --technical"}
    if error_content is not None:
        conflict["content"] = error_content
    router = APIRouter(prefix="/v1", dependencies=list(dependencies), tags=["assess"],
                       responses={**errors, 409: conflict})

    @router.post("/explain", response_class=Response, openapi_extra=_DOC, responses={
        200: {"description": "The heat-map overlay (PNG, longest side at most "
                             f"{MAX_EXPLAIN_SIDE} px)", "content": {"image/png": {}}, "headers": _HEADERS}})
    async def explain_route(request: Request) -> Response:
        """Where the learned quality model sees defects in one image: a PNG heat map over the image.

        Send one image as ``multipart/form-data`` (one file part), or JSON ``{"paths": ["..."]}`` naming one
        file under the server's ``--allow-root`` folders; uploads get the same limits and content checks as
        ``/v1/assess``. The answer is the image downscaled to at most 768 px on its longest side, tinted from
        blue (the model finds the neighbourhood good) to red (poor), with the map's minimum and mean in the
        ``X-Quality-Min`` and ``X-Quality-Mean`` headers. Compare regions of one image, not values across
        images. A server started with ``--technical`` has no learned model: 409 ``no_learned_model``.
        """
        if settings.technical:
            raise ApiError(409, "no_learned_model", "this server runs with --technical (no learned quality "
                           "model), so it has no heat map to draw; restart it without --technical")
        inputs = await read_inputs(request, settings)
        metrics = getattr(request.app.state, "metrics", None)
        with inputs.cleanup:
            path = _one_image(inputs)
            try:
                png, summary = await anyio.to_thread.run_sync(
                    lambda: explain_png(path, max_pixels=settings.max_pixels), limiter=limiter)
            except ImageLoadError as exc:  # name the client's file, never the server's private copy
                if metrics is not None:
                    metrics.images.inc(1, operation="explain", outcome="error")
                message = str(exc).replace(str(path), inputs.names.get(str(path), str(path)))
                raise ApiError(422, "bad_image", message) from None
            except WeightsError as exc:
                raise ApiError(503, "model_unavailable", f"the quality model cannot be loaded: {exc}"
                               ) from None
        if metrics is not None:
            metrics.images.inc(1, operation="explain", outcome="ok")
        return Response(png, media_type="image/png", headers={
            "Cache-Control": "private, no-store", "X-Quality-Min": f"{summary['min']:.1f}",
            "X-Quality-Mean": f"{summary['mean']:.1f}"})

    return router
