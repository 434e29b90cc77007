"""Collect pristine photos for training the learned quality model, offline, and split them by file.

Sources (real photographs only; drawings, renders and paintings in the same packages are left out):

* scikit-image's bundled photos ``astronaut`` (NASA, public domain), ``coffee`` and ``chelsea`` (CC0) and
  ``rocket`` (public domain), written as PNG;
* Debian ``mate-backgrounds``: ``usr/share/backgrounds/mate/nature/*.jpg`` (GPL-2+);
* Debian ``plasma-workspace-wallpapers``: the photographic wallpapers listed in ``PLASMA_PHOTOS``, the
  largest JPEG of each (GPL-2+);
* Debian ``scratch``: ``usr/share/scratch/Media/Backgrounds/*/*.jpg`` scene photos (480x360), except the
  drawn ones in ``SCRATCH_DRAWN`` (media CC-BY-SA-3.0).

A package already extracted under ``DATA/<package>`` is reused; otherwise its ``.deb`` is taken from
``DATA/debs`` or fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x``. Files are split into
train and held-out per source with a seeded shuffle, and ``manifest.csv`` lists path, source, split, size
and licence.

    .venv/bin/python scripts/prepare_pristine.py [--data .data] [--held-out 0.25] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
PLASMA_PHOTOS = ("BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
                 "OneStandsOut", "Path", "summer_1am")
SCRATCH_DRAWN = ("chalkboard", "graffiti", "party-room", "room1", "room2", "room3", "school2",
                 "spotlight-stage", "woods-and-bench")
LICENCES = {
    "skimage": "public domain / CC0 (scikit-image data)",
    "mate-backgrounds": "GPL-2+",
    "plasma-workspace-wallpapers": "GPL-2+",
    "scratch": "CC-BY-SA-3.0",
}


def ensure_package(data: Path, package: str) -> Path:
    """The folder ``data/package`` with the package's files, extracting (and downloading) when needed."""
    target = data / package
    if (target / "usr").is_dir():
        return target
    debs = data / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        raise SystemExit(f"apt-get download {package} produced no .deb in {debs}")
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(target)], check=True)
    return target


def largest(files: list[Path]) -> Path:
    def area(p: Path) -> int:
        with Image.open(p) as im:
            return im.width * im.height
    return max(files, key=area)


def collect(data: Path, out: Path) -> list[tuple[str, Path]]:
    """(source, path) of every pristine photo."""
    from skimage import data as skdata

    items: list[tuple[str, Path]] = []
    sk_dir = out / "skimage"
    sk_dir.mkdir(parents=True, exist_ok=True)
    for name in SKIMAGE_PHOTOS:
        path = sk_dir / f"{name}.png"
        if not path.is_file():
            Image.fromarray(getattr(skdata, name)()).save(path)
        items.append(("skimage", path))

    mate = ensure_package(data, "mate-backgrounds")
    nature = mate / "usr/share/backgrounds/mate/nature"
    items += [("mate-backgrounds", p) for p in sorted(nature.glob("*.jpg"))]

    plasma = ensure_package(data, "plasma-workspace-wallpapers") / "usr/share/wallpapers"
    for name in PLASMA_PHOTOS:
        jpgs = sorted((plasma / name / "contents" / "images").glob("*.jpg"))
        if jpgs:
            items.append(("plasma-workspace-wallpapers", largest(jpgs)))

    scratch = ensure_package(data, "scratch") / "usr/share/scratch/Media/Backgrounds"
    items += [("scratch", p) for p in sorted(scratch.glob("*/*.jpg")) if p.stem not in SCRATCH_DRAWN]
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".data", help="git-ignored data folder")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default DATA/pristine)")
    parser.add_argument("--held-out", type=float, default=0.25, help="share of files held out per source")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = args.out or args.data / "pristine"
    out.mkdir(parents=True, exist_ok=True)
    items = collect(args.data, out)

    rng = np.random.default_rng(args.seed)
    rows = []
    for source in sorted({s for s, _ in items}):
        paths = [p for s, p in items if s == source]
        order = rng.permutation(len(paths))
        n_held = round(args.held_out * len(paths))
        held = {int(i) for i in order[:n_held]}
        for i, path in enumerate(paths):
            with Image.open(path) as im:
                width, height = im.size
            rows.append({"path": str(path.resolve()), "source": source,
                         "split": "heldout" if i in held else "train",
                         "width": width, "height": height, "licence": LICENCES[source]})
    manifest = out / "manifest.csv"
    with open(manifest, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    counts = {(r["source"], r["split"]) for r in rows}
    for source, split in sorted(counts):
        n = sum(1 for r in rows if r["source"] == source and r["split"] == split)
        print(f"{source:30s} {split:8s} {n:4d}")
    print(f"wrote {manifest} ({len(rows)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
