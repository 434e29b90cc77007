"""Writing: ``POST /v1/write`` (a job) for a poem, story, caption or gallery label, about a picture if sent.

JSON (:class:`~artlens.serve.text_jobs.WriteBody`), or ``multipart/form-data`` with an ``image`` file and the
same fields. Answers 202 with the job, 429 when the queue is full; the job's result is ``artlens.write/1``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from artlens.serve.deps import GUARDED, JobsDep, SettingsDep, owner_of
from artlens.serve.inputs import ERRORS, content_type, json_body
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import QueueFull
from artlens.serve.responses import JobAnswer
from artlens.serve.text_jobs import WriteBody, read_picture, write_work
from artlens.serve.uploads import read_multipart

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["text"])
_WRITE_DOC = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": WriteBody.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "image": {"type": "string", "format": "binary"}}}}}}}


@router.post("/write", status_code=202, response_model=JobAnswer, responses=ACCEPTED,
             openapi_extra=_WRITE_DOC)
async def write_route(request: Request, response: Response, settings: SettingsDep,
                      jobs: JobsDep) -> dict[str, Any]:
    """Queue a text: ``kind`` (poem, story, caption, label), ``about``, ``style`` ("poetry" for the shipped
    char-LSTM, else SmolLM2-135M-Instruct), ``lines``, ``seed``, ``temperature``, ``max_tokens``; with an
    ``image`` file (multipart), the text is about what artlens sees in it."""
    picture, shown = None, ""
    if content_type(request) == "multipart/form-data":
        batch = await read_multipart(request, settings)
        body = WriteBody.from_form(batch.fields)
        picture, shown = read_picture(batch, settings)
    else:
        body = await json_body(request, WriteBody, settings)
    params = body.model_dump() | ({"image_name": shown} if shown else {})
    try:
        job = jobs.submit("write", write_work(body, jobs, picture), owner=owner_of(request), params=params,
                          media_type="application/json")
    except QueueFull as exc:
        raise queue_full(exc) from None
    return accepted(job, response)
