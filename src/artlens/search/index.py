"""A search index on disk: one folder holding an SQLite file (items, hashes, vectors) and FAISS index files.

Layout of an index folder::

    index.db        SQLite (WAL): settings, one row per indexed file (path, sha256, size, mtime, pHash) with
                    its content and style vectors; the source of truth
    content.faiss   FAISS index of the content vectors, ids = row ids of ``items``
    style.faiss     the same for style vectors (with ``--style-features``)

The FAISS files are derived data. Every change to the items is committed to SQLite in batches and bumps a
generation counter; a FAISS file records the generation it reflects. A build that is killed part-way keeps
every committed batch; re-running it skips those files (same path, size and modification time) and the stale
FAISS file is rebuilt from the stored vectors, so nothing is embedded twice and nothing is duplicated.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path

import faiss
import numpy as np

from artlens.engine.engines import Engine
from artlens.errors import ArtlensError, ConfigError, ImageLoadError
from artlens.files import atomic_write
from artlens.imageio import DEFAULT_MAX_PIXELS, LoadedImage, collect_inputs, load_image
from artlens.search import ann
from artlens.search.embed import Embedder, l2_normalise
from artlens.search.entry import IndexEntry
from artlens.search.phash import phash
from artlens.store import DamagedDatabaseError, is_damage

__all__ = ["INDEX_FORMAT", "IndexedItem", "SearchIndex", "UpdateReport"]

INDEX_FORMAT = "artlens.index/1"
DB_NAME = "index.db"
FIELDS = ("content", "style")
_BATCH = 32  # files per committed batch
_READERS = 2  # threads decoding images

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: FAISS ids stay unambiguous
    path    TEXT NOT NULL UNIQUE,
    sha256  TEXT NOT NULL,
    size    INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    width   INTEGER NOT NULL,
    height  INTEGER NOT NULL,
    phash   INTEGER NOT NULL,
    content BLOB NOT NULL,
    style   BLOB,
    added   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS items_sha256 ON items (sha256);
"""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexedItem:
    """One indexed file (vectors not included)."""

    id: int
    path: str
    sha256: str
    size: int
    mtime_ns: int
    width: int
    height: int
    phash: int

    def to_dict(self) -> dict:
        return {"id": self.id, "path": self.path, "sha256": self.sha256, "size": self.size,
                "width": self.width, "height": self.height}


