"""Uploaded images: parsed with bounded counts, checked from their bytes, copied into a private folder.

The client's file name is only a label in the report: the type comes from the file's first bytes
(:func:`artlens.imageio.sniff_format`), the size and pixel count are checked against the limits before any
decoding, and the copy on disk is named by position (``000.jpg``) inside a fresh ``0700`` folder that is
deleted when the request ends. Folders a killed server left behind are removed at the next start
(:func:`remove_stale_uploads`).
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tempfile
import time
import warnings
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from artlens.imageio import sniff_format
from artlens.serve.errors import ApiError
from artlens.serve.settings import ServeSettings

__all__ = ["UPLOAD_PREFIX", "Batch", "read_multipart", "remove_stale_uploads", "saved_uploads"]

#: Name prefix of the private folders that hold one request's (or one style-transfer job's) uploads.
UPLOAD_PREFIX = "artlens-upload-"

_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "TIFF": ".tif", "BMP": ".bmp", "WEBP": ".webp"}
_MAX_FIELDS = 16
_MAX_FIELD_BYTES = 64 * 1024


@dataclass
class Batch:
    """The files of one request and the form fields that came with them."""

    files: list[UploadFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def display_name(filename: str | None, index: int) -> str:
    """The client's base name (folders dropped, at most 200 characters), or ``upload-<index>``."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return name or f"upload-{index}"


async def read_multipart(request: Request, settings: ServeSettings) -> Batch:
    """Parse a ``multipart/form-data`` body: at most ``max_files`` files (413 beyond), a few short fields."""
    parser = MultiPartParser(request.headers, request.stream(), max_files=settings.max_files,
                             max_fields=_MAX_FIELDS, max_part_size=_MAX_FIELD_BYTES)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        if str(exc).startswith("Too many files"):
            raise ApiError(413, "too_many_files", f"at most {settings.max_files} files per request") from None
        raise ApiError(400, "bad_multipart", f"malformed multipart body: {exc}") from None
    batch = Batch()
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            batch.files.append(value)
        elif key in batch.fields:
            raise ApiError(422, "invalid_input", f"form field {key!r} given twice")
        else:
            batch.fields[key] = value
    if not batch.files:
        raise ApiError(422, "no_files", "no files in the request: send images as multipart file parts")
    return batch


def _check(upload: UploadFile, index: int, settings: ServeSettings) -> tuple[str, str]:
    """``(display name, format)`` after the size, type and pixel checks (413 or 422 on failure)."""
    name = display_name(upload.filename, index)
    upload.file.seek(0, io.SEEK_END)
    size = upload.file.tell()
    upload.file.seek(0)
    if size > settings.max_file_bytes:
        raise ApiError(413, "file_too_large", f"{name}: {size} bytes, more than the limit of "
                       f"{settings.max_file_bytes} bytes per file")
    head = upload.file.read(64)
    upload.file.seek(0)
    fmt = sniff_format(head)
    if fmt is None:
        raise ApiError(422, "not_an_image", f"{name}: not an image (its content is none of JPEG, PNG, WEBP, "
                       "TIFF, BMP, GIF, whatever its name or declared type)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(upload.file) as im:  # the header only; nothing is decoded here
                width, height = im.size
    except Exception:  # a broken header is reported per file by the decoder later
        width = height = 0
    finally:
        upload.file.seek(0)
    if width * height > settings.max_pixels:
        raise ApiError(413, "too_many_pixels", f"{name}: {width} x {height} pixels, more than the limit of "
                       f"{settings.max_pixels}")
    return name, fmt


@contextmanager
def saved_uploads(batch: Batch, settings: ServeSettings) -> Iterator[dict[Path, str]]:
    """Check every upload, copy them into a private temporary folder, yield ``{saved path: display name}``.

    The folder (mode ``0700``, under ``settings.upload_dir``) and its files are removed on exit.
    """
    checked = [_check(upload, i, settings) for i, upload in enumerate(batch.files)]
    folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX, dir=settings.upload_dir))
    try:
        names: dict[Path, str] = {}
        for i, (upload, (name, fmt)) in enumerate(zip(batch.files, checked, strict=True)):
            target = folder / f"{i:03d}{_SUFFIX.get(fmt, '.img')}"
            with target.open("xb") as out:
                shutil.copyfileobj(upload.file, out)
            names[target] = name
        yield names
    finally:
        shutil.rmtree(folder, ignore_errors=True)
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
