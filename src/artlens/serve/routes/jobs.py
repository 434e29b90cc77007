"""Jobs: ``GET /v1/jobs/{id}``, ``GET /v1/results/{id}`` and ``POST /v1/jobs/{id}/retry``.

A job is visible only to the API key that created it (others get 404).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from artlens.serve.assess_jobs import EXPLANATION_NAME, explanations_folder, rebuild_assess
from artlens.serve.deps import GUARDED, JobsDep, MetricsDep, OwnedJob, SettingsDep
from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERROR_SCHEMA, ERRORS
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import Job, NotRetriable, QueueFull, Work
from artlens.serve.responses import JobAnswer
from artlens.serve.style_jobs import rebuild_stylize

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["jobs"])


@router.get("/jobs/{job_id}", response_model=JobAnswer)
def job_route(job: OwnedJob) -> dict[str, Any]:
    """A job: status (queued, running, done, failed), progress 0 to 1, error, retriable, result links."""
    return {"job": job.as_dict()}


@router.get("/results/{job_id}", response_class=FileResponse,
            responses={200: {"content": {"image/png": {}, "application/json": {}},
                             "description": "The result: a PNG (stylize) or an assess report (assess)"}})
def result_route(job: OwnedJob, jobs: JobsDep) -> FileResponse:
    """The result of a done job: PNG of a style transfer, JSON report of an assess job (404 before)."""
    path = jobs.result_path(job)
    if path is None:
        raise ApiError(404, "no_result", f"job {job.id} has no result ({job.status})")
    return FileResponse(path, media_type=job.media_type, headers={"Cache-Control": "private, max-age=3600"})


@router.get("/results/{job_id}/explanations/{name}", response_class=FileResponse,
            responses={200: {"content": {"image/jpeg": {}},
                             "description": "One heat map of an assess job run with explain"}})
def explanation_route(job: OwnedJob, name: str, jobs: JobsDep) -> FileResponse:
    """A quality heat map of a done assess job run with ``explain`` (its report's ``explanation.path``)."""
    folder = explanations_folder(jobs, job.id)
    path = folder / name
    if job.status != "done" or not EXPLANATION_NAME.match(name) or not path.is_file() \
            or path.parent != folder:
        raise ApiError(404, "not_found", f"job {job.id} has no heat map {name!r}")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.post("/jobs/{job_id}/retry", status_code=202, response_model=JobAnswer, responses=ACCEPTED | {
    409: {"description": "Not failed-retriable, or its inputs are gone",
          "content": {"application/json": {"schema": ERROR_SCHEMA}}}})
def retry_route(job: OwnedJob, response: Response, settings: SettingsDep, jobs: JobsDep,
                metrics: MetricsDep) -> dict[str, Any]:
    """Queue a job interrupted by a server restart again: the same job (id, URL), with its saved inputs.

    Answers 202 with the job (``attempts`` one more), 409 ``not_retriable`` when the job is not
    failed-retriable or its inputs are no longer on the server, 429 when the queue is full.
    """
    def build(job: Job, folder: Path) -> Work:
        if job.kind == "assess":
            return rebuild_assess(folder, settings, jobs, metrics)
        if job.kind == "stylize":
            return rebuild_stylize(folder, job, settings, jobs)
        raise NotRetriable(f"jobs of kind {job.kind!r} cannot be retried")

    try:
        return accepted(jobs.retry(job.id, build), response)
    except NotRetriable as exc:
        raise ApiError(409, "not_retriable", str(exc)) from None
    except QueueFull as exc:
        raise queue_full(exc) from None
