"""The offline pictures the simulator attaches to works: photographs and paintings-like scenes from Debian's
wallpaper packages and Scratch's backgrounds, and public-domain drawings from openclipart (see docs/data.md
for each set's licence). Found under ``.data/`` of the working folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["default_image_pool"]

_SETS = (
    ("scratch/usr/share/scratch/Media/Backgrounds", ("*.jpg",)),
    ("mate-backgrounds/usr/share/backgrounds/mate", ("*.jpg",)),
    ("plasma-workspace-wallpapers/usr/share/wallpapers", ("*.jpg",)),
    ("lomiri-wallpapers-20.04", ("*.jpg",)),
    ("openclipart/usr/share/openclipart/png", ("*.png",)),
)
_POOR = ("unsorted", "buttons", "logos")


def default_image_pool(folder: Path | None = None, n: int = 300, seed: int = 0) -> list[Path]:
    """``n`` pictures drawn (seeded) from ``folder``, or, without one, half from the photo and scene sets and
    half from openclipart's drawings in ``.data/`` (none when it is absent)."""
    rng = np.random.default_rng(seed)
    if n <= 0:
        return []
    if folder is not None:
        files = sorted(
            p.resolve() for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp")
        )
        return (
            [files[i] for i in sorted(rng.choice(len(files), min(n, len(files)), replace=False))]
            if files
            else []
        )
    data = Path(".data").resolve()
    photos: list[Path] = []
    drawings: list[Path] = []
    for sub, patterns in _SETS:
        root = data / sub
        if not root.is_dir():
            continue
        found = sorted(
            p
            for pattern in patterns
            for p in root.rglob(pattern)
            if not any(part in _POOR for part in p.parts)
        )
        (drawings if "openclipart" in sub else photos).extend(found)
    picked: list[Path] = []
    for group, share in ((photos, n // 2), (drawings, n - n // 2)):
        if group:
            picked += [
                group[i] for i in sorted(rng.choice(len(group), min(share, len(group)), replace=False))
            ]
    return picked
