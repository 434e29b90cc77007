"""A streaming ``multipart/form-data`` parser whose limits apply while the body arrives.

Each file part is counted as its bytes come in and parsing stops the moment one passes the per-file limit:
nothing beyond the limit is ever stored (Starlette's parser checks only form fields, and the service used to
spool a whole 300 MB part before answering 413). File parts go to a spooled temporary file (memory up to
``spool_bytes``, then disk); form fields are kept in memory up to ``max_field_bytes`` each.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

__all__ = ["FileTooLarge", "FormLimits", "MultipartError", "TooManyFiles", "Upload", "parse_multipart"]

_MAX_HEADER_BYTES = 16 * 1024  # one part header line


class MultipartError(ValueError):
    """The body is not well-formed multipart, or breaks a limit on fields; the message says which."""


class TooManyFiles(MultipartError):
    """More file parts than ``max_files``."""


class FileTooLarge(MultipartError):
    """File part number ``index`` (0-based), named ``filename`` by the client, passed ``max_file_bytes``."""

    def __init__(self, filename: str | None, index: int, limit: int) -> None:
        super().__init__(f"file part {index} is larger than {limit} bytes")
        self.filename, self.index, self.limit = filename, index, limit


@dataclass(frozen=True)
class FormLimits:
    max_files: int
    max_file_bytes: int
    max_fields: int = 16
    max_field_bytes: int = 64 * 1024
    spool_bytes: int = 1024 * 1024
    spool_dir: Path | None = None


@dataclass
class Upload:
    """One file part: its form field name, the client's file name, and its bytes (positioned at 0)."""

    field: str
    filename: str | None
    file: IO[bytes]
    size: int = 0


@dataclass
class _Collector:
    """python-multipart's callbacks: build the uploads and fields, enforcing the limits as data arrives."""

    limits: FormLimits
    uploads: list[Upload] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _name: bytes = b""
    _value: bytes = b""
    _upload: Upload | None = None
    _field: tuple[str, bytearray] | None = None

    def on_part_begin(self) -> None:
        self._headers, self._upload, self._field = {}, None, None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]
        self._check_header()

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._name) + len(self._value) > _MAX_HEADER_BYTES:
            raise MultipartError(f"a part header is longer than {_MAX_HEADER_BYTES} bytes")

    def on_header_end(self) -> None:
        self._headers[self._name.strip().lower()] = self._value.strip()
        self._name = self._value = b""

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise MultipartError('a part has no Content-Disposition "name"')
        name = _text(options[b"name"])
        if b"filename" in options:
            if len(self.uploads) >= self.limits.max_files:
                raise TooManyFiles(f"more than {self.limits.max_files} files")
            spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed by close() or the caller
                max_size=self.limits.spool_bytes, dir=self.limits.spool_dir)
            self._upload = Upload(name, _text(options[b"filename"]), spool)  # type: ignore[arg-type]
            self.uploads.append(self._upload)
        else:
            if len(self.fields) >= self.limits.max_fields:
                raise MultipartError(f"more than {self.limits.max_fields} form fields")
            self._field = (name, bytearray())

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._upload is not None:
            self._upload.size += len(chunk)
            if self._upload.size > self.limits.max_file_bytes:
                raise FileTooLarge(self._upload.filename, len(self.uploads) - 1, self.limits.max_file_bytes)
            self._upload.file.write(chunk)
        elif self._field is not None:
            if len(self._field[1]) + len(chunk) > self.limits.max_field_bytes:
                raise MultipartError(f"form field {self._field[0]!r} is longer than "
                                     f"{self.limits.max_field_bytes} bytes")
            self._field[1].extend(chunk)

    def on_part_end(self) -> None:
        if self._upload is not None:
            self._upload.file.seek(0)
        elif self._field is not None:
            self.fields.append((self._field[0], _text(bytes(self._field[1]))))

    def close(self) -> None:
        for upload in self.uploads:
            upload.file.close()


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


async def parse_multipart(content_type: str, stream: AsyncIterator[bytes], limits: FormLimits
                          ) -> tuple[list[Upload], list[tuple[str, str]]]:
    """Parse a ``multipart/form-data`` body from ``stream``: ``(uploads, fields)`` in body order.

    Raises
    ------
    FileTooLarge, TooManyFiles, MultipartError
        At the first limit broken, without reading further; the files parsed so far are closed.
    """
    _kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise MultipartError("missing boundary in the Content-Type header")
    collector = _Collector(limits)
    callbacks = {name: getattr(collector, name) for name in (
        "on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
        "on_part_data", "on_part_end")}
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:
        collector.close()
        raise MultipartError(f"malformed multipart body ({exc})") from None
    except BaseException:
        collector.close()
        raise
    return collector.uploads, collector.fields
