"""``POST /v1/compose`` and ``POST /v1/harmonize`` as jobs, and ``GET /v1/music/{id}/{file}`` for their files.

Both run the library's :func:`artlens.music.generate` / :func:`artlens.music.harmonize` with the shipped
chorale model in the service's job pool (429 when full). A done job's first result, at
``/v1/results/{id}``, is its ``artlens.music/1`` summary as JSON, whose ``files`` name the links of the MIDI
file, the piano-roll PNG and (when asked) the WAV audio and MusicXML score. Compose takes JSON; harmonize
takes ``multipart/form-data`` with a ``melody`` file (MIDI, MusicXML or ABC, recognised by its first bytes)
and the same optional fields. Errors about the melody name the client's file, never the server's copy. A
music job is not retriable after a restart: it takes seconds, so submit it again.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.params import Depends
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artlens.errors import ArtlensError
from artlens.serve.errors import ApiError
from artlens.serve.inputs import ERROR_SCHEMA, ERRORS, json_body
from artlens.serve.jobs import Job, JobQueue, QueueFull, write_json
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import display_name, read_multipart

__all__ = ["ComposeRequest", "HarmonizeFields", "music_router"]

#: Files of a music job by link name: (suffix of the stored file, media type).
FILES = {"midi": (".mid", "audio/midi"), "wav": (".wav", "audio/wav"), "roll": (".png", "image/png"),
         "musicxml": (".musicxml", "application/vnd.recordare.musicxml+xml")}
_ACCEPTED = {202: {"description": "The job, queued; its URL in Location"},
             429: {"description": "The job queue is full (see Retry-After)",
                   "content": {"application/json": {"schema": ERROR_SCHEMA}}}}
_MELODY_SUFFIX = {b"MThd": ".mid", b"PK\x03\x04": ".mxl"}


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str | None = Field(default=None, max_length=16, description="D, F# minor, Bbm ...")
    temperature: float = Field(default=0.9, ge=0.05, le=5.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    wav: bool = Field(default=True, description="Also render WAV audio.")
    musicxml: bool = Field(default=False, description="Also write a MusicXML score.")
    rules: bool = Field(default=True, description="Refuse parallel fifths and octaves and voice crossing.")


class ComposeRequest(_Common):
    """JSON body of ``/v1/compose``."""

    bars: int = Field(default=16, ge=1, le=64)
    meter: str | None = Field(default=None, pattern=r"^\d{1,2}/\d{1,2}$", description="e.g. 3/4")
    tempo: float | None = Field(default=None, ge=20, le=300)


class HarmonizeFields(_Common):
    """Form fields of ``/v1/harmonize`` besides the ``melody`` file."""

    temperature: float = Field(default=0.8, ge=0.05, le=5.0)
    candidates: int = Field(default=8, ge=1, le=32)


def _accepted(job: Job) -> JSONResponse:
    body = {"job": job.as_dict()}
    return JSONResponse(body, status_code=202, headers={"Location": body["job"]["links"]["self"]})


def _melody_suffix(head: bytes) -> str:
    """The file type of an uploaded melody from its first bytes: MIDI, compressed or plain MusicXML, ABC."""
    for magic, suffix in _MELODY_SUFFIX.items():
        if head.startswith(magic):
            return suffix
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<score-partwise", b"<!DOCTYPE score")):
        return ".musicxml"
    if text[:2] in (b"X:", b"T:", b"%a", b"%%") or b"\nK:" in head:
        return ".abc"
    raise ApiError(422, "unsupported_file", "the melody must be a MIDI, MusicXML or ABC file")


def _work(kind: str, params: dict[str, Any], jobs: JobQueue, melody: Path | None = None,
          shown: str = "") -> Callable[[str, Callable[[float], None]], list[Path]]:
    def work(job_id: str, report: Callable[[float], None]) -> list[Path]:
        from artlens.music import Outputs, compose, harmonize, load_music_model, piece_summary, write_outputs

        report(0.05)
        model = load_music_model(None)
        try:
            if kind == "compose":
                meter = tuple(int(x) for x in params["meter"].split("/")) if params["meter"] else None
                piece = compose(model, bars=params["bars"], key=params["key"], meter=meter,
                                temperature=params["temperature"], top_p=params["top_p"], seed=params["seed"],
                                tempo=params["tempo"], rules=params["rules"])
            else:
                piece = harmonize(melody, model, key=params["key"], temperature=params["temperature"],
                                  top_p=params["top_p"], seed=params["seed"], candidates=params["candidates"],
                                  rules=params["rules"])
            report(0.6)
            base = jobs.results_dir / job_id
            outputs = Outputs(midi=base.with_suffix(".mid"), roll=base.with_suffix(".png"),
                              wav=base.with_suffix(".wav") if params["wav"] else None,
                              musicxml=base.with_suffix(".musicxml") if params["musicxml"] else None)
            written = write_outputs(piece, outputs, program=model.config.program)
        except (ArtlensError, ValueError) as exc:  # name the client's file, never the server's copy
            message = str(exc).replace(str(melody), shown) if melody is not None else str(exc)
            raise ArtlensError(message) from None
        links = {name: f"/v1/music/{job_id}/{name}" for name in FILES if name in written}
        summary = piece_summary(piece) | {"files": links}
        paths = [Path(written[name]) for name in FILES if name in written]
        return [write_json(summary, jobs.results_dir, f"{job_id}.json"), *paths]

    return work


def music_router(settings: ServeSettings, jobs: JobQueue, dependencies: Sequence[Depends],
                 owned_job: Callable[[Request, str], Job]) -> APIRouter:
    """The compose, harmonize and music-file routes over the app's job queue (prefix ``/v1``)."""
    router = APIRouter(prefix="/v1", dependencies=list(dependencies), responses=ERRORS)

    def submit(kind: str, work: Any, params: dict[str, Any], owner: str | None,
               cleanup: ExitStack | None = None, inputs: Path | None = None) -> JSONResponse:
        try:
            job = jobs.submit(kind, work, owner=owner, params=params, inputs=inputs, cleanup=cleanup,
                              media_type="application/json")
        except QueueFull as exc:
            if cleanup is not None:
                cleanup.close()
            raise ApiError(429, "queue_full", str(exc), {"Retry-After": str(exc.retry_after)}) from None
        return _accepted(job)

    @router.post("/compose", tags=["music"], status_code=202, responses=_ACCEPTED)
    async def compose_route(request: Request, body: ComposeRequest | None = None) -> JSONResponse:
        """Queue a composition with the shipped Bach chorale model: bars, key, meter, temperature, top-p,
        seed, tempo; ``wav`` (default true) and ``musicxml`` add those files. The job's result is the
        ``artlens.music/1`` summary with links to the MIDI file, piano roll and audio."""
        del body  # documented for OpenAPI; read with the service's size limit below
        spec = await json_body(request, ComposeRequest, settings)
        params = spec.model_dump()
        return submit("compose", _work("compose", params, jobs), params,
                      getattr(request.state, "key_id", None))

    @router.post("/harmonize", tags=["music"], status_code=202, responses=_ACCEPTED)
    async def harmonize_route(request: Request) -> JSONResponse:
        """Queue a harmonisation: ``multipart/form-data`` with a ``melody`` file (MIDI, MusicXML or ABC; its
        top part is the soprano, kept unchanged) and optional fields key, temperature, top_p, seed,
        candidates, wav, musicxml. The model writes alto, tenor and bass."""
        if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != "multipart/form-data":
            raise ApiError(415, "unsupported_media_type", "send multipart/form-data with a 'melody' file")
        batch = await read_multipart(request, settings)
        with ExitStack() as stack:
            for upload in batch.files:
                stack.callback(upload.file.close)
            melodies = [u for u in batch.files if u.field == "melody"]
            if len(batch.files) != 1 or len(melodies) != 1:
                raise ApiError(422, "invalid_input", "send exactly one file, in the field 'melody'")
            try:
                fields = HarmonizeFields.model_validate(batch.fields)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ApiError(422, "invalid_input", f"{where}: {first['msg']}") from None
            upload = melodies[0]
            suffix = _melody_suffix(upload.file.read(512))
            upload.file.seek(0)
            folder = Path(tempfile.mkdtemp(prefix="music-", dir=jobs.inputs_dir))
            cleanup = ExitStack()
            cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
            path = folder / f"melody{suffix}"
            with open(path, "wb") as fh:
                shutil.copyfileobj(upload.file, fh)
        shown = display_name(upload.filename, 0)
        params = fields.model_dump() | {"melody_name": shown}
        return submit("harmonize", _work("harmonize", params, jobs, path, shown), params,
                      getattr(request.state, "key_id", None), cleanup, folder)

    @router.get("/music/{job_id}/{name}", tags=["music"], response_class=FileResponse,
                responses={200: {"content": {media: {} for _, media in FILES.values()}}})
    def music_file(request: Request, job_id: str, name: str) -> FileResponse:
        """A file of a done compose or harmonize job: ``midi``, ``wav``, ``roll`` (PNG) or ``musicxml``."""
        job = owned_job(request, job_id)
        if job.kind not in ("compose", "harmonize") or name not in FILES:
            raise ApiError(404, "not_found", f"no music file {name!r} for job {job_id}")
        suffix, media = FILES[name]
        stored = next((r for r in job.results if r.endswith(suffix)), None) if job.status == "done" else None
        path = jobs.results_dir / stored if stored else None
        if path is None or not path.is_file():
            raise ApiError(404, "no_result", f"job {job_id} has no {name} file ({job.status})")
        return FileResponse(path, media_type=media, filename=f"{job.kind}-{job_id}{suffix}",
                            headers={"Cache-Control": "private, max-age=3600"})

    return router
