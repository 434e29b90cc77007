"""Compositions and harmonisations as jobs: the checked requests, the uploaded melody, and the work.

Both run the library's :func:`artlens.music.compose` / :func:`artlens.music.harmonize` with the shipped
chorale model in the service's job pool. A done job's first result, at ``/v1/results/{id}``, is its
``artlens.music/1`` summary as JSON, whose ``files`` link the MIDI file, the piano-roll PNG and (when asked)
the WAV audio and MusicXML score (:mod:`artlens.serve.routes.music`). A melody is recognised by its first
bytes (MIDI, compressed or plain MusicXML, ABC), never by the client's file name, and errors name the client's
file, never the server's copy. A music job is not retriable after a restart: it takes seconds, so submit it
again.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from artlens.errors import ArtlensError
from artlens.serve.errors import ApiError, invalid_input
from artlens.serve.jobs import JobQueue, Work, write_json
from artlens.serve.uploads import Batch, display_name, one_upload

__all__ = ["FILES", "ComposeRequest", "HarmonizeFields", "music_work", "save_melody"]

#: Files of a music job by link name: (suffix of the stored file, media type).
FILES = {"midi": (".mid", "audio/midi"), "wav": (".wav", "audio/wav"), "roll": (".png", "image/png"),
         "musicxml": (".musicxml", "application/vnd.recordare.musicxml+xml")}
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

    @classmethod
    def from_form(cls, fields: dict[str, str]) -> HarmonizeFields:
        """The form's fields checked (422 naming the first bad one)."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            raise invalid_input(exc) from None


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


def save_melody(batch: Batch, inputs_dir: Path) -> tuple[Path, str, ExitStack]:
    """The one ``melody`` file of ``batch`` copied into a private folder under ``inputs_dir``: its path,
    the client's name for it, and the clean-up that deletes the folder (the job's once submitted)."""
    with one_upload(batch, "melody", "send exactly one file, in the field 'melody'") as upload:
        suffix = _melody_suffix(upload.file.read(512))
        upload.file.seek(0)
        folder = Path(tempfile.mkdtemp(prefix="music-", dir=inputs_dir))
        cleanup = ExitStack()
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        path = folder / f"melody{suffix}"
        with open(path, "wb") as fh:
            shutil.copyfileobj(upload.file, fh)
    return path, display_name(upload.filename, 0), cleanup


def music_work(kind: str, params: dict[str, Any], jobs: JobQueue, melody: Path | None = None,
               shown: str = "") -> Work:
    """The work of a ``compose`` or ``harmonize`` job: the summary JSON first, then the files written."""
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