@dataclass
class UpdateReport:
    """What a build, add or remove did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    embedded: int = 0
    reused: int = 0  # vectors copied from an indexed file with the same content hash
    errors: list[ImageLoadError] = field(default_factory=list)
    elapsed_s: float = 0.0

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "errors"}
        data["errors"] = [{"path": e.path, "error": str(e)} for e in self.errors]
        return data


def _damaged(folder: Path, exc: BaseException) -> DamagedDatabaseError:
    return DamagedDatabaseError(f"{folder / DB_NAME}: the index database is damaged ({exc}); move the folder "
                                f"{folder} aside and build the index again with `artlens index build PATH... "
                                f"--index {folder}`")


def _key(path: str | os.PathLike[str]) -> str:
    return str(Path(path).resolve())


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.ascontiguousarray(vector, dtype=np.float32).tobytes()


_ITEM_COLUMNS = "id, path, sha256, size, mtime_ns, width, height, phash"


class SearchIndex:
    """An index folder opened for searching and updating.

    Use :meth:`open` for an existing index and :meth:`create` to make (or reopen) one for building.
    """

    def __init__(self, folder: Path, conn: sqlite3.Connection) -> None:
        self.folder = folder
        self._conn = conn
        self._faiss: dict[str, faiss.Index] = {}
        self._embedder: Embedder | None = None

    # -- opening -------------------------------------------------------------------------------------------

    @classmethod
    def _connect(cls, folder: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(folder / DB_NAME, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            if is_damage(exc):
                raise _damaged(folder, exc) from exc
            raise ArtlensError(f"{folder / DB_NAME}: cannot open the index database: {exc}") from exc
        return conn

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> SearchIndex:
        """Open an existing index folder.

        Raises
        ------
        ArtlensError
            The folder holds no artlens index.
        """
        path = Path(folder)
        if not (path / DB_NAME).is_file():
            raise ArtlensError(f"{path}: no artlens index here; create one with "
                               f"`artlens index build PATH... --index {path}`")
        index = cls(path, cls._connect(path))
        with index._damage_named():
            found = index._meta("format")
        if found != INDEX_FORMAT:
            index.close()
            raise ArtlensError(f"{path}: not an {INDEX_FORMAT} index (format {found!r})")
        return index

    @classmethod
    def create(cls, folder: str | os.PathLike[str], *, backbone: str | None = None, style: bool = False,
               kind: str | None = None) -> SearchIndex:
        """Open the index in ``folder``, creating it when absent.

        Parameters
        ----------
        folder
            Index folder (created if needed).
        backbone
            Feature extractor; default ``mobilenet_v2`` for a new index. An existing index keeps its backbone
            and refuses another one.
        style
            Also store style descriptors. Turning this on for an existing index computes them for every file
            on the next update; an index with style descriptors keeps them.
        kind
            ``auto``, ``flat``, ``ivf`` or ``hnsw``; ``None`` keeps the index's setting (``auto`` when new).
        """
        path = Path(folder)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--index {path}: exists and is not a folder")
        if kind is not None:
            ann.choose_kind(0, kind)  # validates
        new = not (path / DB_NAME).is_file()
        if new and path.is_dir() and any(path.iterdir()):
            raise ConfigError(f"--index {path}: folder is not empty and holds no artlens index")
        path.mkdir(parents=True, exist_ok=True)
        if new:
            from artlens.models.backbones import get_backbone

            net = get_backbone(backbone or "mobilenet_v2")
            index = cls(path, cls._connect(path))
            index._set_meta(format=INDEX_FORMAT, backbone=net.spec.name, content_dim=net.spec.feature_dim,
                            style=False, style_dim=0, kind=kind or "auto", generation=0, created=time.time())
        else:
            index = cls.open(path)
            if backbone is not None and backbone != index.backbone:
                raise ConfigError(f"index {path} was built with backbone {index.backbone!r}, not "
                                  f"{backbone!r}; use a new --index folder for another backbone")
            if kind is not None:
                index._set_meta(kind=kind)
        if style and not index.has_style:
            index._set_meta(style=True, style_dim=index.embedder(style=True).style_dim)
        return index

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        self.close()
        if exc is not None and is_damage(exc):
            raise _damaged(self.folder, exc) from exc

    @contextmanager
    def _damage_named(self) -> Iterator[None]:
        """Damage found in the block becomes a one-line :class:`DamagedDatabaseError` (index closed)."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            self.close()
            raise _damaged(self.folder, exc) from exc

    # -- settings ------------------------------------------------------------------------------------------

    def _meta(self, key: str, default: object = None) -> object:
        row = self._conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def _set_meta(self, **values: object) -> None:
        self._conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               [(k, json.dumps(v)) for k, v in values.items()])

    @property
    def backbone(self) -> str:
        return str(self._meta("backbone"))

    @property
    def has_style(self) -> bool:
        return bool(self._meta("style", False))

    @property
    def kind_setting(self) -> str:
        return str(self._meta("kind", "auto"))

    @property
    def generation(self) -> int:
        return int(self._meta("generation", 0))

    def __len__(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]

    def embedder(self, style: bool | None = None) -> Embedder:
        """The embedder of this index's backbone (loaded once)."""
        want_style = self.has_style if style is None else style
        if self._embedder is None or self._embedder.with_style != want_style:
            self._embedder = Embedder(self.backbone, style=want_style)
        return self._embedder

    def info(self) -> dict:
        """Settings, counts, index kinds and sizes on disk."""
        n = len(self)
        per_field = {}
        for name in self._fields():
            index = self.faiss_index(name) if n else None
            params = self._meta(f"faiss_{name}_params") or {}
            file = self.folder / f"{name}.faiss"
            per_field[name] = {"kind": ann.index_kind(index) if index is not None else None,
                            "dim": self._dim(name), "vectors": int(index.ntotal) if index is not None else 0,
                            "nlist": params.get("nlist", 0), "nprobe": params.get("nprobe", 0),
                            "file_bytes": file.stat().st_size if file.exists() else 0}
        distinct = self._conn.execute("SELECT COUNT(DISTINCT sha256) FROM items").fetchone()[0]
        return {"schema": "artlens.index-info/1", "index": str(self.folder), "format": INDEX_FORMAT,
                "backbone": self.backbone, "style_features": self.has_style,
                "kind_setting": self.kind_setting,
                "items": n, "distinct_files": distinct, "generation": self.generation,
                "db_bytes": (self.folder / DB_NAME).stat().st_size, "vectors": per_field}

    def _fields(self) -> tuple[str, ...]:
        return FIELDS if self.has_style else FIELDS[:1]

    def _dim(self, name: str) -> int:
        return int(self._meta("content_dim" if name == "content" else "style_dim", 0))

    # -- items ---------------------------------------------------------------------------------------------

    @staticmethod
    def _item(row: Sequence) -> IndexedItem:
        return IndexedItem(*row)

    def items(self, ids: Iterable[int] | None = None) -> list[IndexedItem]:
        """Items by id in the order given (unknown ids left out), or all items by id."""
        if ids is None:
            rows = self._conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id").fetchall()
            return [self._item(r) for r in rows]
        wanted = [int(i) for i in ids]
        found: dict[int, IndexedItem] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE id IN ({marks})", chunk):
                found[row[0]] = self._item(row)
        return [found[i] for i in wanted if i in found]

    def item_by_path(self, path: str | os.PathLike[str]) -> IndexedItem | None:
        row = self._conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE path=?", (_key(path),)).fetchone()
        return self._item(row) if row else None

    def items_by_sha256(self, sha256: str) -> list[IndexedItem]:
        rows = self._conn.execute(f"SELECT {_ITEM_COLUMNS} FROM items WHERE sha256=? ORDER BY id", (sha256,))
        return [self._item(r) for r in rows]

    def vectors(self, ids: Sequence[int], by: str = "content") -> np.ndarray:
        """Stored vectors (len(ids), D) in the order of ``ids`` (every id must exist)."""
        self._check_field(by)
        wanted = [int(i) for i in ids]
        found: dict[int, bytes] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(self._conn.execute(f"SELECT id, {by} FROM items WHERE id IN ({marks})", chunk))
        dim = self._dim(by)
        out = np.zeros((len(wanted), dim), np.float32)
        for row, i in enumerate(wanted):
            if found.get(i) is None:
                raise ArtlensError(f"index {self.folder}: item {i} has no {by} vector")
            out[row] = np.frombuffer(found[i], np.float32)
        return out

    def all_vectors(self, by: str = "content") -> tuple[np.ndarray, np.ndarray]:
        """All ids (N,) and their vectors (N, D), by id."""
        self._check_field(by)
        n = len(self)
        dim = self._dim(by)
        ids = np.zeros(n, np.int64)
        out = np.zeros((n, dim), np.float32)
        row = 0
        for i, blob in self._conn.execute(f"SELECT id, {by} FROM items WHERE {by} IS NOT NULL ORDER BY id"):
            ids[row] = i
            out[row] = np.frombuffer(blob, np.float32)
            row += 1
        return ids[:row], out[:row]

    def _check_field(self, by: str) -> None:
        if by not in FIELDS:
            raise ConfigError(f"unknown vector field {by!r}; use content or style")
        if by == "style" and not self.has_style:
            raise ConfigError(f"index {self.folder} has no style features; rebuild it with "
                              f"`artlens index build PATH... --index {self.folder} --style-features`")

    # -- updating ------------------------------------------------------------------------------------------

    def update(self, paths: Sequence[str | os.PathLike[str]], *, prune: bool = False,
               progress: Progress | None = None, max_pixels: int = DEFAULT_MAX_PIXELS,
               batch_size: int = _BATCH, engine: Engine | None = None) -> UpdateReport:
        """Index new and changed image files under ``paths``; unchanged files are skipped.

        Parameters
        ----------
        paths
            Image files and folders (walked recursively).
        prune
            Also drop indexed files that no longer exist on disk.
        progress
            Called as ``progress(done, total)`` over the files examined.
        max_pixels
            Larger images are refused (reported as errors).
        batch_size
            Files per committed batch; a run killed part-way keeps every finished batch.
        engine
            Read and embed the files on this engine's workers (a Ray cluster: ``artlens.engine``); the
            entries are stored, and the FAISS index built, here. None: in this process.

        Returns
        -------
        UpdateReport
            Counts and one :class:`~artlens.errors.ImageLoadError` per file that could not be indexed.
        """
        start = time.perf_counter()
        since = self.generation
        report = UpdateReport()
        files, missing = collect_inputs(list(paths))
        report.errors.extend(missing)
        known = {row[0]: row[1:] for row in self._conn.execute(
            "SELECT path, id, size, mtime_ns, style IS NOT NULL FROM items")}
        want_style = self.has_style
        todo: list[tuple[Path, str, os.stat_result]] = []
        for file in files:
            key = _key(file)
            try:
                st = file.stat()
            except OSError as exc:
                report.errors.append(ImageLoadError(file, f"cannot be read ({exc.strerror or exc})"))
                continue
            old = known.get(key)
            same = old is not None and old[1] == st.st_size and old[2] == st.st_mtime_ns
            if same and (old[3] or not want_style):
                report.unchanged += 1
            else:
                todo.append((file, key, st))
        total = len(files)
        done = report.unchanged
        if progress:
            progress(done, total)
        touched: list[int] = []
        removed: list[int] = []

        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        if engine is not None:
            touched += self._index_on(engine, todo, report, max_pixels, batch_size, tick)
            todo = []
        for begin in range(0, len(todo), batch_size):
            batch = todo[begin:begin + batch_size]
            t_ids, r_ids = self._index_batch(batch, report, max_pixels)
            touched += t_ids
            removed += r_ids
            tick(len(batch))
        if prune:
            gone = [(i, p) for p, (i, *_rest) in known.items() if not os.path.exists(p)]
            if gone:
                self._delete([i for i, _ in gone])
                removed += [i for i, _ in gone]
                report.removed += len(gone)
        self._sync_faiss(touched, removed, since)
        report.elapsed_s = time.perf_counter() - start
        return report

    def _index_batch(self, batch: list[tuple[Path, str, os.stat_result]], report: UpdateReport,
                     max_pixels: int) -> tuple[list[int], list[int]]:
        """Load, hash, embed (what is new) and commit one batch; returns (touched ids, removed ids)."""
        def read(file: Path) -> LoadedImage | ImageLoadError:
            try:
                return load_image(file, max_pixels=max_pixels)
            except ImageLoadError as exc:
                return exc

        # decoding releases the GIL: two readers keep both cores busy on large JPEGs
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            decoded = list(pool.map(read, [file for file, _, _ in batch]))
        loaded = []
        for (_, key, st), image in zip(batch, decoded, strict=True):
            if isinstance(image, ImageLoadError):
                report.errors.append(image)
            else:
                loaded.append((key, st, image))
        # vectors: reuse those of an indexed file with the same bytes, embed the rest in one pass
        vectors: list[tuple[np.ndarray, np.ndarray | None] | None] = []
        need: dict[str, list[int]] = {}  # sha256 -> positions in this batch still without vectors
        for pos, (_, _, image) in enumerate(loaded):
            stored = self._stored_vectors(image.sha256)
            if stored is not None:
                vectors.append(stored)
                report.reused += 1
            else:
                vectors.append(None)
                need.setdefault(image.sha256, []).append(pos)
        if need:
            firsts = [positions[0] for positions in need.values()]
            emb = self.embedder().embed([loaded[p][2].rgb for p in firsts])
            for j, positions in enumerate(need.values()):
                for pos in positions:
                    vectors[pos] = (emb.content[j], emb.style[j] if emb.style is not None else None)
            report.embedded += len(firsts)
            report.reused += sum(len(p) - 1 for p in need.values())
        entries = []
        for (key, st, image), vec in zip(loaded, vectors, strict=True):
            assert vec is not None
            entries.append((key, st, IndexEntry(image.sha256, image.width, image.height, phash(image.rgb),
                                                vec[0], vec[1])))
        return self._commit(entries, report), []

    def _stored_vectors(self, sha256: str) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The vectors of an indexed file with these bytes (one with a style vector when the index keeps
        them), or None."""
        want_style = self.has_style
        row = self._conn.execute(
            "SELECT content, style FROM items WHERE sha256=? AND (style IS NOT NULL OR ?) LIMIT 1",
            (sha256, not want_style)).fetchone()
        if row is None:
            return None
        style = np.frombuffer(row[1], np.float32) if (want_style and row[1] is not None) else None
        return np.frombuffer(row[0], np.float32), style

    def _index_on(self, engine: Engine, todo: list[tuple[Path, str, os.stat_result]], report: UpdateReport,
                  max_pixels: int, batch_size: int, tick: Callable[[int], None]) -> list[int]:
        """Index ``todo`` with ``engine``'s workers reading and embedding the files; the entries are committed
        here in batches of ``batch_size`` as they stream back. Returns the touched ids."""
        # imported here: a worker imports engine.index_job first, which imports this package's embedder
        from artlens.engine.index_job import EmbedJob

        job = EmbedJob(self.backbone, style=self.has_style, max_pixels=max_pixels)
        where = {str(file): (key, st) for file, key, st in todo}
        pending: list[tuple[str, os.stat_result, IndexEntry]] = []
        touched: list[int] = []
        for path, entry, error in engine.map(job, list(where)):
            if entry is None:
                report.errors.append(ImageLoadError(path, error or "could not be indexed"))
            else:
                pending.append((*where[path], entry))
            if len(pending) >= batch_size:
                touched += self._commit(pending, report, reuse=True)
                pending = []
            tick(1)
        if pending:
            touched += self._commit(pending, report, reuse=True)
        return touched

    def _commit(self, entries: list[tuple[str, os.stat_result, IndexEntry]], report: UpdateReport, *,
                reuse: bool = False) -> list[int]:
        """Store entries (path key, stat, entry) in one transaction; returns their ids. With ``reuse``, an
        entry whose content hash is indexed already takes the stored vectors, as :meth:`_index_batch` does
        before embedding, so both ways store the same vectors."""
        touched: list[int] = []
        now = time.time()
        with self._transaction():
            for key, st, entry in entries:
                content, style = entry.content, entry.style
                if reuse:
                    stored = self._stored_vectors(entry.sha256)
                    if stored is not None:
                        content, style = stored
                        report.reused += 1
                    else:
                        report.embedded += 1
                values = (entry.sha256, st.st_size, st.st_mtime_ns, entry.width, entry.height, entry.phash,
                          _blob(content), _blob(style))
                old = self._conn.execute("SELECT id FROM items WHERE path=?", (key,)).fetchone()
                if old is not None:
                    self._conn.execute("UPDATE items SET sha256=?, size=?, mtime_ns=?, width=?, height=?, "
                                       "phash=?, content=?, style=? WHERE id=?", (*values, old[0]))
                    touched.append(old[0])
                    report.updated += 1
                else:
                    cur = self._conn.execute(
                        "INSERT INTO items (sha256, size, mtime_ns, width, height, phash, content, style, "
                        "path, added) VALUES (?,?,?,?,?,?,?,?,?,?)", (*values, key, now))
                    touched.append(int(cur.lastrowid))
                    report.added += 1
            if entries:
                self._bump_generation()
        return touched

    def _bump_generation(self) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('generation', ?)",
                           (json.dumps(self.generation + 1),))

    def _delete(self, ids: list[int]) -> None:
        with self._transaction():
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                self._conn.execute(f"DELETE FROM items WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            self._bump_generation()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (taken at once, so a concurrent writer waits); rolled back on any error."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def remove(self, paths: Sequence[str | os.PathLike[str]]) -> UpdateReport:
        """Drop files from the index: each path is an indexed file or a folder (everything below it).

        Files on disk are never touched. Paths that match nothing are reported as errors.
        """
        start = time.perf_counter()
        since = self.generation
        report = UpdateReport()
        ids: list[int] = []
        for raw in paths:
            key = _key(raw)
            prefix = key.rstrip(os.sep) + os.sep
            found = [r[0] for r in self._conn.execute(
                "SELECT id FROM items WHERE path=? OR substr(path, 1, ?)=?", (key, len(prefix), prefix))]
            if not found:
                report.errors.append(ImageLoadError(raw, "not in the index"))
            ids += found
        ids = sorted(set(ids))
        if ids:
            self._delete(ids)
        report.removed = len(ids)
        self._sync_faiss([], ids, since)
        report.elapsed_s = time.perf_counter() - start
        return report

    # -- the FAISS side ------------------------------------------------------------------------------------

    def _load_faiss(self, name: str, generation: int) -> faiss.Index | None:
        """The FAISS index of ``name`` as of ``generation`` (memory, else file), or None when there is none.
        """
        if self._meta(f"faiss_{name}_generation") != generation:
            return None
        if name in self._faiss:
            return self._faiss[name]
        file = self.folder / f"{name}.faiss"
        if not file.is_file():
            return None
        try:
            return faiss.read_index(str(file))
        except RuntimeError:
            return None  # unreadable: rebuilt from the stored vectors

    def _sync_faiss(self, touched: list[int], removed: list[int], since: int) -> None:
        """Bring the FAISS files from generation ``since`` to now: in place when possible, else rebuilt."""
        generation = self.generation
        n = len(self)
        for name in self._fields():
            want = ann.choose_kind(n, self.kind_setting)
            current = self._load_faiss(name, since)
            trained = int((self._meta(f"faiss_{name}_params") or {}).get("trained_n", 0))
            rebuild = (current is None or ann.index_kind(current) != want
                       or (want == "ivf" and n > 4 * max(trained, 1))
                       or not self._apply(current, touched, removed, name))
            params = None
            if rebuild:
                current, params = self._rebuild(name, want)
            if rebuild or touched or removed or since != generation:
                self._save_faiss(name, current, generation, params)

    def _apply(self, index: faiss.Index, touched: list[int], removed: list[int], name: str) -> bool:
        """Apply an incremental change to ``index``; False when it cannot be applied in place."""
        drop = np.asarray(sorted(set(touched) | set(removed)), np.int64)
        if drop.size:
            if not ann.supports_remove(index):
                return False
            index.remove_ids(drop)
        if touched:
            index.add_with_ids(self.vectors(touched, name), np.asarray(touched, np.int64))
        return index.ntotal == len(self)

    def _rebuild(self, name: str, kind: str) -> tuple[faiss.Index, dict]:
        ids, vecs = self.all_vectors(name)
        if kind == "ivf" and len(ids) < ann.IVF_MIN_VECTORS:
            kind = "flat"  # too few vectors to train cells: exact search until the collection grows
        index, used = ann.build_index(vecs, ids, kind)
        return index, {"kind": used.kind, "nlist": used.nlist, "nprobe": used.nprobe, "trained_n": len(ids)}

    def _save_faiss(self, name: str, index: faiss.Index, generation: int, params: dict | None) -> None:
        atomic_write(self.folder / f"{name}.faiss", lambda tmp: faiss.write_index(index, str(tmp)))
        self._faiss[name] = index
        values: dict[str, object] = {f"faiss_{name}_generation": generation}
        if params is not None:
            values[f"faiss_{name}_params"] = params
        self._set_meta(**values)

    def faiss_index(self, by: str = "content") -> faiss.Index:
        """The FAISS index of ``by`` vectors, rebuilt from the stored vectors when stale."""
        self._check_field(by)
        cached = self._faiss.get(by)
        if cached is not None and self._meta(f"faiss_{by}_generation") == self.generation:
            return cached
        index = self._load_faiss(by, self.generation)
        if index is None:
            index, params = self._rebuild(by, ann.choose_kind(len(self), self.kind_setting))
            self._save_faiss(by, index, self.generation, params)
        self._faiss[by] = index
        return index

    # -- searching -----------------------------------------------------------------------------------------

    def search(self, queries: np.ndarray, k: int = 10, *, by: str = "content",
               exclude: Iterable[int] = ()) -> list[list[tuple[int, float]]]:
        """Nearest indexed items of each query vector, best first, as ``(id, cosine)`` pairs.

        Parameters
        ----------
        queries
            (Q, D) unit vectors (or one (D,) vector) of the ``by`` field.
        k
            Results per query.
        by
            ``content`` or ``style``.
        exclude
            Item ids never returned (the query itself, items already seen).

        Notes
        -----
        Candidates from an approximate index (IVF with 8-bit codes, HNSW) are re-scored with the stored
        float32 vectors (``ann.fetch_size`` of them), so the reported similarity is the exact cosine and the
        order is exact among them.
        """
        self._check_field(by)
        if len(self) == 0:
            raise ArtlensError(f"index {self.folder} is empty; add images with "
                               f"`artlens index add PATH... --index {self.folder}`")
        index = self.faiss_index(by)
        skip = set(int(i) for i in exclude)
        q = l2_normalise(np.atleast_2d(np.asarray(queries, np.float32)))
        fetch = min(index.ntotal, ann.fetch_size(index, k) + len(skip))
        _, ids = ann.search(index, q, fetch)
        results: list[list[tuple[int, float]]] = []
        for row, found in enumerate(ids):
            cand = [int(i) for i in found if i >= 0 and int(i) not in skip]
            if not cand:
                results.append([])
                continue
            sims = self.vectors(cand, by) @ q[row]
            order = np.argsort(-sims, kind="stable")[:k]
            results.append([(cand[j], float(sims[j])) for j in order])
        return results

    def query_vector(self, query: str | os.PathLike[str], by: str = "content",
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, IndexedItem | None]:
        """The vector of a query: an indexed path (stored vector) or any image file (embedded now).

        Returns
        -------
        (numpy.ndarray, IndexedItem or None)
            The unit vector and the indexed item when the query is one.

        Raises
        ------
        ArtlensError
            The query is neither an indexed path nor a readable image.
        """
        self._check_field(by)
        item = self.item_by_path(query)
        if item is not None:
            return self.vectors([item.id], by)[0], item
        if not Path(query).exists():
            raise ArtlensError(f"{query}: not in index {self.folder} and no such file")
        image = load_image(query, max_pixels=max_pixels)
        emb = self.embedder().embed([image.rgb])
        vector = emb.content[0] if by == "content" else emb.style[0]  # type: ignore[index]
        return vector, None
