"""Uploaded images: parsed with bounded counts, checked from their bytes, copied into a private folder.

The client's file name is only a label in the report: the type comes from the file's first bytes
(:func:`artlens.imageio.sniff_format`), the size and pixel count are checked against the limits before any
decoding, and the copy on disk is named by position (``000.jpg``) inside a fresh ``0700`` folder that is
deleted when the request ends. Folders a killed server left behind are removed at the next start
(:func:`remove_stale_uploads`).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import anyio
from starlette.requests import Request

from artlens.imageio import header_size, sniff_format
from artlens.serve.errors import ApiError
from artlens.serve.multipart import (
    FileTooLarge,
    FormLimits,
    MultipartError,
    TooManyFiles,
    Upload,
    parse_multipart,
)
from artlens.serve.settings import ServeSettings

__all__ = ["UPLOAD_PREFIX", "Batch", "check_uploads", "one_upload", "read_multipart", "remove_stale_uploads",
           "saved_uploads"]

#: Name prefix of the private folders that hold one request's (or one style-transfer job's) uploads.
UPLOAD_PREFIX = "artlens-upload-"

_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp"}
_MAX_FIELDS = 16
_MAX_FIELD_BYTES = 64 * 1024


@dataclass
class Batch:
    """The files of one request and the form fields that came with them."""

    files: list[Upload] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def display_name(filename: str | None, index: int) -> str:
    """The client's base name (folders dropped, at most 200 characters), or ``upload-<index>``."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or f"upload-{index}"


@contextmanager
def one_upload(batch: Batch, name: str, rule: str) -> Iterator[Upload]:
    """The request's only file, sent in the form field ``name`` (a 422 ``invalid_input`` saying ``rule``
    otherwise); every file of ``batch`` is closed when the block ends."""
    with ExitStack() as closing:
        for upload in batch.files:
            closing.callback(upload.file.close)
        named = [u for u in batch.files if u.field == name]
        if len(batch.files) != 1 or len(named) != 1:
            raise ApiError(422, "invalid_input", rule)
        yield named[0]


async def read_multipart(request: Request, settings: ServeSettings) -> Batch:
    """Parse a ``multipart/form-data`` body: at most ``max_files`` files of ``max_file_bytes`` each (413 the
    moment one is passed, nothing more read), a few short fields.

    At most ``max_parallel_uploads`` bodies are parsed at once in the app; a request that finds no free slot
    within ``upload_wait_s`` seconds is answered 429 ``busy``.
    """
    limits = FormLimits(max_files=settings.max_files, max_file_bytes=settings.max_file_bytes,
                        max_fields=_MAX_FIELDS, max_field_bytes=_MAX_FIELD_BYTES,
                        spool_dir=settings.upload_dir)
    slots = getattr(request.app.state, "upload_slots", None)
    async with _slot(slots, settings.upload_wait_s):
        try:
            uploads, fields = await parse_multipart(request.headers.get("content-type", ""), request.stream(),
                                                    limits)
        except TooManyFiles:
            raise ApiError(413, "too_many_files", f"at most {settings.max_files} files per request") from None
        except FileTooLarge as exc:
            raise ApiError(413, "file_too_large", f"{display_name(exc.filename, exc.index)}: more than the "
                           f"limit of {exc.limit} bytes per file") from None
        except MultipartError as exc:
            raise ApiError(400, "bad_multipart", f"malformed multipart body: {exc}") from None
    batch = Batch(files=uploads)
    for key, value in fields:
        if key in batch.fields:
            for upload in uploads:
                upload.file.close()
            raise ApiError(422, "invalid_input", f"form field {key!r} given twice")
        batch.fields[key] = value
    if not batch.files:
        raise ApiError(422, "no_files", "no files in the request: send images as multipart file parts")
    return batch


@asynccontextmanager
async def _slot(slots: anyio.Semaphore | None, wait_s: float) -> AsyncIterator[None]:
    """One of the app's parsing slots, or 429 ``busy`` after ``wait_s`` seconds without one."""
    if slots is None:
        yield
        return
    acquired = False
    with anyio.move_on_after(wait_s):
        await slots.acquire()
        acquired = True
    if not acquired:
        raise ApiError(429, "busy", "too many uploads are being received; retry in a few seconds",
                       {"Retry-After": "2"})
    try:
        yield
    finally:
        slots.release()


