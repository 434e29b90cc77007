"""``POST /v1/explain``: the learned quality model's heat map over one image, as a JPEG with a colour bar.

The image comes in like one image of ``/v1/assess`` (an upload, or a path under ``--allow-root``) and is
explained by :func:`artlens.iqa.explain.explain_image`, the renderer ``artlens assess --explain`` uses: the
same image gives the same overlay here and there. A server started with ``--technical`` has no learned model
and answers 409.
"""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from artlens.errors import ImageLoadError, WeightsError
from artlens.iqa.explain import EXPLAIN_MAX_SIDE, Explanation
from artlens.serve.deps import GUARDED, LimiterDep, MetricsDep, SettingsDep
from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERROR_SCHEMA, ERRORS, Inputs, read_inputs
from artlens.serve.work import check_explain

__all__ = ["explain_file", "router"]

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


def explain_file(path: Path, *, max_pixels: int) -> Explanation:
    """The explanation of one image file with the shipped quality model (:class:`ArtlensError` when the file
    cannot be decoded or the model loaded)."""
    from artlens.imageio import load_image
    from artlens.iqa.default import load_quality_model
    from artlens.iqa.explain import explain_image

    rgb = load_image(path, max_pixels=max_pixels).rgb
    return explain_image(load_quality_model(), rgb)


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


_CONFLICT = {"description": "No learned quality model: the server runs with --technical",
             "content": {"application/json": {"schema": ERROR_SCHEMA}}}
router = APIRouter(prefix="/v1", dependencies=GUARDED, tags=["assess"], responses={**ERRORS, 409: _CONFLICT})


@router.post("/explain", response_class=Response, openapi_extra=_DOC, responses={
    200: {"description": "The heat-map overlay (JPEG, longest side at most "
                         f"{EXPLAIN_MAX_SIDE} px, a colour bar below)", "content": {"image/jpeg": {}},
          "headers": _HEADERS}})
async def explain_route(request: Request, settings: SettingsDep, limiter: LimiterDep,
                        metrics: MetricsDep) -> Response:
    """Where the learned quality model sees defects in one image: a JPEG heat map over the image.

    Send one image as ``multipart/form-data`` (one file part), or JSON ``{"paths": ["..."]}`` naming one
    file under the server's ``--allow-root`` folders; uploads get the same limits and content checks as
    ``/v1/assess``. The answer is the image downscaled to at most 1024 px on its longest side, tinted from
    blue (the model finds the neighbourhood good) to red (poor), with a colour bar below it ("low quality"
    to "high quality") and the map's minimum and mean in the ``X-Quality-Min`` and ``X-Quality-Mean``
    headers: the overlay ``artlens assess --explain`` writes. Compare regions of one image, not values
    across images. A server started with ``--technical`` has no learned model: 409 ``no_learned_model``.
    """
    check_explain(settings)
    inputs = await read_inputs(request, settings)
    with inputs.cleanup:
        path = _one_image(inputs)
        try:
            explanation = await anyio.to_thread.run_sync(
                lambda: explain_file(path, max_pixels=settings.max_pixels), limiter=limiter)
        except ImageLoadError as exc:  # name the client's file, never the server's private copy
            metrics.images.inc(1, operation="explain", outcome="error")
            message = str(exc).replace(str(path), inputs.names.get(str(path), str(path)))
            raise ApiError(422, "bad_image", message) from None
        except WeightsError as exc:
            raise ApiError(503, "model_unavailable", f"the quality model cannot be loaded: {exc}") from None
    metrics.images.inc(1, operation="explain", outcome="ok")
    return Response(explanation.jpeg, media_type=explanation.media_type, headers={
        "Cache-Control": "private, no-store", "X-Quality-Min": f"{explanation.min:.1f}",
        "X-Quality-Mean": f"{explanation.mean:.1f}"})
