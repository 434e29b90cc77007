"""Writing: ``POST /v1/write`` (a job, or a stream) for a poem, story, caption or gallery label, about a
picture if sent.

JSON (:class:`~artlens.serve.text_jobs.WriteBody`), or ``multipart/form-data`` with an ``image`` file and the
same fields. Answers 202 with the job, 429 when the queue is full; the job's result is ``artlens.write/1``.
With ``stream: true`` it answers 200 with Server-Sent Events instead: the text as it is written, then the
record (:mod:`artlens.serve.text_stream`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from artlens.serve.deps import GUARDED, JobsDep, SettingsDep, owner_of
from artlens.serve.inputs import ERRORS, content_type, json_body
from artlens.serve.job_answers import ACCEPTED, accepted, queue_full
from artlens.serve.jobs import QueueFull
from artlens.serve.responses import JobAnswer
from artlens.serve.text_jobs import WriteBody, read_picture, write_work
from artlens.serve.text_stream import STREAM_MEDIA_TYPE, open_write_stream
from artlens.serve.uploads import read_multipart

__all__ = ["router"]

router = APIRouter(prefix="/v1", dependencies=GUARDED, responses=ERRORS, tags=["text"])
_WRITE_DOC = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": WriteBody.model_json_schema()},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "image": {"type": "string", "format": "binary"}}}}}}}
_STREAM_DOC = {200: {"description": "With stream: true, Server-Sent Events: 'text' events "
                                    "({\"text\": piece}) as the text is written, then one 'record' event "
                                    "(artlens.write/1), or an 'error' event ({\"message\"}).",
                     "content": {STREAM_MEDIA_TYPE: {"schema": {"type": "string"}}}}}


@router.post("/write", status_code=202, response_model=JobAnswer, responses={**ACCEPTED, **_STREAM_DOC},
             openapi_extra=_WRITE_DOC)
async def write_route(request: Request, response: Response, settings: SettingsDep,
                      jobs: JobsDep) -> Any:
    """Queue a text: ``kind`` (poem, story, caption, label), ``about``, ``style`` ("poetry" for the shipped
    LSTM, else SmolLM2-135M-Instruct), ``lines``, ``seed``, ``temperature``, ``max_tokens``; with an
    ``image`` file (multipart), the text is about what artlens sees in it. With ``stream: true`` the answer
    is a stream of Server-Sent Events as the text is written, not a job."""
    picture, shown = None, ""
    if content_type(request) == "multipart/form-data":
        batch = await read_multipart(request, settings)
        body = WriteBody.from_form(batch.fields)
        picture, shown = read_picture(batch, settings)
    else:
        body = await json_body(request, WriteBody, settings)
    if body.stream:
        return StreamingResponse(open_write_stream(body, picture), media_type=STREAM_MEDIA_TYPE,
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    params = body.model_dump(exclude={"stream"}) | ({"image_name": shown} if shown else {})
    try:
        job = jobs.submit("write", write_work(body, jobs, picture), owner=owner_of(request), params=params,
                          media_type="application/json")
    except QueueFull as exc:
        raise queue_full(exc) from None
    return accepted(job, response)
