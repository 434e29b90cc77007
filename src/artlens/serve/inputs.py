"""Reading a request's inputs: uploads or JSON paths, checked JSON bodies, and the error body's schema.

Every route that takes images reads them here the same way (:func:`read_inputs`): ``multipart/form-data``
uploads saved to private temporary files, or ``{"paths": [...]}`` naming files under the server's
``--allow-root`` folders. JSON bodies are checked by a pydantic model (:func:`parse_json`), so a bad body is a
422 with the first problem named, never a 500.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack, nullcontext
from pathlib import Path
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artlens.serve.errors import ApiError, invalid_input
from artlens.serve.paths import expand
from artlens.serve.settings import ServeSettings
from artlens.serve.uploads import Batch, read_multipart, saved_uploads

__all__ = ["ERRORS", "ERROR_SCHEMA", "Inputs", "PathsRequest", "body_doc", "content_type", "flag_field",
           "json_body", "merge_errors", "parse_json", "read_inputs"]

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
}
ERRORS = {status: {"description": text, "content": {"application/json": {"schema": ERROR_SCHEMA}}}
           for status, text in ((401, "No, an invalid or a revoked API key"),
                                (403, "A path outside the allowed folders"),
                                (413, "Too many files, bytes or pixels"),
                                (422, "Not an image, or invalid fields"))}
def parse_json(model: type[BaseModel], raw: bytes) -> Any:
    """The JSON body ``raw`` parsed once and checked by ``model``, else a 422 (also for nesting too deep to
    parse, and for lone surrogates, which no answer could quote)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid_input(exc) from None


async def json_body(request: Request, model: type[BaseModel], settings: ServeSettings) -> Any:
    """The request's JSON body checked by ``model``: read up to ``max_json_bytes`` (413 beyond, nothing more
    read), then parsed once."""
    limit = settings.max_json_bytes
    declared = request.headers.get("content-length", "")
    too_large = ApiError(413, "request_too_large", f"the JSON body is larger than {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return parse_json(model, bytes(body))


def content_type(request: Request) -> str:
    """The request's media type, lower case, without parameters."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


class PathsRequest(BaseModel):
    """JSON body naming files or folders under the server's ``--allow-root`` folders."""

    model_config = ConfigDict(extra="forbid")
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(min_length=1, max_length=1000)
    policy: str | None = Field(default=None, description="assess: a preset name (default: general).")
    model: str | None = Field(default=None, description="classify: a registered model name.")
    top_k: int | None = Field(default=None, ge=1, le=50, description="classify: classes listed per head.")
    explain: bool | None = Field(default=None, description="assess jobs: also draw each image's quality heat "
                                 "map.")
    threshold: float | None = Field(default=None, ge=0.0, le=1.0, description="tag: least calibrated score.")
    vocabulary: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        default=None, max_length=2000, description="tag: the tags to choose from (default: shipped).")


def body_doc(fields: dict[str, Any]) -> dict[str, Any]:
    multipart = {"type": "object", "required": ["files"],
                 "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                **fields}}
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": multipart},
        "application/json": {"schema": PathsRequest.model_json_schema()},
    }}}


class Inputs:
    """The files of one request, uploaded or named, with the names to show for them in the report."""

    def __init__(self, paths: list[Path], names: dict[str, str], fields: dict[str, Any],
                 errors: list[dict[str, str]], cleanup: AbstractContextManager[Any]) -> None:
        self.paths, self.names, self.fields, self.errors, self.cleanup = paths, names, fields, errors, cleanup

    def relabel(self, report: dict[str, Any]) -> dict[str, Any]:
        """Replace the private paths of uploads by the clients' file names, in entries and messages."""
        if self.names:
            for item in report["images"]:
                item["path"] = self.names.get(item["path"], item["path"])
            for item in report["errors"]:
                private = item["path"]
                shown = self.names.get(private, private)
                item["path"], item["error"] = shown, item["error"].replace(private, shown)
        return report


async def read_inputs(request: Request, settings: ServeSettings) -> Inputs:
    kind = content_type(request)
    if kind == "multipart/form-data":
        batch: Batch = await read_multipart(request, settings)
        stack = ExitStack()
        refused: list[dict[str, str]] = []  # bad files of a batch: listed under errors, the rest go on
        names = stack.enter_context(saved_uploads(batch, settings, refused))  # closed by the caller
        return Inputs(list(names), {str(k): v for k, v in names.items()}, dict(batch.fields), refused, stack)
    if kind == "application/json":
        body = await json_body(request, PathsRequest, settings)
        files, errors = expand(body.paths, settings.allow_roots)
        if len(files) > settings.max_files:
            raise ApiError(413, "too_many_files", f"the paths name {len(files)} images; at most "
                           f"{settings.max_files} per request")
        if not files and not errors:
            raise ApiError(422, "no_files", "the paths name no image files")
        fields = body.model_dump(exclude={"paths"}, exclude_none=True)
        return Inputs(files, {}, fields, errors, nullcontext())
    raise ApiError(415, "unsupported_media_type", "send multipart/form-data (uploads) or application/json "
                   "({\"paths\": [...]})")


def flag_field(fields: dict[str, Any], name: str) -> bool:
    """A true/false form field (absent: false); 422 naming it for anything else."""
    value = fields.get(name, False)
    if isinstance(value, bool):
        return value
    flag = str(value).strip().lower()
    if flag not in _TRUE | _FALSE:
        raise ApiError(422, "invalid_input", f"{name} must be true or false, not {flag!r}")
    return flag in _TRUE


def merge_errors(report: dict[str, Any], errors: list[dict[str, str]]) -> dict[str, Any]:
    """Add the refused and missing paths to an assess report (its summary counts them)."""
    if errors:
        report["errors"] = errors + report["errors"]
        report["summary"]["errors"] = len(report["errors"])
        report["summary"]["total"] += len(errors)
    return report
