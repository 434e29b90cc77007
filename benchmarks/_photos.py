"""Real photos for benchmarks, offline: Debian wallpaper packages, cropped to a fixed size.

Fetched once with ``apt-get download`` + ``dpkg-deb -x`` into ``.data/`` (git-ignored); licences are recorded
in ``docs/data.md`` (GPL-2+ for both packages used here: fine to use locally, not redistributed).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers")


def _extract(package: str) -> Path:
    target = DATA / package
    if target.is_dir():
        return target
    debs = DATA / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if not list(debs.glob(f"{package}_*.deb")):
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True, capture_output=True)
    deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
    subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], check=True)
    return target


def source_photos() -> list[Path]:
    """Photographic wallpapers (JPEG files) from the Debian packages, one per artwork, sorted."""
    files: list[Path] = []
    mate = _extract("mate-backgrounds") / "usr/share/backgrounds/mate"
    files += sorted((mate / "nature").glob("*.jpg"))
    files += [mate / "abstract" / "Elephants.jpg", mate / "desktop" / "GreenTraditional.jpg"]
    plasma = _extract("plasma-workspace-wallpapers") / "usr/share/wallpapers"
    for folder in sorted(p for p in plasma.iterdir() if p.is_dir()):
        jpgs = sorted((folder / "contents" / "images").glob("*.jpg"), key=lambda p: p.stat().st_size)
        if jpgs:
            files.append(jpgs[-1])
    return [f for f in files if f.is_file()]


def crop_to(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize so the image covers width x height, then centre-crop to exactly that size."""
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    y0 = (resized.shape[0] - height) // 2
    x0 = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y0:y0 + height, x0:x0 + width])


def benchmark_photos(n: int = 40, width: int = 1080, height: int = 800) -> list[Path]:
    """``n`` JPEG files of exactly width x height (quality 92), made once and cached in ``.data/``."""
    out = DATA / f"bench-{width}x{height}"
    out.mkdir(parents=True, exist_ok=True)
    sources = source_photos()
    made = []
    for i, src in enumerate(sources[:n]):
        dest = out / f"{i:03d}-{src.parent.parent.parent.name if 'contents' in src.parts else src.stem}.jpg"
        if not dest.exists():
            bgr = cv2.imread(str(src), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            cv2.imwrite(str(dest), crop_to(bgr, width, height), [cv2.IMWRITE_JPEG_QUALITY, 92])
        made.append(dest)
    return made


def many_photos(n: int = 2048, width: int = 1080, height: int = 800) -> list[Path]:
    """``n`` distinct JPEG files of exactly width x height (quality 92), made once and cached in ``.data/``.

    There are only 32 source photos, so each gives ``ceil(n / 32)`` views: a window of 45-100 % of the
    largest one with the target's aspect ratio, at a seeded random place, scaled to the target size, every
    other one mirrored. Each view is a real photo at the size shops upload, with its own bytes and pixels.
    """
    out = DATA / f"bench-{width}x{height}-many"
    out.mkdir(parents=True, exist_ok=True)
    sources = source_photos()
    per_source = -(-n // len(sources))
    made: list[Path] = []
    for i, src in enumerate(sources):
        wanted = [out / f"{i:03d}-{k:02d}.jpg" for k in range(per_source)]
        if all(p.exists() for p in wanted):
            made += wanted
            continue
        bgr = cv2.imread(str(src), cv2.IMREAD_COLOR)
        if bgr is None:
            continue
        h, w = bgr.shape[:2]
        full_w = min(w, round(h * width / height))
        rng = np.random.default_rng(1000 + i)
        for k, dest in enumerate(wanted):
            scale = rng.uniform(0.45, 1.0)
            cw = max(width // 4, round(full_w * scale))
            ch = round(cw * height / width)
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            view = crop_to(bgr[y0:y0 + ch, x0:x0 + cw], width, height)
            if k % 2:
                view = np.ascontiguousarray(view[:, ::-1])
            cv2.imwrite(str(dest), view, [cv2.IMWRITE_JPEG_QUALITY, 92])
            made.append(dest)
    return made[:n]


if __name__ == "__main__":
    for p in benchmark_photos():
        print(p)
