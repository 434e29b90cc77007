"""Long work of the service as jobs: a bounded worker pool, with every job and result kept on disk.

A job is a row of the ``serve_jobs`` table in the SQLite file the API keys use (created here, and given the
columns added since by ``ALTER TABLE``; the store's schema version is never touched) and, once done, result
files (PNG images, JSON reports: ``media_type`` says which) in a results folder next to it. A server that
stops with jobs queued or running leaves them so; the next :class:`JobQueue` on that file marks them
``failed`` with ``retriable = 1`` ("interrupted by a server restart") and keeps their input folders for
``keep_inputs`` seconds, so that :meth:`JobQueue.retry` can queue them again. Finished results survive
restarts.

The pool runs ``workers`` jobs at a time and keeps at most ``max_queued`` more waiting; beyond that
:meth:`JobQueue.submit` raises :class:`QueueFull`, which the service answers 429 with ``Retry-After``.
One server process per database file: a second one would fail the first one's live jobs at start.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artlens.errors import ArtlensError
from artlens.files import atomic_write, atomic_write_text
from artlens.store import SQLiteFile

__all__ = ["INTERRUPTED", "STATUSES", "Job", "JobQueue", "JobStore", "NotRetriable", "QueueFull",
           "write_json", "write_png"]

log = logging.getLogger("artlens.serve")

STATUSES = ("queued", "running", "done", "failed")
INTERRUPTED = "interrupted by a server restart"

_TABLE = """
CREATE TABLE IF NOT EXISTS serve_jobs (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    status    TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    progress  REAL NOT NULL DEFAULT 0,
    created   REAL NOT NULL,
    started   REAL,
    finished  REAL,
    error     TEXT,
    results   TEXT NOT NULL DEFAULT '[]',
    retriable INTEGER NOT NULL DEFAULT 0,
    owner     TEXT,
    params    TEXT NOT NULL DEFAULT '{}',
    inputs    TEXT
);
CREATE INDEX IF NOT EXISTS serve_jobs_status ON serve_jobs (status);
"""
#: Columns added after the first release of the table, with their defaults for the rows already there.
_ADDED = {"media_type": "TEXT NOT NULL DEFAULT 'image/png'", "attempts": "INTEGER NOT NULL DEFAULT 1"}
_COLUMNS = ("id, kind, status, progress, created, started, finished, error, results, retriable, owner, "
            "params, media_type, attempts")

#: ``work(job_id, report_progress) -> result files`` (written under the queue's results folder).
Work = Callable[[str, Callable[[float], None]], list[Path]]


@dataclass(frozen=True)
class Job:
    """One job as stored. ``results`` are file names in the results folder; ``owner`` is an API key id."""

    id: str
    kind: str
    status: str
    progress: float
    created: float
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    results: tuple[str, ...] = ()
    retriable: bool = False
    owner: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    media_type: str = "image/png"  # of the result files
    attempts: int = 1  # 1, plus one per retry

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Job:
        (job_id, kind, status, progress, created, started, finished, error, results, retriable, owner,
         params, media_type, attempts) = row
        return cls(job_id, kind, status, float(progress), created, started, finished, error,
                   tuple(json.loads(results)), bool(retriable), owner, json.loads(params), media_type,
                   int(attempts))

    def as_dict(self, prefix: str = "/v1") -> dict[str, Any]:
        """The job as the service shows it, with links to itself and its results (once done)."""
        return {"id": self.id, "kind": self.kind, "status": self.status, "progress": round(self.progress, 4),
                "created": self.created, "started": self.started, "finished": self.finished,
                "error": self.error, "retriable": self.retriable, "attempts": self.attempts,
                "params": self.params, "links": {"self": f"{prefix}/jobs/{self.id}"},
                "results": [f"{prefix}/results/{self.id}"] if self.status == "done" and self.results else []}


class JobStore(SQLiteFile):
    """Jobs in a SQLite file; safe to share between the threads of one process."""

    _what = "job database"

    def _setup(self) -> None:
        self._conn.executescript(_TABLE)
        present = {row[1] for row in self._conn.execute("PRAGMA table_info(serve_jobs)")}
        for name, declaration in _ADDED.items():  # a table made by an older artlens: add what it lacks
            if name not in present:
                self._conn.execute(f"ALTER TABLE serve_jobs ADD COLUMN {name} {declaration}")

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def create(self, kind: str, *, owner: str | None = None, params: dict[str, Any] | None = None,
               inputs: Path | None = None, media_type: str = "image/png") -> Job:
        """A new ``queued`` job with a random URL-safe id (16 characters)."""
        while True:
            job_id = secrets.token_urlsafe(12)
            try:
                self._execute("INSERT INTO serve_jobs (id, kind, status, created, owner, params, inputs, "
                              "media_type) VALUES (?,?,?,?,?,?,?,?)",
                              (job_id, kind, "queued", time.time(), owner, json.dumps(params or {}),
                               str(inputs) if inputs is not None else None, media_type))
                return self.get(job_id)  # type: ignore[return-value]
            except sqlite3.IntegrityError:  # an id already taken: draw again
                continue

    def get(self, job_id: str) -> Job | None:
        rows = self._execute(f"SELECT {_COLUMNS} FROM serve_jobs WHERE id=?", (job_id,))
        return Job.from_row(rows[0]) if rows else None

    def list(self, status: str | None = None) -> list[Job]:
        """Jobs, oldest first (optionally of one status)."""
        if status is None:
            rows = self._execute(f"SELECT {_COLUMNS} FROM serve_jobs ORDER BY created")
        else:
            rows = self._execute(f"SELECT {_COLUMNS} FROM serve_jobs WHERE status=? ORDER BY created",
                                 (status,))
        return [Job.from_row(r) for r in rows]

    def start(self, job_id: str) -> None:
        self._execute("UPDATE serve_jobs SET status='running', started=? WHERE id=?", (time.time(), job_id))

    def set_progress(self, job_id: str, progress: float) -> None:
        self._execute("UPDATE serve_jobs SET progress=? WHERE id=? AND status='running'",
                      (min(1.0, max(0.0, float(progress))), job_id))

    def finish(self, job_id: str, results: list[str]) -> None:
        self._execute("UPDATE serve_jobs SET status='done', progress=1, finished=?, results=?, inputs=NULL "
                      "WHERE id=?", (time.time(), json.dumps(results), job_id))

    def fail(self, job_id: str, error: str, *, retriable: bool = False) -> None:
        self._execute("UPDATE serve_jobs SET status='failed', finished=?, error=?, retriable=?, inputs=NULL "
                      "WHERE id=?", (time.time(), error, int(retriable), job_id))

    def fail_interrupted(self) -> int:
        """Mark jobs left queued or running as failed-retriable (their inputs are kept); return how many."""
        with self._lock:
            return self._conn.execute("UPDATE serve_jobs SET status='failed', retriable=1, error=?, "
                                      "finished=? WHERE status IN ('queued', 'running')",
                                      (INTERRUPTED, time.time())).rowcount

    def inputs_of(self, job_id: str) -> Path | None:
        """The input folder recorded for a job (kept while it is queued, running or failed-retriable)."""
        rows = self._execute("SELECT inputs FROM serve_jobs WHERE id=?", (job_id,))
        return Path(rows[0][0]) if rows and rows[0][0] else None

    def requeue(self, job_id: str) -> bool:
        """Put a failed-retriable job with inputs back to ``queued`` (one attempt more); else False."""
        with self._lock:
            return self._conn.execute(
                "UPDATE serve_jobs SET status='queued', progress=0, started=NULL, finished=NULL, error=NULL, "
                "retriable=0, results='[]', attempts=attempts+1 "
                "WHERE id=? AND status='failed' AND retriable=1 AND inputs IS NOT NULL", (job_id,)
            ).rowcount == 1

    def expire_inputs(self, before: float) -> list[Path]:
        """Forget the inputs of jobs that failed before ``before`` (Unix seconds); return their folders.

        Such jobs stay failed but are no longer retriable.
        """
        with self._lock:
            rows = self._conn.execute("SELECT inputs FROM serve_jobs WHERE status='failed' AND inputs IS NOT "
                                      "NULL AND finished < ?", (before,)).fetchall()
            self._conn.execute("UPDATE serve_jobs SET inputs=NULL, retriable=0 WHERE status='failed' AND "
                               "inputs IS NOT NULL AND finished < ?", (before,))
        return [Path(r[0]) for r in rows]

    def input_folders(self) -> set[Path]:
        """Every input folder a job still refers to."""
        return {Path(r[0]) for r in self._execute("SELECT inputs FROM serve_jobs WHERE inputs IS NOT NULL")}


class QueueFull(ArtlensError):
    """Every worker is busy and the waiting line is full; ``retry_after`` is a guess in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the job queue is full; retry in about {retry_after} s")
        self.retry_after = retry_after


