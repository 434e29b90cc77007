"""The embedded results store: one SQLite file (WAL mode) shared by assess, the service and search.

Assessment results are keyed by the image's content hash and a fingerprint of the settings that produced
them, so re-running over a catalogue only computes new or changed images, a renamed file is not computed
again, and a run killed part-way loses nothing it had finished: each result is committed as soon as it exists.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ParamSpec, Self, TypeVar

from artlens.errors import ArtlensError
from artlens.weights import cache_dir

__all__ = ["DamagedDatabaseError", "SQLiteFile", "Store", "default_db_path", "is_damage", "move_aside",
           "rebuild_if_damaged"]

log = logging.getLogger("artlens.store")
_P = ParamSpec("_P")
_R = TypeVar("_R")
#: SQLite's primary result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB.
_DAMAGE_CODES = (11, 26)

_SCHEMA_VERSION = 1
_MIGRATIONS = {
    1: """
    CREATE TABLE IF NOT EXISTS assess_results (
        sha256       TEXT NOT NULL,
        settings_key TEXT NOT NULL,
        record       TEXT NOT NULL,
        created      REAL NOT NULL,
        PRIMARY KEY (sha256, settings_key)
    ) WITHOUT ROWID;
    """,
}


class DamagedDatabaseError(ArtlensError):
    """An SQLite file is damaged (pages overwritten, not a database); the message says how to recover."""


def is_damage(exc: BaseException) -> bool:
    """True when ``exc`` says the database file itself is damaged (not busy, locked or read-only)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.DatabaseError) and code is not None:
        return code & 0xFF in _DAMAGE_CODES
    return False


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its ``-wal`` and ``-shm`` files) to ``<name>.damaged-<UTC time>``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    return target


def rebuild_if_damaged(path: Path) -> Path | None:
    """Check ``path`` with ``PRAGMA quick_check``; a damaged file is moved aside (see :func:`move_aside`) and
    its new name returned, so that the next open starts a fresh, empty one. ``None`` when it is sound."""
    if not path.is_file():
        return None
    try:
        with sqlite3.connect(path, timeout=30.0) as conn:
            verdict = [row[0] for row in conn.execute("PRAGMA quick_check")]
        conn.close()
        if verdict == ["ok"]:
            return None
        log.warning("%s: quick_check found %s", path, "; ".join(verdict[:3]))
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise ArtlensError(f"{path}: cannot check the database: {exc}") from exc
    return move_aside(path)


def default_db_path() -> Path:
    """``<cache>/artlens.db`` (see :func:`artlens.weights.cache_dir`)."""
    return cache_dir() / "artlens.db"


class SQLiteFile:
    """One SQLite file in WAL mode, shared by the threads of one process (writes go through ``_lock``).

    Subclasses name what they hold in ``_what`` (for error messages) and create their tables in
    :meth:`_setup`.
    """

    _what = "database"
    _recovery = "move it aside and start a fresh one"

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._setup()
        except (sqlite3.Error, OSError) as exc:
            if is_damage(exc):
                raise self.damaged(exc) from exc
            raise ArtlensError(f"{self.path}: cannot open the {self._what}: {exc}") from exc
        self._lock = threading.Lock()

    def damaged(self, exc: BaseException) -> DamagedDatabaseError:
        """The one-line error for damage found in this file: what is wrong and how to recover."""
        return DamagedDatabaseError(f"{self.path}: the {self._what} is damaged ({exc}); {self._recovery}")

    def _setup(self) -> None:
        """Create or migrate the tables (called once the connection is open)."""

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _guarded(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn damage found while ``method`` runs into :class:`DamagedDatabaseError` (one line, with advice)."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            raise args[0].damaged(exc) from exc  # type: ignore[attr-defined]

    return wrapper


class Store(SQLiteFile):
    """A small typed wrapper over the SQLite file; safe to share between threads of one process.

    A stored record that is not valid JSON is left out of :meth:`get_results` (a cache miss: computed
    again and replaced); a damaged file raises :class:`DamagedDatabaseError`.
    """

    _what = "results database"
    _recovery = ("run `artlens assess` again with --rebuild-store to move it aside and start a fresh one "
                 "(results are computed again), or use --no-db")

    def _setup(self) -> None:
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > _SCHEMA_VERSION:
            raise ArtlensError(f"{self.path}: database schema {version} is newer than this artlens "
                               f"({_SCHEMA_VERSION}); upgrade artlens or use another --db")
        for target in range(version + 1, _SCHEMA_VERSION + 1):
            self._conn.executescript(f"BEGIN; {_MIGRATIONS[target]} PRAGMA user_version={target}; COMMIT;")

    # -- assessment results -------------------------------------------------------------------------------

    @_guarded
    def get_results(self, settings_key: str, sha256s: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored records for these content hashes under ``settings_key`` (missing ones are absent)."""
        wanted = list(dict.fromkeys(sha256s))
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT sha256, record FROM assess_results WHERE settings_key=? AND sha256 IN ({marks})",
                    (settings_key, *chunk),
                ).fetchall()
                found.update((sha, record) for sha, record in _decoded(rows))
        return found

    @_guarded
    def put_result(self, settings_key: str, sha256: str, record: dict[str, Any]) -> None:
        """Store one record, committed at once (a later identical key replaces it)."""
        payload = json.dumps(record, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO assess_results (sha256, settings_key, record, created) "
                "VALUES (?,?,?,?)",
                (sha256, settings_key, payload, time.time()),
            )

    @_guarded
    def count_results(self, settings_key: str | None = None) -> int:
        with self._lock:
            if settings_key is None:
                return self._conn.execute("SELECT COUNT(*) FROM assess_results").fetchone()[0]
            return self._conn.execute("SELECT COUNT(*) FROM assess_results WHERE settings_key=?",
                                      (settings_key,)).fetchone()[0]


def _decoded(rows: Iterable[tuple[str, str]]) -> Iterable[tuple[str, dict[str, Any]]]:
    """Rows whose record decodes to a JSON object; the others are skipped with a warning."""
    for sha, text in rows:
        try:
            record = json.loads(text)
        except (TypeError, ValueError):
            record = None
        if isinstance(record, dict):
            yield sha, record
        else:
            log.warning("stored record of %s is not valid JSON: computing it again", sha)
