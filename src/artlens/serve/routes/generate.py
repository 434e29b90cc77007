"""Generation: ``GET /v1/gans`` (the registered GANs), ``POST /v1/generate`` (a job) and
``GET /v1/generate/{id}/grid`` (its grid PNG)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from artlens.serve.deps import GUARDED, JobsDep, OwnedJob, SettingsDep, owner_of
from artlens.serve.errors import ApiError
from artlens.serve.gan_jobs import GansList, GenerateRequest, describe_gans, gan_work
from artlens.serve.inputs import ERRORS, json_body
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import QueueFull
from artlens.serve.responses import JobAnswer

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["generate"])
_DOC = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": GenerateRequest.model_json_schema()}}}}


@router.get("/gans", response_model=GansList)
def gans_route(settings: SettingsDep) -> dict[str, Any]:
    """The GANs this service was started with (``artlens serve --gan NAME=MODEL``)."""
    return {"gans": describe_gans(settings.gans)}


@router.post("/generate", status_code=202, response_model=JobAnswer, responses=ACCEPTED, openapi_extra=_DOC)
async def generate_route(request: Request, response: Response, settings: SettingsDep,
                         jobs: JobsDep) -> dict[str, Any]:
    """Queue new images from a registered GAN: ``model``, ``n`` (1-64), ``seed``, ``truncation``. The job's
    result is an ``artlens.generated/1`` summary linking the grid PNG."""
    spec = await json_body(request, GenerateRequest, settings)
    folder = settings.gans.get(spec.model)
    if folder is None:
        known = ", ".join(sorted(settings.gans)) or "none (start the service with --gan NAME=MODEL)"
        raise ApiError(404, "not_found", f"no GAN called {spec.model!r}; registered: {known}")
    params = spec.model_dump()
    try:
        job = jobs.submit("generate", gan_work(params, folder, jobs), owner=owner_of(request), params=params,
                          media_type="application/json")
    except QueueFull as exc:
        raise queue_full(exc) from None
    return accepted(job, response)


@router.get("/generate/{job_id}/grid", response_class=FileResponse,
            responses={200: {"content": {"image/png": {}}}})
def generate_grid_route(job: OwnedJob, jobs: JobsDep) -> FileResponse:
    """The grid PNG of a done generate job."""
    stored = next((r for r in job.results if r.endswith(".png")), None) \
        if job.kind == "generate" and job.status == "done" else None
    path = jobs.results_dir / stored if stored else None
    if path is None or not path.is_file():
        raise ApiError(404, "no_result", f"job {job.id} has no grid ({job.status})")
    return FileResponse(path, media_type="image/png", filename=f"generate-{job.id}.png",
                        headers={"Cache-Control": "private, max-age=3600"})
