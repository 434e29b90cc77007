"""Style transfer: ``POST /v1/stylize`` (a job), the presets and their previews."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from artlens.errors import ArtlensError
from artlens.serve.deps import GUARDED, JobsDep, SettingsDep, owner_of
from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERRORS
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import QueueFull
from artlens.serve.responses import JobAnswer, PresetList
from artlens.serve.style_jobs import STYLIZE_DOC, queue_stylize
from artlens.serve.style_previews import preset_preview, previews_available

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["style"])


@router.post("/stylize", status_code=202, response_model=JobAnswer, openapi_extra=STYLIZE_DOC,
             responses=ACCEPTED)
async def stylize_route(request: Request, response: Response, settings: SettingsDep,
                        jobs: JobsDep) -> dict[str, Any]:
    """Queue a style transfer: a job whose result is a PNG at ``/v1/results/{id}`` once done.

    ``multipart/form-data`` with a ``content`` image and either a ``style`` image or a ``preset`` field
    (``preset_00`` ... ``preset_25``, fast method only); optional ``method`` (fast or gatys), ``size``
    (longest output side: 16 to 2048 fast, 1024 gatys; default 512), ``strength`` (0 to 1) and
    ``preserve_color``. Answers 202 with the job, or 429 with ``Retry-After`` when the queue is full.
    """
    try:
        job = await queue_stylize(request, settings, jobs, owner_of(request))
    except QueueFull as exc:
        raise queue_full(exc) from None
    return accepted(job, response)


@router.get("/style/presets", response_model=PresetList)
def presets_route(request: Request) -> dict[str, Any]:
    """The style presets of the fast method, each with the URL of its preview (null while the presets'
    weights are not on the server: ``artlens weights fetch``)."""
    from artlens.style.fast import preset_names

    ready = previews_available()
    return {"presets": [{"name": name,
                         "preview": str(request.url_for("preset_preview_route", name=name).path) if ready
                         else None}
                        for name in preset_names()]}


@router.get("/style/presets/{name}/preview", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}},
                             "description": "The preset applied to a fixed sample photo (JPEG)"},
                       404: {"description": "No such preset"}})
async def preset_preview_route(name: str) -> FileResponse:
    """A preset applied to a fixed sample photo: rendered on the first request, then served from disk.

    Renders take their own lock, not a slot of the requests doing heavy work: a page showing the previews
    never holds up screening. Previews are kept in artlens's cache folder, shared by the servers of a
    machine."""
    from artlens.style.fast import preset_names

    if name not in preset_names():  # a closed list: nothing from the client reaches the file system
        raise ApiError(404, "not_found", f"no preset {name!r}")
    try:
        path = await anyio.to_thread.run_sync(preset_preview, name)
    except ArtlensError as exc:
        raise ApiError(503, "model_unavailable", f"the preview cannot be rendered: {exc}") from None
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})
