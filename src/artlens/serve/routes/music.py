"""Music: ``POST /v1/compose`` and ``POST /v1/harmonize`` (jobs), ``GET /v1/music/{id}/{file}`` (their files).

Compose takes JSON; harmonize takes ``multipart/form-data`` with a ``melody`` file and the same optional
fields (:mod:`artlens.serve.music_jobs`). Both answer 202 with the job, 429 when the queue is full.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from artlens.serve.deps import GUARDED, JobsDep, OwnedJob, SettingsDep, owner_of
from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERRORS, content_type, json_body
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import QueueFull
from artlens.serve.music_jobs import FILES, ComposeRequest, HarmonizeFields, music_work, save_melody
from artlens.serve.responses import JobAnswer
from artlens.serve.uploads import read_multipart

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["music"])
_COMPOSE_DOC = {"requestBody": {"required": False, "content": {"application/json": {
    "schema": ComposeRequest.model_json_schema()}}}}


@router.post("/compose", status_code=202, response_model=JobAnswer, responses=ACCEPTED,
             openapi_extra=_COMPOSE_DOC)
async def compose_route(request: Request, response: Response, settings: SettingsDep,
                        jobs: JobsDep) -> dict[str, Any]:
    """Queue a composition with the shipped Bach chorale model: ``bars``, ``key``, ``meter``,
    ``temperature``, ``top_p``, ``seed``, ``tempo``, ``rules``; ``wav`` (default true) and ``musicxml`` add
    those files. The job's result is the ``artlens.music/1`` summary with links to its files."""
    spec = await json_body(request, ComposeRequest, settings)
    params = spec.model_dump()
    try:
        job = jobs.submit("compose", music_work("compose", params, jobs), owner=owner_of(request),
                          params=params, media_type="application/json")
    except QueueFull as exc:
        raise queue_full(exc) from None
    return accepted(job, response)


@router.post("/harmonize", status_code=202, response_model=JobAnswer, responses=ACCEPTED)
async def harmonize_route(request: Request, response: Response, settings: SettingsDep,
                          jobs: JobsDep) -> dict[str, Any]:
    """Queue a harmonisation: ``multipart/form-data`` with a ``melody`` file (MIDI, MusicXML or ABC; its
    top part is the soprano, kept unchanged) and optional fields key, temperature, top_p, seed,
    candidates, rules, wav, musicxml. The model writes alto, tenor and bass."""
    if content_type(request) != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data with a 'melody' file")
    batch = await read_multipart(request, settings)
    fields = HarmonizeFields.from_form(batch.fields)
    path, shown, cleanup = save_melody(batch, jobs.inputs_dir)
    params = fields.model_dump() | {"melody_name": shown}
    try:
        job = jobs.submit("harmonize", music_work("harmonize", params, jobs, path, shown),
                          owner=owner_of(request), params=params, inputs=path.parent, cleanup=cleanup,
                          media_type="application/json")
    except QueueFull as exc:
        cleanup.close()
        raise queue_full(exc) from None
    except BaseException:
        cleanup.close()
        raise
    return accepted(job, response)


@router.get("/music/{job_id}/{name}", response_class=FileResponse,
            responses={200: {"content": {media: {} for _, media in FILES.values()}}})
def music_file_route(job: OwnedJob, name: str, jobs: JobsDep) -> FileResponse:
    """A file of a done compose or harmonize job: ``midi``, ``wav``, ``roll`` (PNG) or ``musicxml``."""
    if job.kind not in ("compose", "harmonize") or name not in FILES:
        raise ApiError(404, "not_found", f"no music file {name!r} for job {job.id}")
    suffix, media = FILES[name]
    stored = next((r for r in job.results if r.endswith(suffix)), None) if job.status == "done" else None
    path = jobs.results_dir / stored if stored else None
    if path is None or not path.is_file():
        raise ApiError(404, "no_result", f"job {job.id} has no {name} file ({job.status})")
    return FileResponse(path, media_type=media, filename=f"{job.kind}-{job.id}{suffix}",
                        headers={"Cache-Control": "private, max-age=3600"})
