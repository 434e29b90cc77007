"""Writing as jobs: the checked request, the optional picture, and the work.

A ``write`` job runs :func:`artlens.text.write` in the service's job pool, with the prompted model
(SmolLM2-135M-Instruct) or, with ``style: "poetry"``, the shipped poetry LSTM (a client cannot name a
folder on the server). A done job's first result, at ``/v1/results/{id}``, is the ``artlens.write/1``
record. The picture is decoded when the request arrives (a bad one is a 422 naming the client's file) and
held in memory, so a write job is not retriable after a restart: it takes seconds, so submit it again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artlens.errors import ArtlensError
from artlens.imageio import load_image_bytes
from artlens.serve.errors import ApiError, invalid_input
from artlens.serve.jobs import JobQueue, Work, write_json
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import Batch, display_name, one_upload

__all__ = ["WriteBody", "read_picture", "write_work"]


class WriteBody(BaseModel):
    """JSON body of ``/v1/write`` (or the form fields beside an ``image`` file)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["poem", "story", "caption", "label"] = "poem"
    about: str | None = Field(default=None, max_length=500, description="What the text is about.")
    style: Literal["poetry"] | None = Field(default=None, description="'poetry': the shipped LSTM "
                                            "writes; none: the prompted model SmolLM2-135M-Instruct.")
    lines: int | None = Field(default=None, ge=1, le=40)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    temperature: float = Field(default=0.7, ge=0.05, le=3.0)
    max_tokens: int = Field(default=220, ge=8, le=512)
    stream: bool = Field(default=False, description="Answer with Server-Sent Events as the text is written "
                         "(200, text/event-stream) instead of queueing a job.")

    @classmethod
    def from_form(cls, fields: dict[str, str]) -> WriteBody:
        """The form's fields checked (422 naming the first bad one); empty fields are left out."""
        try:
            return cls.model_validate({k: v for k, v in fields.items() if v != ""})
        except ValidationError as exc:
            raise invalid_input(exc) from None


def read_picture(batch: Batch, settings: ServeSettings) -> tuple[np.ndarray, str]:
    """The one ``image`` file of ``batch`` decoded (422 naming the client's file when it is not a picture)."""
    with one_upload(batch, "image", "send at most one file, in the field 'image'") as image:
        shown = display_name(image.filename, 0)
        try:
            loaded = load_image_bytes(image.file.read(), shown, max_pixels=settings.max_pixels)
        except ArtlensError as exc:
            raise ApiError(422, "unreadable_image", str(exc)) from None
    return loaded.rgb, shown


def write_work(body: WriteBody, jobs: JobQueue, picture: np.ndarray | None = None) -> Work:
    """The work of a ``write`` job: the ``artlens.write/1`` record as JSON."""
    def work(job_id: str, report: Callable[[float], None]) -> list[Path]:
        from artlens.text import WriteRequest, write

        report(0.05)
        request = WriteRequest(kind=body.kind, about=body.about, style=body.style, lines=body.lines,
                               seed=body.seed, temperature=body.temperature, max_new_tokens=body.max_tokens)
        record: dict[str, Any] = write(request, picture)
        return [write_json(record, jobs.results_dir, f"{job_id}.json")]

    return work
