"""API keys of the service: created once (the token is shown once), stored hashed, listed by id, revoked.

A token is ``alk_<id>_<secret>``: ``id`` (8 hex digits) names the key in listings and logs, ``secret`` is
32 random bytes (URL-safe base64). Only the SHA-256 of the whole token is stored, so a copy of the database
does not let anyone call the service. The keys live in their own table of the SQLite file that
:class:`artlens.store.Store` uses; the table is created here and never touches the store's schema version.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass

from artlens.errors import ConfigError
from artlens.store import SQLiteFile

__all__ = ["TOKEN_PREFIX", "ApiKey", "KeyStore"]

TOKEN_PREFIX = "alk_"

_TABLE = """
CREATE TABLE IF NOT EXISTS serve_api_keys (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    sha256   TEXT NOT NULL UNIQUE,
    created  REAL NOT NULL,
    revoked  REAL
);
"""


@dataclass(frozen=True)
class ApiKey:
    """What is known about a key besides its secret."""

    id: str
    name: str
    created: float
    revoked: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked is None

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "created": self.created, "revoked": self.revoked,
                "active": self.active}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class KeyStore(SQLiteFile):
    """API keys in a SQLite file; safe to share between the threads of one process."""

    _what = "key database"

    def _setup(self) -> None:
        self._conn.executescript(_TABLE)

    def create(self, name: str = "") -> tuple[str, ApiKey]:
        """A new key: ``(token, key)``. The token is not stored anywhere; give it to the client now."""
        name = name.strip() or "unnamed"
        if len(name) > 100:
            raise ConfigError("a key name may have at most 100 characters")
        with self._lock:
            while True:
                key_id = secrets.token_hex(4)
                token = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
                try:
                    created = time.time()
                    self._conn.execute("INSERT INTO serve_api_keys (id, name, sha256, created) "
                                       "VALUES (?,?,?,?)", (key_id, name, _digest(token), created))
                    return token, ApiKey(key_id, name, created)
                except sqlite3.IntegrityError:  # an id already taken (1 in 4 billion): draw again
                    continue

    def list(self) -> list[ApiKey]:
        """Every key, active and revoked, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT id, name, created, revoked FROM serve_api_keys "
                                      "ORDER BY created").fetchall()
        return [ApiKey(*row) for row in rows]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key by its id (or its whole token); raises :class:`ConfigError` when there is none."""
        key_id = key_id.strip()
        if key_id.startswith(TOKEN_PREFIX):
            key_id = key_id[len(TOKEN_PREFIX):].split("_", 1)[0]
        with self._lock:
            self._conn.execute("UPDATE serve_api_keys SET revoked=? WHERE id=? AND revoked IS NULL",
                               (time.time(), key_id))
            row = self._conn.execute("SELECT id, name, created, revoked FROM serve_api_keys WHERE id=?",
                                     (key_id,)).fetchone()
        if row is None:
            raise ConfigError(f"no API key with id {key_id!r} (see `artlens keys list`)")
        return ApiKey(*row)

    def verify(self, token: str) -> ApiKey | None:
        """The active key this token belongs to, or None (unknown, malformed or revoked)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        key_id = token[len(TOKEN_PREFIX):].split("_", 1)[0]
        with self._lock:
            row = self._conn.execute("SELECT id, name, created, revoked, sha256 FROM serve_api_keys "
                                     "WHERE id=?", (key_id,)).fetchone()
        if row is None or not hmac.compare_digest(row[4], _digest(token)) or row[3] is not None:
            return None
        return ApiKey(*row[:4])
