"""Screening: ``POST /v1/assess`` (answered at once) and ``POST /v1/assess/jobs`` (a job, for large
batches)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request, Response

from artlens.serve.assess_jobs import MAX_JOB_IMAGES, submit_assess
from artlens.serve.deps import GUARDED, JobsDep, LimiterDep, MetricsDep, SettingsDep, owner_of
from artlens.serve.errors import ApiError
from artlens.serve.inputs import (
    ERRORS,
    PathsRequest,
    body_doc,
    content_type,
    flag_field,
    json_body,
    read_inputs,
)
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import QueueFull
from artlens.serve.paths import expand
from artlens.serve.responses import AssessReport, JobAnswer
from artlens.serve.work import assess_inputs, check_explain, policy_named

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["assess"])
_POLICY = {"policy": {"type": "string", "description": "Preset name (default: general)."}}


@router.post("/assess", response_model=AssessReport, openapi_extra=body_doc(_POLICY))
async def assess_route(request: Request, settings: SettingsDep, limiter: LimiterDep,
                       metrics: MetricsDep) -> dict[str, Any]:
    """Screen images: an ``artlens.assess/1`` report (pass/review/fail with reasons per image).

    Send uploads as ``multipart/form-data`` (file parts, optional ``policy`` field), or JSON
    ``{"paths": [...], "policy": ...}`` naming files or folders under the server's ``--allow-root``
    folders. Files that cannot be decoded are listed under ``errors``; the others are still assessed.
    """
    inputs = await read_inputs(request, settings)
    with inputs.cleanup:
        report = await anyio.to_thread.run_sync(assess_inputs, inputs, settings, limiter=limiter)
    report = inputs.relabel(report)
    metrics.images.inc(len(report["images"]), operation="assess", outcome="ok")
    metrics.images.inc(len(report["errors"]), operation="assess", outcome="error")
    return report


@router.post("/assess/jobs", status_code=202, response_model=JobAnswer, responses=ACCEPTED,
             openapi_extra=body_doc(_POLICY | {"explain": {
                 "type": "boolean", "default": False,
                 "description": "Also draw each image's quality heat map (not with --technical)."}}))
async def assess_job_route(request: Request, response: Response, settings: SettingsDep, jobs: JobsDep,
                           metrics: MetricsDep) -> dict[str, Any]:
    """Queue a screening job: its ``artlens.assess/1`` report is JSON at ``/v1/results/{id}`` once done.

    Same inputs as ``/v1/assess`` (uploads, or JSON ``{"paths": [...], "policy": ...}`` under the
    server's ``--allow-root`` folders, up to 10,000 images by path). With ``explain`` true, each image's
    quality heat map (the overlay of ``/v1/explain``) is drawn while it is assessed, and the report's
    ``explanation.path`` is its URL, ``/v1/results/{id}/explanations/{name}``. Answers 202 with the job
    (progress per image), or 429 with ``Retry-After`` when the queue is full.
    """
    owner = owner_of(request)
    try:
        if content_type(request) == "application/json":
            body = await json_body(request, PathsRequest, settings)
            if body.model is not None or body.top_k is not None:
                raise ApiError(422, "invalid_input", "unknown field(s) for assess: model, top_k")
            policy_named(body.policy)
            if body.explain:
                check_explain(settings)
            files, errors = await anyio.to_thread.run_sync(expand, body.paths, settings.allow_roots)
            if len(files) > MAX_JOB_IMAGES:
                raise ApiError(413, "too_many_files", f"the paths name {len(files)} images; at most "
                               f"{MAX_JOB_IMAGES} per job")
            if not files and not errors:
                raise ApiError(422, "no_files", "the paths name no image files")
            spec = {"policy": body.policy, "paths": [str(f) for f in files], "errors": errors,
                    "explain": bool(body.explain)}
            job = await anyio.to_thread.run_sync(submit_assess, spec, {}, files, errors, owner, settings,
                                                 jobs, metrics)
        else:
            inputs = await read_inputs(request, settings)  # multipart, else 415
            with inputs.cleanup:
                unknown = set(inputs.fields) - {"policy", "explain"}
                if unknown:
                    raise ApiError(422, "invalid_input",
                                   f"unknown field(s) for assess: {', '.join(sorted(unknown))}")
                policy_named(inputs.fields.get("policy"))
                explain = flag_field(inputs.fields, "explain")
                if explain:
                    check_explain(settings)
                refused = inputs.errors  # bad files of the batch: in the job's report under errors
                spec = {"policy": inputs.fields.get("policy"), "paths": [], "errors": refused,
                        "explain": explain}
                uploads = {Path(saved): shown for saved, shown in inputs.names.items()}
                job = await anyio.to_thread.run_sync(submit_assess, spec, uploads, [], refused, owner,
                                                     settings, jobs, metrics)
    except QueueFull as exc:
        raise queue_full(exc) from None
    return accepted(job, response)