def _check(upload: Upload, index: int, settings: ServeSettings) -> tuple[str, str, int]:
    """``(display name, format, pixels)`` after the size, type and pixel checks (413 or 422 on failure)."""
    name = display_name(upload.filename, index)
    if upload.size > settings.max_file_bytes:
        raise ApiError(413, "file_too_large", f"{name}: {upload.size} bytes, more than the limit of "
                       f"{settings.max_file_bytes} bytes per file")
    head = upload.file.read(64)
    upload.file.seek(0)
    fmt = sniff_format(head)
    if fmt is None:
        raise ApiError(422, "not_an_image", f"{name}: not an image (its content is none of JPEG, PNG, WEBP, "
                       "TIFF, BMP, GIF, whatever its name or declared type)")
    try:
        width, height = header_size(upload.file)  # the header only, whatever its size: bombs of any size
    except Exception:  # a broken header is reported per file by the decoder later
        width = height = 0
    finally:
        upload.file.seek(0)
    if width * height > settings.max_pixels:
        raise ApiError(413, "too_many_pixels", f"{name}: {width} x {height} pixels, more than the limit of "
                       f"{settings.max_pixels}")
    return name, fmt, width * height


def check_uploads(batch: Batch, settings: ServeSettings, refused: list[dict[str, str]] | None = None
                  ) -> list[tuple[Upload, str, str]]:
    """``(upload, display name, format)`` of the uploads that pass the checks.

    Without ``refused`` the first bad file answers the request (413 or 422). With it, each bad file is
    listed there (``{"path": name, "error": message}``) and the others go on, unless every file is bad: then
    the first one's error answers the request. The uploads together may hold at most ``max_request_pixels``.
    """
    good: list[tuple[Upload, str, str]] = []
    first: ApiError | None = None
    pixels = 0
    for index, upload in enumerate(batch.files):
        try:
            name, fmt, count = _check(upload, index, settings)
        except ApiError as exc:
            if refused is None:
                raise
            first = first or exc
            refused.append({"path": display_name(upload.filename, index), "error": exc.message})
            continue
        pixels += count
        if pixels > settings.max_request_pixels:
            raise ApiError(413, "too_many_pixels", f"the images of this request hold more than "
                           f"{settings.max_request_pixels} pixels together; send fewer per request")
        good.append((upload, name, fmt))
    if not good and first is not None:
        raise first
    return good


@contextmanager
def saved_uploads(batch: Batch, settings: ServeSettings,
                  refused: list[dict[str, str]] | None = None) -> Iterator[dict[Path, str]]:
    """Check the uploads (see :func:`check_uploads`), copy the good ones into a private temporary folder,
    yield ``{saved path: display name}``.

    The folder (mode ``0700``, under ``settings.upload_dir``) and its files are removed on exit.
    """
    try:
        checked = check_uploads(batch, settings, refused)
        folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=settings.upload_dir))
    except BaseException:
        _close(batch)
        raise
    try:
        names: dict[Path, str] = {}
        for i, (upload, name, fmt) in enumerate(checked):
            target = folder / f"{i:03d}{_SUFFIX.get(fmt, '.img')}"
            with target.open("xb") as out:
                shutil.copyfileobj(upload.file, out)
            names[target] = name
        yield names
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _close(batch)


def _close(batch: Batch) -> None:
    for upload in batch.files:
        upload.file.close()


def remove_stale_uploads(folder: Path, *, keep: Collection[Path] = (),
                         older_than: float = 3600.0) -> list[Path]:
    """Delete the upload folders a killed server left in ``folder``; return the ones removed.

    Only ``artlens-upload-*`` folders (not links) of this user, last modified more than ``older_than``
    seconds ago, are removed: other servers may share the folder (the system temp folder) with requests
    under way. Folders in ``keep`` (the inputs of jobs that can still be retried) are never removed.
    """
    cutoff = time.time() - older_than
    kept = {Path(path).resolve() for path in keep}
    uid = os.getuid() if hasattr(os, "getuid") else None
    removed = []
    for path in sorted(Path(folder).glob(UPLOAD_PREFIX + "*")):
        try:
            info = path.lstat()
        except OSError:  # gone meanwhile
            continue
        mine = uid is None or info.st_uid == uid
        if not stat.S_ISDIR(info.st_mode) or info.st_mtime >= cutoff or not mine or path.resolve() in kept:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
