"""Labelled image sets for classifier training: an ImageFolder tree or a CSV manifest.

Two layouts are read:

* an ImageFolder tree ``root/<class>/<image>`` (images may sit in sub-folders of a class folder); one head
  named ``label`` whose classes are the sorted folder names;
* a CSV manifest with a ``path`` column (relative to the CSV's folder, or absolute) and one or more label
  columns; each label column is a head, and an empty cell is a missing label for that head.

Every problem found is reported as a one-line :class:`~artlens.errors.ConfigError` naming the source, before
any image is decoded. Files with identical content under two paths are refused: they would land on both sides
of a train/validation split and inflate the measured accuracy.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from artlens.errors import ConfigError
from artlens.files import sha256_file
from artlens.imageio import iter_image_files

__all__ = ["FOLDER_HEAD", "Dataset", "load_dataset"]

FOLDER_HEAD = "label"
_SHOW = 5  # items named in a message before "... and N more"


@dataclass
class Dataset:
    """Image paths with one integer label per head.

    Attributes
    ----------
    paths
        Image files, in a stable order.
    heads
        Head name -> sorted class names; the first head is the primary one.
    labels
        Head name -> (N,) int64 class indices into ``heads[name]``; ``-1`` marks a missing label.
    source
        Where the set came from (folder or CSV file).
    sha256
        Content hash of each file (empty when not computed); keys the feature cache.
    """

    paths: list[Path]
    heads: dict[str, list[str]]
    labels: dict[str, np.ndarray]
    source: Path | None = None
    sha256: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, keep: np.ndarray) -> Dataset:
        """The rows ``keep`` (indices or a boolean mask), with the same heads and class lists."""
        idx = np.arange(len(self.paths))[np.asarray(keep)]
        return Dataset([self.paths[i] for i in idx], dict(self.heads),
                       {h: v[idx] for h, v in self.labels.items()}, self.source,
                       [self.sha256[i] for i in idx] if self.sha256 else [])


def load_dataset(source: str | Path) -> Dataset:
    """Read a labelled image set from an ImageFolder tree or a CSV manifest.

    Parameters
    ----------
    source
        A folder laid out as ``root/<class>/<image>``, or a ``.csv`` file with a ``path`` column and one or
        more label columns.

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        The source does not exist or is empty; a class folder holds no image; a head has fewer than two
        classes; the CSV has no ``path`` or no label column; listed files are missing; or two paths hold the
        same bytes (SHA-256).
    """
    src = Path(source)
    if src.is_dir():
        data = _from_folder(src)
    elif src.is_file():
        if src.suffix.lower() != ".csv":
            raise ConfigError(f"{src}: a dataset is a folder of class folders or a .csv manifest")
        data = _from_csv(src)
    else:
        raise ConfigError(f"{src}: dataset not found")
    data.sha256 = _check_duplicates(data.paths, src)
    return data


def _from_folder(root: Path) -> Dataset:
    classes = sorted(e.name for e in root.iterdir() if e.is_dir() and not e.name.startswith("."))
    if not classes:
        raise ConfigError(f"{root}: no class folders; lay the images out as {root}/<class>/<image>")
    paths: list[Path] = []
    labels: list[int] = []
    empty = []
    for index, name in enumerate(classes):
        files = list(iter_image_files([root / name]))
        if not files:
            empty.append(name)
        paths.extend(files)
        labels.extend([index] * len(files))
    if empty:
        raise ConfigError(f"{root}: class folder(s) with no images: {_names(empty)}")
    if len(classes) < 2:
        raise ConfigError(f"{root}: only one class ({classes[0]!r}); a classifier needs at least two")
    return Dataset(paths, {FOLDER_HEAD: classes}, {FOLDER_HEAD: np.asarray(labels, np.int64)}, root)


def _from_csv(manifest: Path) -> Dataset:
    try:
        with manifest.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = [c.strip() for c in (reader.fieldnames or [])]
            rows = [[(v or "").strip() if not isinstance(v, list) else "" for v in row.values()]
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{manifest}: cannot read the CSV manifest: {exc}") from None
    if "path" not in columns:
        raise ConfigError(f"{manifest}: no 'path' column (columns: {', '.join(columns) or 'none'})")
    heads = [c for c in columns if c != "path"]
    if not heads:
        raise ConfigError(f"{manifest}: no label column besides 'path'")
    if len(set(columns)) != len(columns):
        raise ConfigError(f"{manifest}: repeated column names in the header")
    if not rows:
        raise ConfigError(f"{manifest}: no rows")
    col = {c: i for i, c in enumerate(columns)}
    base = manifest.parent
    paths: list[Path] = []
    for line, row in enumerate(rows, start=2):
        raw = row[col["path"]]
        if not raw:
            raise ConfigError(f"{manifest}: line {line} has an empty path")
        p = Path(raw)
        paths.append(p if p.is_absolute() else base / p)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError(f"{manifest}: {len(missing)} listed file(s) missing: {_names(missing)}")
    class_lists: dict[str, list[str]] = {}
    labels: dict[str, np.ndarray] = {}
    for head in heads:
        values = [row[col[head]] for row in rows]
        classes = sorted({v for v in values if v})
        if len(classes) < 2:
            raise ConfigError(f"{manifest}: column {head!r} has {len(classes)} class(es) "
                              f"({', '.join(classes) or 'all empty'}); a head needs at least two")
        index = {c: i for i, c in enumerate(classes)}
        class_lists[head] = classes
        labels[head] = np.asarray([index[v] if v else -1 for v in values], np.int64)
    return Dataset(paths, class_lists, labels, manifest)


def _check_duplicates(paths: list[Path], source: Path) -> list[str]:
    """Refuse a path listed twice or two paths with the same bytes (they would leak across splits).

    Returns the SHA-256 of each file, in order.
    """
    by_hash: dict[str, list[Path]] = {}
    digests: list[str] = []
    for p in paths:
        try:
            digests.append(sha256_file(p))
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read {p}: {exc.strerror or exc}") from None
        by_hash.setdefault(digests[-1], []).append(p)
    groups = [g for g in by_hash.values() if len(g) > 1]
    if groups:
        shown = ["=".join(str(p) for p in g) for g in groups]
        raise ConfigError(f"{source}: {len(groups)} set(s) of duplicate files (same SHA-256 content; they "
                          f"would leak across train/validation splits): {_names(shown)}")
    return digests


def _names(items: list[str]) -> str:
    text = ", ".join(items[:_SHOW])
    return text + (f" ... and {len(items) - _SHOW} more" if len(items) > _SHOW else "")
