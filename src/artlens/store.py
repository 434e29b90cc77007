"""The embedded results store: one SQLite file (WAL mode) shared by assess, the service and search.

Assessment results are keyed by the image's content hash and a fingerprint of the settings that produced
them, so re-running over a catalogue only computes new or changed images, a renamed file is not computed
again, and a run killed part-way loses nothing it had finished: each result is committed as soon as it exists.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from artlens.errors import ArtlensError
from artlens.weights import cache_dir

__all__ = ["SQLiteFile", "Store", "default_db_path"]

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


def default_db_path() -> Path:
    """``<cache>/artlens.db`` (see :func:`artlens.weights.cache_dir`)."""
    return cache_dir() / "artlens.db"


class SQLiteFile:
    """One SQLite file in WAL mode, shared by the threads of one process (writes go through ``_lock``).

    Subclasses name what they hold in ``_what`` (for error messages) and create their tables in
    :meth:`_setup`.
    """

    _what = "database"

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False,
                                         isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._setup()
        except (sqlite3.Error, OSError) as exc:
            raise ArtlensError(f"{self.path}: cannot open the {self._what}: {exc}") from exc
        self._lock = threading.Lock()

    def _setup(self) -> None:
        """Create or migrate the tables (called once the connection is open)."""

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Store(SQLiteFile):
    """A small typed wrapper over the SQLite file; safe to share between threads of one process."""

    _what = "results database"

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
                found.update((sha, json.loads(record)) for sha, record in rows)
        return found

    def put_result(self, settings_key: str, sha256: str, record: dict[str, Any]) -> None:
        """Store one record, committed at once (a later identical key replaces it)."""
        payload = json.dumps(record, separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO assess_results (sha256, settings_key, record, created) "
                "VALUES (?,?,?,?)",
                (sha256, settings_key, payload, time.time()),
            )

    def count_results(self, settings_key: str | None = None) -> int:
        with self._lock:
            if settings_key is None:
                return self._conn.execute("SELECT COUNT(*) FROM assess_results").fetchone()[0]
            return self._conn.execute("SELECT COUNT(*) FROM assess_results WHERE settings_key=?",
                                      (settings_key,)).fetchone()[0]
