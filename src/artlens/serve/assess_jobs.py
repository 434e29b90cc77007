"""Assess batches as jobs: the work of a job, its saved inputs, and the same job again after a restart.

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
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

from artlens.serve.errors import ApiError
from artlens.serve.inputs import Inputs
from artlens.serve.jobs import Job, JobQueue, NotRetriable, Work, write_json
from artlens.serve.metrics import Registry
from artlens.serve.paths import expand
from artlens.serve.settings import ServeSettings
from artlens.serve.work import assess_inputs, policy_named

__all__ = ["EXPLANATION_NAME", "MAX_JOB_IMAGES", "explanations_folder", "rebuild_assess", "submit_assess"]

#: Most images one assess job may name by path (uploads stay limited by ``--max-files`` per request).
MAX_JOB_IMAGES = 10_000
_SPEC = "job.json"
#: The file names of an assess job's heat maps (``GET /v1/results/{id}/explanations/{name}``).
EXPLANATION_NAME = re.compile(r"^[^/\\\x00]{1,200}\.quality-map\.jpg$")


def explanations_folder(jobs: JobQueue, job_id: str) -> Path:
    """Where the heat maps of assess job ``job_id`` are written (``explain``)."""
    return jobs.results_dir / f"{job_id}.explanations"


def _link_explanations(report: dict[str, Any], job_id: str) -> dict[str, Any]:
    """The report's heat maps named by their URLs, not by the server's folders."""
    for image in report["images"]:
        explanation = image.get("explanation")
        if explanation is not None:
            explanation["path"] = f"/v1/results/{job_id}/explanations/{Path(explanation['path']).name}"
    return report


def _assess_work(folder: Path, spec: dict[str, Any], files: list[Path], errors: list[dict[str, str]],
                 settings: ServeSettings, jobs: JobQueue, metrics: Registry | None) -> Work:
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
        explain_dir = explanations_folder(jobs, job_id) if spec.get("explain") else None
        result = _link_explanations(inputs.relabel(assess_inputs(inputs, settings, progress, explain_dir)),
                                    job_id)
        if metrics is not None:
            metrics.images.inc(len(result["images"]), operation="assess", outcome="ok")
            metrics.images.inc(len(result["errors"]), operation="assess", outcome="error")
        return [write_json(result, jobs.results_dir, f"{job_id}.json")]

    return work


def rebuild_assess(folder: Path, settings: ServeSettings, jobs: JobQueue, metrics: Registry | None) -> Work:
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


def submit_assess(spec: dict[str, Any], uploads: dict[Path, str], files: list[Path],
                  errors: list[dict[str, str]], owner: str | None, settings: ServeSettings, jobs: JobQueue,
                  metrics: Registry | None) -> Job:
    """Save a job's inputs in a folder of its own and queue it (:class:`QueueFull` when the queue is full).

    ``spec`` holds ``policy``, ``paths``, ``errors`` and ``explain``; ``uploads`` maps the request's saved
    files to the clients' names (copied into the folder), else ``files`` are the paths to assess.
    """
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
        if spec.get("explain"):
            params["explain"] = True
        return jobs.submit("assess", work, owner=owner, params=params, inputs=folder, cleanup=cleanup,
                           media_type="application/json")
    except BaseException:
        cleanup.close()
        raise
