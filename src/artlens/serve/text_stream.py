"""Writing as a stream: ``POST /v1/write`` with ``stream: true`` answers Server-Sent Events as the text is
made.

The events (the W3C/WHATWG Server-Sent Events format, ``text/event-stream``):

* ``text``: ``{"text": piece}``, each piece of the text as the model (prompted or LSTM) makes it;
* ``record``: the finished ``artlens.write/1`` record (the same as a ``write`` job's result), last;
* ``error``: ``{"message": ...}``, a one-line reason, when writing fails after the answer began.

The stream opens with an SSE comment line (``: writing``), which clients skip.

At most :data:`MAX_STREAMS` streams write at once (the rest get a 429 before any event), since each keeps a
worker thread busy for the seconds a text takes.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from artlens.errors import ArtlensError
from artlens.serve.errors import ApiError
from artlens.serve.text_jobs import WriteBody

__all__ = ["MAX_STREAMS", "STREAM_MEDIA_TYPE", "open_write_stream", "sse_event"]

log = logging.getLogger(__name__)
MAX_STREAMS = 2
STREAM_MEDIA_TYPE = "text/event-stream"
_SLOTS = threading.BoundedSemaphore(MAX_STREAMS)


def sse_event(event: str, data: Any) -> bytes:
    """One Server-Sent Event: its name and its data as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _events(body: WriteBody, picture: np.ndarray | None) -> Iterator[bytes]:
    from artlens.text.writing import WriteRequest, write_stream

    try:
        yield b": writing\n\n"
        request = WriteRequest(kind=body.kind, about=body.about, style=body.style, lines=body.lines,
                               seed=body.seed, temperature=body.temperature, max_new_tokens=body.max_tokens)
        for item in write_stream(request, picture):
            yield sse_event("text", {"text": item}) if isinstance(item, str) else sse_event("record", item)
    except ArtlensError as exc:
        yield sse_event("error", {"message": str(exc)})
    except Exception:  # the answer has begun: report in the stream, never a broken connection
        log.exception("a write stream failed")
        yield sse_event("error", {"message": "writing failed (the server's log has the reason)"})
    finally:
        _SLOTS.release()


def open_write_stream(body: WriteBody, picture: np.ndarray | None = None) -> Iterator[bytes]:
    """The events of one streamed text; a 429 :class:`ApiError` when :data:`MAX_STREAMS` are running."""
    if not _SLOTS.acquire(blocking=False):
        raise ApiError(429, "busy", f"{MAX_STREAMS} texts are being written; try again in a few seconds",
                       {"Retry-After": "5"})
    events = _events(body, picture)
    # step into the generator at once: from here its ``finally`` gives the slot back however the stream ends,
    # even when the client leaves before the first event and the server never reads the stream
    first = next(events)
    return itertools.chain((first,), events)
