"""Aligned embeddings of a search index's images, kept beside it, and text search over them.

The vectors live in ``aligned.db`` (SQLite) inside the index folder, keyed by each file's SHA-256 and
tagged with the fingerprint of the heads that made them: a file indexed twice is embedded once, and vectors
of other heads are dropped and made again. ``artlens index build`` fills it (:func:`update_aligned`);
``artlens search INDEX TEXT`` reads it (:func:`search_text`).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from artlens.align.model import AlignModel, load_align_model
from artlens.align.textsearch import TEXTSEARCH_SCHEMA, rank_by_text
from artlens.errors import ConfigError
from artlens.search.index import SearchIndex
from artlens.training.progress import Progress

__all__ = ["ALIGNED_DB", "aligned_vectors", "search_text", "update_aligned"]

ALIGNED_DB = "aligned.db"


def _connect(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / ALIGNED_DB, timeout=30)
    conn.executescript("""
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS vectors (sha256 TEXT PRIMARY KEY, vector BLOB NOT NULL);
    """)
    return conn


def update_aligned(index: SearchIndex, model: AlignModel | None = None, *,
                   progress: Progress | None = None) -> dict:
    """Embed the index's images that have no aligned vector yet; ``{"embedded", "kept", "errors"}``."""
    model = model or load_align_model()
    items = index.items()
    with closing(_connect(index.folder)) as conn, conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'heads'").fetchone()
        if row is None or row[0] != model.fingerprint:
            conn.execute("DELETE FROM vectors")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('heads', ?)", (model.fingerprint,))
        have = {r[0] for r in conn.execute("SELECT sha256 FROM vectors")}
        todo: dict[str, str] = {}
        for item in items:
            if item.sha256 not in have and item.sha256 not in todo:
                todo[item.sha256] = item.path
        shas, paths = list(todo), list(todo.values())
        emb, kept, errors = (model.embed_files(paths, progress=progress) if paths
                             else (np.zeros((0, 0), np.float32), [], []))
        conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                         [(shas[i], np.ascontiguousarray(emb[r], np.float32).tobytes())
                          for r, i in enumerate(kept)])
    return {"embedded": len(kept), "kept": len(have), "errors": errors}


def aligned_vectors(index: SearchIndex, model: AlignModel) -> tuple[list[str], np.ndarray]:
    """Indexed paths and their aligned vectors (items without one are left out).

    Raises :class:`ConfigError` when the index holds none made by ``model``'s heads.
    """
    folder = index.folder
    if not (folder / ALIGNED_DB).is_file():
        raise ConfigError(f"{folder}: the index has no aligned embeddings; run `artlens index build ... "
                          f"--index {folder}` again to add them")
    with closing(_connect(folder)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'heads'").fetchone()
        if row is None or row[0] != model.fingerprint:
            raise ConfigError(f"{folder}: its aligned embeddings were made by other alignment heads; run "
                              f"`artlens index build ... --index {folder}` again")
        stored = dict(conn.execute("SELECT sha256, vector FROM vectors"))
    paths, rows = [], []
    for item in index.items():
        blob = stored.get(item.sha256)
        if blob is not None:
            paths.append(item.path)
            rows.append(np.frombuffer(blob, np.float32))
    return paths, (np.stack(rows) if rows else np.zeros((0, 0), np.float32))


def search_text(index: SearchIndex, query: str, k: int = 20, *, model: AlignModel | None = None,
                name: str | None = None) -> dict:
    """Indexed images ranked by how well they match ``query`` (an ``artlens.textsearch/1`` report)."""
    model = model or load_align_model()
    paths, vectors = aligned_vectors(index, model)
    return {"schema": TEXTSEARCH_SCHEMA, "index": name or str(index.folder), "query": query.strip() or query,
            "k": k, "results": rank_by_text(model, vectors, paths, query, k)}
