"""Collect pristine photos for training the learned quality model, offline, and split them by file.

Sources (real photographs only; drawings, renders and paintings in the same packages are left out):

* scikit-image's bundled photos ``astronaut`` (NASA, public domain), ``coffee`` and ``chelsea`` (CC0) and
  ``rocket`` (public domain), written as PNG;
* Debian ``mate-backgrounds``: ``usr/share/backgrounds/mate/nature/*.jpg`` (GPL-2+);
* Debian ``plasma-workspace-wallpapers``: the photographic wallpapers listed in ``PLASMA_PHOTOS``, the
  largest JPEG of each (GPL-2+);
* Debian ``scratch``: ``usr/share/scratch/Media/Backgrounds/*/*.jpg`` scene photos (480x360), except the
  drawn ones in ``SCRATCH_DRAWN`` (media CC-BY-SA-3.0);
* Debian ``lomiri-wallpapers-16.04`` and ``lomiri-wallpapers-20.04``: the photographs in ``LOMIRI_PHOTOS``
  (2-25 megapixels), each under the licence its package's ``copyright`` file gives it;
* studio product shots rendered from the ``train`` photos above (:func:`render_products`): boxes,
  cylinders, spheres and bottles surfaced with a crop of a photo (sometimes turned into one hue, at various
  contrasts), shaded and placed on pure white, off-white or light grey with a soft contact shadow, so
  that the learned quality model sees the main kind of marketplace image clean. They are never held out
  (the benchmark uses photos).

A package already extracted under ``DATA/<package>`` is reused; otherwise its ``.deb`` is taken from
``DATA/debs`` or fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x``. Files are split into
train and held-out per source with one seeded generator, taking the sources in ``SPLIT_ORDER``: a source
added later goes at the end of that list, so the splits of the earlier ones (and the benchmark's held-out
photos) stay as they were. Five train photos of 2500 px and more (``SCREENING_PHOTOS``) are then relabelled
``screening``, and the ``ColorfulCups`` wallpaper added as one, for ``benchmarks/screening_truth.py``: neither
the recipe (``train`` rows) nor ``benchmarks/quality_accuracy.py`` (``heldout`` rows) reads them.
``manifest.csv`` lists path, source, split, size and licence.

    .venv/bin/python scripts/prepare_pristine.py [--data .data] [--held-out 0.25] [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
PLASMA_PHOTOS = ("BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
                 "OneStandsOut", "Path", "summer_1am")
SCRATCH_DRAWN = ("chalkboard", "graffiti", "party-room", "room1", "room2", "room3", "school2",
                 "spotlight-stage", "woods-and-bench")
LOMIRI_PHOTOS = {  # file -> licence, from the packages' copyright files; renders and a texture left out
    "16.04/Bridge_by_Sander_Klootwijk.jpg": "CC-BY-SA-4.0",
    "16.04/Dragonfly_by_Bolly.jpg": "CC-BY-SA-4.0",
    "16.04/Picture_0B_by_freespace.jpg": "CC-BY-4.0",
    "16.04/Picture_1A_by_freespace.jpg": "CC-BY-4.0",
    "16.04/Wine_by_Jakkub_Mede.jpg": "CC-BY-4.0",
    "16.04/aitzgorri_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "16.04/free_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0",
    "16.04/friends_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "16.04/greentock_by_Peter_Nerlich.jpg": "CC-BY-SA-4.0",
    "16.04/life_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "16.04/picosdeeuropa_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "16.04/seeding_by_Clements_Engelhardt.jpg": "CC0-1.0",
    "16.04/sunset_by_Aitzol_Berasategi.jpg": "CC-BY-4.0",
    "20.04/Kleiber_by_Lukas_Baubkus.jpg": "CC-BY-SA-3.0",
}
#: Photos of 2500 px and more kept out of training for ``benchmarks/screening_truth.py`` (split
#: ``screening``): train photos of the draw below, relabelled after it so that every other photo keeps
#: its split.
SCREENING_PHOTOS = ("Bridge_by_Sander_Klootwijk", "Kleiber_by_Lukas_Baubkus",
                    "seeding_by_Clements_Engelhardt", "Wine_by_Jakkub_Mede",
                    "picosdeeuropa_by_Aitzol_Berasategi")
#: Plasma wallpapers that are photographs but were never in the draw: screening only.
PLASMA_SCREENING = ("ColorfulCups",)
SPLIT_ORDER = ("mate-backgrounds", "plasma-workspace-wallpapers", "scratch", "skimage", "lomiri-wallpapers")
LICENCES = {
    "skimage": "public domain / CC0 (scikit-image data)",
    "mate-backgrounds": "GPL-2+",
    "plasma-workspace-wallpapers": "GPL-2+",
    "scratch": "CC-BY-SA-3.0",
    "studio-renders": "derived from the train photos above (their licences)",
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


def collect(data: Path, out: Path) -> list[tuple[str, Path, str]]:
    """(source, path, licence) of every pristine photo."""
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
    found = [(source, path, LICENCES[source]) for source, path in items]

    for name, licence in LOMIRI_PHOTOS.items():
        release, filename = name.split("/")
        package = ensure_package(data, f"lomiri-wallpapers-{release}")
        found.append(("lomiri-wallpapers", package / "usr/share/backgrounds" / filename, licence))
    return found


def _shape_mask(kind: str, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Alpha (0-1) and a shading factor for a product silhouette of size h x w."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + 0.5) / w * 2 - 1, (yy + 0.5) / h * 2 - 1
    if kind == "sphere":
        r2 = u**2 + v**2
        alpha = (r2 <= 1).astype(np.float32)
        nz = np.sqrt(np.clip(1 - r2, 0, 1))
        shade = 0.35 + 0.65 * np.clip(-0.4 * u - 0.4 * v + 0.8 * nz, 0, 1)
    elif kind == "cylinder":
        alpha = np.ones((h, w), np.float32)
        shade = 0.45 + 0.55 * np.sqrt(np.clip(1 - (u + 0.3) ** 2 / 1.7, 0, 1))
    elif kind == "bottle":
        half = np.where(v < -0.35, 0.32, np.where(v < -0.1, 0.32 + (v + 0.35) * 2.7, 1.0))
        alpha = (np.abs(u) <= half).astype(np.float32)
        shade = 0.45 + 0.55 * np.sqrt(np.clip(1 - (u / np.maximum(half, 1e-3) + 0.3) ** 2 / 1.7, 0, 1))
    else:  # box: two visible faces
        alpha = np.ones((h, w), np.float32)
        shade = np.where(u < 0.3, 0.95 - 0.1 * v, 0.62 - 0.1 * v)
    alpha = cv2.GaussianBlur(alpha, (3, 3), 0)
    return alpha, shade.astype(np.float32)


def _backdrop_tone(index: int) -> tuple[float, float, float]:
    """Backdrop RGB of product shot ``index``: white, off-white (a warm 238-250) or light grey (205-235)."""
    kind = index % 4
    if kind < 2:
        return 255.0, 255.0, 255.0
    tone = np.random.default_rng(10_000 + index)
    if kind == 2:
        base = tone.uniform(240.0, 250.0)
        return base + 4.0, base + 2.0, base - tone.uniform(0.0, 6.0)
    grey = tone.uniform(205.0, 235.0)
    return grey, grey, grey + tone.uniform(-3.0, 3.0)


def render_products(textures: list[Path], out: Path, count: int, rng: np.random.Generator) -> list[Path]:
    """Studio shots of simple products on pure white (half of them), off-white or light grey (a quarter each,
    the backdrops marketplaces allow: Google takes white or light), surfaced with crops of real photos.

    The backdrop's tone comes from the shot's index and a generator of its own, so the products themselves are
    those of the renders made before backdrops varied.

    Every shot is rendered (the generator's draws do not depend on what is already on disk), but a file is
    rewritten only when its bytes change, so the training cache, keyed by file size and time, stays valid.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = out / f"product-{i:03d}.jpg"
        paths.append(path)
        canvas_w = int(rng.choice([1000, 1200, 1500, 1600]))
        canvas_h = int(canvas_w * rng.choice([1.0, 1.0, 0.75, 1.25]))
        kind = str(rng.choice(["box", "cylinder", "sphere", "bottle"]))
        fill = float(rng.uniform(0.5, 0.92))
        h = int(canvas_h * fill)
        w = int(h * (rng.uniform(0.45, 0.8) if kind in ("bottle", "cylinder") else rng.uniform(0.7, 1.1)))
        w = min(w, int(canvas_w * 0.92))
        if kind == "sphere":
            w = h = min(w, h)
        with Image.open(textures[int(rng.integers(len(textures)))]) as im:
            photo = np.asarray(im.convert("RGB"))
        scale = max(h / photo.shape[0], w / photo.shape[1]) * rng.uniform(1.0, 1.6)
        size = (max(w, round(photo.shape[1] * scale)), max(h, round(photo.shape[0] * scale)))
        photo = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        y0 = int(rng.integers(photo.shape[0] - h + 1))
        x0 = int(rng.integers(photo.shape[1] - w + 1))
        surface = photo[y0:y0 + h, x0:x0 + w].astype(np.float32) / 255
        if rng.random() < 0.5:  # a one-colour product: the photo's lightness in a random hue and contrast
            grey = surface.mean(axis=2, keepdims=True)
            contrast = rng.uniform(0.3, 1.0)
            hue = rng.uniform(0.15, 0.85, 3).astype(np.float32)
            surface = hue * (1 - contrast * 0.5 + contrast * grey)
        alpha, shade = _shape_mask(kind, h, w)
        rgb = np.clip(surface * shade[..., None], 0, 1) * 255
        canvas = np.full((canvas_h, canvas_w, 3), _backdrop_tone(i), np.float32)
        top, left = (canvas_h - h) // 2 + int(rng.integers(-20, 21)), (canvas_w - w) // 2
        top = int(np.clip(top, 0, canvas_h - h))
        shadow = np.zeros((canvas_h, canvas_w), np.float32)
        cv2.ellipse(shadow, (left + w // 2, min(canvas_h - 1, top + h - 3)), (int(w * 0.45), max(3, h // 40)),
                    0, 0, 360, 1.0, -1)
        canvas *= 1 - 0.22 * cv2.GaussianBlur(shadow, (0, 0), max(2.0, h / 90))[..., None]
        region = canvas[top:top + h, left:left + w]
        region[:] = region * (1 - alpha[..., None]) + rgb * alpha[..., None]
        noise = rng.normal(0, rng.uniform(0.5, 2.0), canvas.shape).astype(np.float32)
        encoded = io.BytesIO()
        Image.fromarray(np.clip(canvas + noise, 0, 255).astype(np.uint8)).save(
            encoded, format="JPEG", quality=int(rng.integers(90, 97)))
        if not path.is_file() or path.read_bytes() != encoded.getvalue():
            path.write_bytes(encoded.getvalue())
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".data", help="git-ignored data folder")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default DATA/pristine)")
    parser.add_argument("--held-out", type=float, default=0.25, help="share of files held out per source")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--products", type=int, default=40, help="studio product shots to render")
    args = parser.parse_args(argv)
    out = args.out or args.data / "pristine"
    out.mkdir(parents=True, exist_ok=True)
    items = collect(args.data, out)

    rng = np.random.default_rng(args.seed)
    rows = []
    unknown = {s for s, _, _ in items} - set(SPLIT_ORDER)
    if unknown:
        raise SystemExit(f"sources missing from SPLIT_ORDER: {sorted(unknown)}")
    for source in SPLIT_ORDER:
        paths = [(p, licence) for s, p, licence in items if s == source]
        order = rng.permutation(len(paths))
        n_held = round(args.held_out * len(paths))
        held = {int(i) for i in order[:n_held]}
        for i, (path, licence) in enumerate(paths):
            with Image.open(path) as im:
                width, height = im.size
            split = "heldout" if i in held else "screening" if path.stem in SCREENING_PHOTOS else "train"
            rows.append({"path": str(path.resolve()), "source": source, "split": split,
                         "width": width, "height": height, "licence": licence})
    plasma = args.data / "plasma-workspace-wallpapers/usr/share/wallpapers"
    for name in PLASMA_SCREENING:
        path = largest(sorted((plasma / name / "contents" / "images").glob("*.jpg")))
        with Image.open(path) as im:
            width, height = im.size
        rows.append({"path": str(path.resolve()), "source": "plasma-workspace-wallpapers",
                     "split": "screening", "width": width, "height": height,
                     "licence": LICENCES["plasma-workspace-wallpapers"]})
    textures = [Path(r["path"]) for r in rows if r["split"] == "train"]
    renders = render_products(textures, out / "products", args.products, np.random.default_rng(args.seed + 1))
    for path in renders:
        with Image.open(path) as im:
            width, height = im.size
        rows.append({"path": str(path.resolve()), "source": "studio-renders", "split": "train",
                     "width": width, "height": height, "licence": LICENCES["studio-renders"]})
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
