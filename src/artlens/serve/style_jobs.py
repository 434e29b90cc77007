"""Style transfers as jobs: the checked options of a request, queueing it, and the same job again after a
restart."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from fastapi import Request

from artlens.errors import ArtlensError
from artlens.serve.errors import ApiError
from artlens.serve.inputs import content_type, flag_field
from artlens.serve.jobs import Job, JobQueue, NotRetriable, Work
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import Batch, read_multipart, saved_uploads
from artlens.serve.work import stylize_work

__all__ = ["MAX_STYLIZE_SIZE", "STYLIZE_DOC", "queue_stylize", "rebuild_stylize", "stylize_params"]

#: Largest output side per style-transfer method (Gatys optimises every pixel: far slower).
MAX_STYLIZE_SIZE = {"fast": 2048, "gatys": 1024}

STYLIZE_DOC = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["content"],
    "properties": {
        "content": {"type": "string", "format": "binary", "description": "The photo to restyle."},
        "style": {"type": "string", "format": "binary", "description": "The style image (or a preset)."},
        "preset": {"type": "string", "description": "preset_00 ... preset_25 (fast method only)."},
        "method": {"type": "string", "enum": ["fast", "gatys"], "default": "fast"},
        "size": {"type": "integer", "minimum": 16, "maximum": MAX_STYLIZE_SIZE["fast"], "default": 512},
        "strength": {"type": "number", "minimum": 0, "maximum": 1, "default": 1},
        "preserve_color": {"type": "boolean", "default": False}}}}}}}


def stylize_params(fields: dict[str, str], has_style: bool) -> dict[str, Any]:
    """Checked options of a style transfer from the form fields (422 naming the bad one)."""
    from artlens.style.fast import preset_index

    unknown = set(fields) - {"preset", "method", "size", "strength", "preserve_color"}
    if unknown:
        raise ApiError(422, "invalid_input", f"unknown field(s) for stylize: {', '.join(sorted(unknown))}")
    method = fields.get("method", "fast").strip().lower()
    if method not in MAX_STYLIZE_SIZE:
        raise ApiError(422, "invalid_input", f"method must be fast or gatys, not {method!r}")
    try:
        size = int(fields.get("size", "512"))
        strength = float(fields.get("strength", "1"))
    except ValueError:
        raise ApiError(422, "invalid_input", "size must be an integer and strength a number") from None
    if not 16 <= size <= MAX_STYLIZE_SIZE[method]:
        raise ApiError(422, "invalid_input", f"size must be between 16 and {MAX_STYLIZE_SIZE[method]} for "
                       f"the {method} method, not {size}")
    if not 0.0 <= strength <= 1.0:
        raise ApiError(422, "invalid_input", f"strength must be between 0 and 1, not {strength}")
    params: dict[str, Any] = {"method": method, "size": size, "strength": strength,
                              "preserve_color": flag_field(fields, "preserve_color")}
    preset = fields.get("preset", "").strip()
    if bool(preset) == has_style:
        raise ApiError(422, "invalid_input", "send either a 'style' image or a 'preset' field (one of them)")
    if preset:
        if method != "fast":
            raise ApiError(422, "invalid_input", "presets exist only for the fast method")
        try:
            params["preset"] = f"preset_{preset_index(preset):02d}"
        except ArtlensError as exc:
            raise ApiError(422, "bad_preset", str(exc)) from None
    return params


async def queue_stylize(request: Request, settings: ServeSettings, jobs: JobQueue, owner: str | None) -> Job:
    """Read a style-transfer request (multipart: ``content``, ``style`` or ``preset``) and queue its job."""
    if content_type(request) != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data with a 'content' image")
    batch = await read_multipart(request, settings)
    parts: dict[str, Any] = {}
    for upload in batch.files:
        name = upload.field
        if name not in ("content", "style"):
            raise ApiError(422, "invalid_input", f"unexpected file field {name!r}: send 'content', 'style'")
        if name in parts:
            raise ApiError(422, "invalid_input", f"file field {name!r} given twice")
        parts[name] = upload
    if "content" not in parts:
        raise ApiError(422, "no_files", "no 'content' image in the request")
    params = stylize_params(batch.fields, "style" in parts)
    order = [n for n in ("content", "style") if n in parts]
    with ExitStack() as stack:
        saved = stack.enter_context(saved_uploads(Batch(files=[parts[n] for n in order]), settings))
        paths = dict(zip(order, saved, strict=True))
        labels = {str(path): f"{role} ({saved[path]})" for role, path in paths.items()}
        params |= {role + "_name": saved[path] for role, path in paths.items()}
        work = stylize_work(paths, params, settings, jobs, labels)
        cleanup = stack.pop_all()  # the job's once submitted; deleted here at once when it is refused
        try:
            return jobs.submit("stylize", work, owner=owner, params=params, inputs=paths["content"].parent,
                               cleanup=cleanup)
        except BaseException:
            cleanup.close()
            raise


def rebuild_stylize(folder: Path, job: Job, settings: ServeSettings, jobs: JobQueue) -> Work:
    """The work of a style-transfer job again, from its upload folder (``000.*`` content, ``001.*`` style)."""
    roles = ["content", "style"] if "style_name" in job.params else ["content"]
    files = sorted(path for path in folder.iterdir() if path.is_file())
    if len(files) != len(roles):
        raise NotRetriable("the uploads of this job are no longer on the server: submit it again")
    paths = dict(zip(roles, files, strict=True))
    labels = {str(path): f"{role} ({job.params.get(role + '_name', role)})" for role, path in paths.items()}
    return stylize_work(paths, job.params, settings, jobs, labels)
