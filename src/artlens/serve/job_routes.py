"""Assess batches as jobs, and retries: ``POST /v1/assess/jobs`` and ``POST /v1/jobs/{id}/retry``.

An assess job takes the inputs of ``POST /v1/assess`` (uploads, or JSON paths under ``--allow-root``: up to
:data:`MAX_JOB_IMAGES` images rather than ``--max-files``), runs in the service's bounded job pool
(:class:`~artlens.serve.jobs.JobQueue`, 429 when full) with its progress updated per image, and leaves its
``artlens.assess/1`` report as JSON at ``/v1/results/{id}``.

Each assess job gets its own ``0700`` folder under the queue's ``inputs_dir``: a copy of the uploads (the
request's temporary files go when the request ends) and ``job.json``, what the job needs to run again. The
folder is deleted when the job ends. A job interrupted by a restart keeps it (style-transfer jobs keep their
upload folder the same way), so that ``POST /v1/jobs/{id}/retry`` queues *the same job* again (same id and
URL, ``attempts`` one more) with the same inputs; 409 when the job is not failed-retriable or its inputs are
gone.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.params import Depends
from fastapi.responses import JSONResponse

from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERROR_SCHEMA, ERRORS, Inputs, PathsRequest, body_doc, json_body, read_inputs
from artlens.serve.jobs import Job, JobQueue, NotRetriable, QueueFull, Work, write_json
from artlens.serve.paths import expand
from artlens.serve.settings import ServeSettings
from artlens.serve.work import assess_inputs, policy_named, stylize_work

__all__ = ["MAX_JOB_IMAGES", "job_router"]

#: Most images one assess job may name by path (uploads stay limited by ``--max-files`` per request).
MAX_JOB_IMAGES = 10_000
_SPEC = "job.json"
_ACCEPTED = {202: {"description": "The job, queued; its URL in Location"},
             429: {"description": "The job queue is full (see Retry-After)",
                   "content": {"application/json": {"schema": ERROR_SCHEMA}}}}


def _accepted(job: Job) -> JSONResponse:
    body = {"job": job.as_dict()}
    return JSONResponse(body, status_code=202, headers={"Location": body["job"]["links"]["self"]})


def _queue_full(exc: QueueFull) -> ApiError:
    return ApiError(429, "queue_full", str(exc), {"Retry-After": str(exc.retry_after)})


def _assess_work(folder: Path, spec: dict[str, Any], files: list[Path], errors: list[dict[str, str]],
                 settings: ServeSettings, jobs: JobQueue, metrics: Any) -> Work:
    """The work of an assess job: the report of ``files`` (uploads shown by the clients' names) as JSON."""
    names = {str(folder / saved): shown for saved, shown in spec["uploads"].items()}
    fields = {"policy": spec["policy"]} if spec["policy"] is not None else {}

    def work(job_id: str, report: Callable[[float], None]) -> list[Path]:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            fraction = done / total if total else 1.0
            if fraction >= last[0] + 0.01 or done == total:  # at most ~100 database writes per job
                last[0] = fraction
                report(fraction)

        inputs = Inputs(files, names, fields, errors, nullcontext())
        result = inputs.relabel(assess_inputs(inputs, settings, progress))
        if metrics is not None:
            metrics.images.inc(len(result["images"]), operation="assess", outcome="ok")
            metrics.images.inc(len(result["errors"]), operation="assess", outcome="error")
        return [write_json(result, jobs.results_dir, f"{job_id}.json")]

    return work


def _rebuild_assess(folder: Path, settings: ServeSettings, jobs: JobQueue, metrics: Any) -> Work:
    """The work of an assess job again, from its folder; :class:`NotRetriable` when something is gone."""
    try:
        spec = json.loads((folder / _SPEC).read_text(encoding="utf-8"))
        policy_named(spec["policy"])
    except (OSError, ValueError, KeyError, ApiError):
        raise NotRetriable(f"the inputs of this job are incomplete on the server ({folder.name}): "
                           "submit it again") from None
    if spec["uploads"]:
        files = [folder / saved for saved in spec["uploads"]]
        if not all(path.is_file() for path in files):
            raise NotRetriable("some uploads of this job are no longer on the server: submit it again")
        return _assess_work(folder, spec, files, [], settings, jobs, metrics)
    try:
        files, missing = expand(spec["paths"], settings.allow_roots)  # checked against today's roots
    except ApiError as exc:
        raise NotRetriable(f"the paths of this job can no longer be read: {exc.message}") from None
    if not files:
        raise NotRetriable("none of the files of this job is still on the server: submit it again")
    return _assess_work(folder, spec, files, spec["errors"] + missing, settings, jobs, metrics)


def _rebuild_stylize(folder: Path, job: Job, settings: ServeSettings, jobs: JobQueue) -> Work:
    """The work of a style-transfer job again, from its upload folder (``000.*`` content, ``001.*`` style)."""
    roles = ["content", "style"] if "style_name" in job.params else ["content"]
    files = sorted(path for path in folder.iterdir() if path.is_file())
    if len(files) != len(roles):
        raise NotRetriable("the uploads of this job are no longer on the server: submit it again")
    paths = dict(zip(roles, files, strict=True))
    labels = {str(path): f"{role} ({job.params.get(role + '_name', role)})" for role, path in paths.items()}
    return stylize_work(paths, job.params, settings, jobs, labels)


def job_router(settings: ServeSettings, jobs: JobQueue, dependencies: Sequence[Depends],
               owned_job: Callable[[Request, str], Job], metrics: Any = None) -> APIRouter:
    """The ``/v1/assess/jobs`` and ``/v1/jobs/{id}/retry`` routes over the app's job queue.

    Parameters
    ----------
    settings
        Checked settings (:meth:`ServeSettings.check`).
    jobs
        The app's job queue; results are read back by ``GET /v1/results/{id}``.
    dependencies
        The app's auth dependency (``[Depends(require_key)]``).
    owned_job
        ``owned_job(request, id)``: the job if the request's key created it, else a 404 :class:`ApiError`.
    metrics
        The app's :class:`~artlens.serve.metrics.Registry` (images counted per job), or None.

    Returns
    -------
    fastapi.APIRouter
        A router with prefix ``/v1`` to pass to ``app.include_router``.
    """
    router = APIRouter(prefix="/v1", dependencies=list(dependencies), responses=ERRORS)

    def prepare(spec: dict[str, Any], uploads: dict[Path, str], files: list[Path],
                errors: list[dict[str, str]], owner: str | None) -> Job:
        folder = Path(tempfile.mkdtemp(prefix="assess-", dir=jobs.inputs_dir))
        cleanup = ExitStack()  # the job's from submit on; ours if anything fails before
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        try:
            for source in uploads:
                shutil.copyfile(source, folder / source.name)
            spec["uploads"] = {source.name: shown for source, shown in uploads.items()}
            (folder / _SPEC).write_text(json.dumps(spec), encoding="utf-8")
            if uploads:
                files = [folder / source.name for source in uploads]
            work = _assess_work(folder, spec, files, errors, settings, jobs, metrics)
            params = {"policy": spec["policy"] or "general", "images": len(files),
                      "source": "uploads" if uploads else "paths"}
            return jobs.submit("assess", work, owner=owner, params=params, inputs=folder, cleanup=cleanup,
                               media_type="application/json")
        except BaseException:
            cleanup.close()
            raise

    @router.post("/assess/jobs", tags=["assess"], status_code=202, responses=_ACCEPTED,
                 openapi_extra=body_doc({"policy": {"type": "string",
                                                     "description": "Preset name (default: general)."}}))
    async def assess_job_route(request: Request) -> JSONResponse:
        """Queue a screening job: its ``artlens.assess/1`` report is JSON at ``/v1/results/{id}`` once done.

        Same inputs as ``/v1/assess`` (uploads, or JSON ``{"paths": [...], "policy": ...}`` under the
        server's ``--allow-root`` folders, up to 10,000 images by path). Answers 202 with the job (progress
        per image), or 429 with ``Retry-After`` when the queue is full.
        """
        owner = getattr(request.state, "key_id", None)
        kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        try:
            if kind == "application/json":
                body = await json_body(request, PathsRequest, settings)
                if body.model is not None or body.top_k is not None:
                    raise ApiError(422, "invalid_input", "unknown field(s) for assess: model, top_k")
                policy_named(body.policy)
                files, errors = await anyio.to_thread.run_sync(expand, body.paths, settings.allow_roots)
                if len(files) > MAX_JOB_IMAGES:
                    raise ApiError(413, "too_many_files", f"the paths name {len(files)} images; at most "
                                   f"{MAX_JOB_IMAGES} per job")
                if not files and not errors:
                    raise ApiError(422, "no_files", "the paths name no image files")
                spec = {"policy": body.policy, "paths": [str(f) for f in files], "errors": errors}
                job = await anyio.to_thread.run_sync(prepare, spec, {}, files, errors, owner)
            else:
                inputs = await read_inputs(request, settings)  # multipart, else 415
                with inputs.cleanup:
                    unknown = set(inputs.fields) - {"policy"}
                    if unknown:
                        raise ApiError(422, "invalid_input",
                                       f"unknown field(s) for assess: {', '.join(sorted(unknown))}")
                    policy_named(inputs.fields.get("policy"))
                    refused = inputs.errors  # bad files of the batch: in the job's report under errors
                    spec = {"policy": inputs.fields.get("policy"), "paths": [], "errors": refused}
                    uploads = {Path(saved): shown for saved, shown in inputs.names.items()}
                    job = await anyio.to_thread.run_sync(prepare, spec, uploads, [], refused, owner)
        except QueueFull as exc:
            raise _queue_full(exc) from None
        return _accepted(job)

    @router.post("/jobs/{job_id}/retry", tags=["jobs"], status_code=202, responses=_ACCEPTED | {
        409: {"description": "Not failed-retriable, or its inputs are gone",
              "content": {"application/json": {"schema": ERROR_SCHEMA}}}})
    def retry_route(request: Request, job_id: str) -> JSONResponse:
        """Queue a job interrupted by a server restart again: the same job (id, URL), with its saved inputs.

        Answers 202 with the job (``attempts`` one more), 409 ``not_retriable`` when the job is not
        failed-retriable or its inputs are no longer on the server, 429 when the queue is full.
        """
        job = owned_job(request, job_id)

        def build(job: Job, folder: Path) -> Work:
            if job.kind == "assess":
                return _rebuild_assess(folder, settings, jobs, metrics)
            if job.kind == "stylize":
                return _rebuild_stylize(folder, job, settings, jobs)
            raise NotRetriable(f"jobs of kind {job.kind!r} cannot be retried")

        try:
            return _accepted(jobs.retry(job.id, build))
        except NotRetriable as exc:
            raise ApiError(409, "not_retriable", str(exc)) from None
        except QueueFull as exc:
            raise _queue_full(exc) from None

    return router
