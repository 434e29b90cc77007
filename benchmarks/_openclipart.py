"""Public-domain drawings for benchmarks, offline: Debian's ``openclipart-png`` (1:0.18+dfsg-19), one
category folder at a time.

Extracted once with ``apt-get download openclipart-png`` + ``dpkg-deb -x`` into ``.data/openclipart``
(git-ignored); public domain (``docs/data.md``).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
PNG = Path("usr/share/openclipart/png")


def openclipart_category(category: str) -> Path:
    """The folder of one openclipart category (``food``, ``animals``, ``people``...), extracted if needed."""
    target = DATA / "openclipart"
    if not (target / PNG).is_dir():
        debs = DATA / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        if not list(debs.glob("openclipart-png_*.deb")):
            subprocess.run(["apt-get", "download", "openclipart-png"], cwd=debs, check=True,
                           capture_output=True)
        deb = sorted(debs.glob("openclipart-png_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    folder = target / PNG / category
    if not folder.is_dir():
        known = sorted(p.name for p in (target / PNG).iterdir() if p.is_dir())
        raise SystemExit(f"no openclipart category {category!r}; known: {', '.join(known)}")
    return folder