class NotRetriable(ArtlensError):
    """A job that cannot be queued again: not failed-retriable, or its inputs are gone."""


class JobQueue:
    """A bounded pool of worker threads running jobs recorded in a :class:`JobStore`.

    Parameters
    ----------
    store
        Where jobs are recorded. Jobs it holds as queued or running are failed-retriable at once.
    results_dir
        Folder of the result files (created ``0700``).
    workers
        Jobs running at the same time.
    max_queued
        Jobs waiting for a worker at most; one more is refused with :class:`QueueFull`.
    on_end
        Called as ``on_end(kind, status)`` when a job ends (``"done"`` or ``"failed"``), e.g. for metrics.
    keep_inputs
        Seconds the inputs of an interrupted job are kept for :meth:`retry` (checked at start and on each
        submit); ``inputs_dir`` (``results_dir/inputs``) folders no job refers to are deleted at start.
    """

    def __init__(self, store: JobStore, results_dir: Path, workers: int = 1, max_queued: int = 16,
                 on_end: Callable[[str, str], None] | None = None, keep_inputs: float = 86400.0) -> None:
        if workers < 1 or max_queued < 0:
            raise ValueError("workers must be at least 1 and max_queued at least 0")
        self.store, self.results_dir = store, Path(results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.inputs_dir = self.results_dir / "inputs"
        self.inputs_dir.mkdir(exist_ok=True, mode=0o700)
        self.workers, self.max_queued, self.on_end = workers, max_queued, on_end
        self.keep_inputs = keep_inputs
        store.fail_interrupted()
        self._expire_inputs()
        referenced = store.input_folders()
        for folder in self.inputs_dir.iterdir():  # left by a process that stopped between copy and record
            if folder not in referenced:
                shutil.rmtree(folder, ignore_errors=True)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="artlens-job")
        self._lock = threading.Lock()
        self._queued = self._running = 0
        self._mean_seconds = 5.0  # a first guess for Retry-After, then a running mean of job durations

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return self._queued

    @property
    def running(self) -> int:
        return self._running

    def retry_after(self) -> int:
        """Seconds until a place is likely free: the mean job time per round of workers, 1 to 600."""
        rounds = math.ceil((self._queued + 1) / self.workers)
        return int(min(600, max(1, math.ceil(self._mean_seconds * rounds))))

    def submit(self, kind: str, work: Work, *, owner: str | None = None,
               params: dict[str, Any] | None = None, inputs: Path | None = None,
               cleanup: AbstractContextManager[Any] | None = None, media_type: str = "image/png") -> Job:
        """Record a job and queue ``work``; raise :class:`QueueFull` when there is no room.

        ``cleanup`` (for instance the uploads' folder) is closed when the job ends, whatever the outcome; it
        is left to the caller when the job is refused. ``inputs`` names that folder, so that an interrupted
        job can be retried (and its folder deleted once it expires). ``media_type`` is that of the results.
        """
        self._expire_inputs()
        with self._reserve():
            job = self.store.create(kind, owner=owner, params=params, inputs=inputs, media_type=media_type)
            self._pool.submit(self._run, job.id, kind, work, cleanup or nullcontext())
        return job

    def retry(self, job_id: str, build: Callable[[Job, Path], Work]) -> Job:
        """Queue a failed-retriable job again, same id, with the work ``build(job, input folder)`` makes.

        Raises :class:`NotRetriable` when the job is not failed-retriable or its input folder is gone
        (``build`` raises it too when the folder lacks something), :class:`QueueFull` when there is no room.
        The input folder is deleted when the new attempt ends.
        """
        job = self.store.get(job_id)
        if job is None or job.status != "failed" or not job.retriable:
            state = "unknown" if job is None else f"{job.status}, not failed-retriable"
            raise NotRetriable(f"job {job_id} is {state}: only jobs interrupted by a restart can be retried")
        folder = self.store.inputs_of(job_id)
        if folder is None or not folder.is_dir():
            raise NotRetriable(f"the inputs of job {job_id} are no longer on the server: submit it again")
        work = build(job, folder)
        with self._reserve():
            if not self.store.requeue(job_id):  # retried or expired meanwhile
                raise NotRetriable(f"job {job_id} is no longer failed-retriable")
            self._pool.submit(self._run, job_id, job.kind, work, _removing(folder))
        return self.store.get(job_id)  # type: ignore[return-value]

    @contextmanager
    def _reserve(self) -> Iterator[None]:
        """A place in the queue for the job queued in the block (given back if the block fails)."""
        with self._lock:
            if self._running + self._queued >= self.workers + self.max_queued:
                raise QueueFull(self.retry_after())
            self._queued += 1
        try:
            yield
        except BaseException:
            with self._lock:
                self._queued -= 1
            raise

    def _expire_inputs(self) -> None:
        for folder in self.store.expire_inputs(time.time() - self.keep_inputs):
            shutil.rmtree(folder, ignore_errors=True)

    def result_path(self, job: Job, index: int = 0) -> Path | None:
        """The file of a done job's result, or None."""
        if job.status != "done" or not 0 <= index < len(job.results):
            return None
        path = self.results_dir / job.results[index]
        return path if path.is_file() else None

    def close(self) -> None:
        """Stop taking jobs; queued ones stay queued in the store (failed-retriable at the next start)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, job_id: str, kind: str, work: Work, cleanup: AbstractContextManager[Any]) -> None:
        with self._lock:
            self._queued -= 1
            self._running += 1
        started = time.perf_counter()
        status = "failed"
        try:
            with cleanup:  # the inputs go when the job ends, before it reads done
                self.store.start(job_id)
                files = work(job_id, lambda p: self.store.set_progress(job_id, p))
            self.store.finish(job_id, [Path(f).name for f in files])
            status = "done"
        except ArtlensError as exc:
            message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
            self.store.fail(job_id, message)
        except Exception as exc:  # a job's failure must not end the worker
            log.error("job %s failed with %s", job_id, type(exc).__name__, exc_info=exc)
            self.store.fail(job_id, "internal error (details are in the server log)")
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._running -= 1
                self._mean_seconds = 0.8 * self._mean_seconds + 0.2 * elapsed
            if self.on_end is not None:
                self.on_end(kind, status)


@contextmanager
def _removing(folder: Path) -> Iterator[Path]:
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_png(image: Any, folder: Path, name: str) -> Path:
    """Save a PIL image as ``folder/name`` atomically (a temporary name, then a rename)."""
    return atomic_write(folder / name, lambda path: image.save(path, "PNG"))


def write_json(data: Any, folder: Path, name: str) -> Path:
    """Save ``data`` as UTF-8 JSON in ``folder/name`` atomically."""
    return atomic_write_text(folder / name, json.dumps(data, ensure_ascii=False))
