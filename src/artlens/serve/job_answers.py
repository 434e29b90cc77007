"""How the routes that queue a job answer: 202 with the job and its URL, or 429 when the queue is full."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERROR_SCHEMA
from artlens.serve.jobs import Job, QueueFull

__all__ = ["ACCEPTED", "accepted", "queue_full"]

#: OpenAPI answers of a route that queues a job (besides the app's errors).
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "The job, queued; its URL in Location"},
    429: {"description": "The job queue is full (see Retry-After)",
          "content": {"application/json": {"schema": ERROR_SCHEMA}}}}


def accepted(job: Job, response: Response) -> dict[str, Any]:
    """The body of a 202 answer, with the job's URL put in ``response``'s Location header."""
    body = {"job": job.as_dict()}
    response.headers["Location"] = body["job"]["links"]["self"]
    return body


def queue_full(exc: QueueFull) -> ApiError:
    return ApiError(429, "queue_full", str(exc), {"Retry-After": str(exc.retry_after)})
