"""Confinement of the file paths a client may name: only files under the server's ``--allow-root`` folders.

A path is refused (403) when it has a ``..`` component, or when its canonical form (every symlink resolved)
lies outside every allowed root; relative paths are taken relative to the first root. Folders are walked here,
and each file found is checked the same way, so a symlink inside a root cannot lead out of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePath

from artlens.errors import ImageLoadError
from artlens.imageio import iter_image_files
from artlens.serve.errors import ApiError

__all__ = ["confine", "expand"]


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def confine(raw: str, roots: Sequence[Path]) -> Path:
    """The canonical path of ``raw`` if it lies under one of ``roots`` (canonical themselves), else 403."""
    if not roots:
        raise ApiError(403, "paths_disabled", "this server takes uploads only: it was started without "
                       "--allow-root, so no server path may be named")
    if not raw or "\x00" in raw or len(raw) > 4096:
        raise ApiError(422, "invalid_input", "a path must be a non-empty string without NUL characters")
    if ".." in PurePath(raw).parts or ".." in PurePath(raw.replace("\\", "/")).parts:
        raise ApiError(403, "path_forbidden", f"{raw}: '..' is not allowed in paths")
    try:
        path = Path(raw).expanduser() if raw.startswith("~") else Path(raw)
    except RuntimeError:  # ~name of no known user
        raise ApiError(403, "path_forbidden", f"{raw}: outside the folders this server may read") from None
    if not path.is_absolute():
        path = roots[0] / path
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise ApiError(403, "path_forbidden", f"{raw}: cannot be resolved inside the allowed folders"
                       ) from None
    if not _inside(resolved, roots):
        raise ApiError(403, "path_forbidden", f"{raw}: outside the folders this server may read")
    return resolved


def expand(raws: Sequence[str], roots: Sequence[Path]) -> tuple[list[Path], list[dict[str, str]]]:
    """Files named by ``raws`` (folders walked), each confined; ``errors`` lists missing files and files
    reached through a symlink that leads out of the roots (they are left out)."""
    files: list[Path] = []
    errors: list[dict[str, str]] = []
    for raw in raws:
        path = confine(raw, roots)
        try:
            exists = path.exists()
        except OSError as exc:  # a name too long, a folder that may not be searched ...
            errors.append({"path": raw, "error": f"{raw}: cannot be read ({exc.strerror or 'error'})"})
            continue
        if not exists:
            errors.append({"path": raw, "error": f"{raw}: no such file or folder"})
            continue
        walk_errors: list[ImageLoadError] = []
        for found in iter_image_files([path], walk_errors):
            real = found.resolve()
            if _inside(real, roots):
                files.append(real)
            else:
                errors.append({"path": str(found), "error": f"{found}: refused, a symlink leading "
                               "outside the folders this server may read"})
        errors += [{"path": error.path, "error": str(error)} for error in walk_errors]
    return list(dict.fromkeys(files)), errors
