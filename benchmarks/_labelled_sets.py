"""The three labelled sets of ``benchmarks/classify_transfer.py``, built offline from extracted Debian
packages.

Each builder returns a :class:`LabelledSet`: image paths, a class per image and a group per image. Copies of
one picture (a wallpaper shipped at several resolutions, its light and dark variants, a clip-art drawing
filed twice) share a group, and the benchmark's splits keep a group on one side. Exact copies (same bytes)
are kept once. Licences are in docs/data.md. The held-out packages (``tuxpaint-stamps-*``,
``gcompris-qt-data``, ``wesnoth-*-data``) are never read here.

* :func:`scratch_scenes`: the 73 Scratch backgrounds, 4 classes (Indoors, Nature, Outdoors, Sports).
* :func:`openclipart_categories`: 10 top-level openclipart-png categories, at most 100 drawings each,
  three of them cut to 24-30 on purpose (imbalanced).
* :func:`art_styles`: photographs vs renders (digital paintings, abstract wallpapers) vs drawings.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from artlens.imageio import load_image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
SCRATCH = DATA / "scratch/usr/share/scratch/Media"
OPENCLIPART = DATA / "openclipart/usr/share/openclipart/png"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}

#: openclipart-png's 10 largest sensible top-level folders (unsorted, special, buttons, logos left out) and
#: how many drawings each keeps: 100 at most, three small on purpose.
OPENCLIPART_CLASSES = {"computer": 100, "shapes": 100, "signs_and_symbols": 100, "recreation": 100,
                       "people": 100, "transportation": 100, "food": 100, "animals": 30, "tools": 24,
                       "office": 26}
#: plasma wallpapers that are photographs (scripts/prepare_pristine.py: PLASMA_PHOTOS, PLASMA_SCREENING)
PLASMA_PHOTOS = {"BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
                 "OneStandsOut", "Path", "summer_1am", "ColorfulCups"}
STYLE_DRAWINGS = 90  # drawings in the style set (half Scratch costumes, half openclipart not in set 2)


@dataclass(frozen=True)
class LabelledSet:
    """Images with a class and a group each (copies of one picture share a group)."""

    name: str
    paths: list[Path]
    labels: np.ndarray  # (N,) class indices
    groups: np.ndarray  # (N,) group indices
    classes: list[str]

    def counts(self) -> dict[str, int]:
        return dict(zip(self.classes, np.bincount(self.labels, minlength=len(self.classes)).tolist(),
                        strict=True))


def small_copies(data: LabelledSet, side: int = 384) -> LabelledSet:
    """The same set read from lossless PNG copies whose shorter side is at most ``side`` px (made once, in
    .data/recog-cache/small/), so that decoding 6000 px wallpapers does not dominate every run. Backbones
    resize to a 256 px shorter side anyway."""
    out_dir = DATA / "recog-cache" / f"small{side}"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in data.paths:
        target = out_dir / f"{_sha(path)}.png"
        if not target.is_file():
            rgb = load_image(path).rgb
            h, w = rgb.shape[:2]
            scale = side / min(h, w)
            if scale < 1:
                rgb = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            tmp = target.with_suffix(".tmp.png")
            cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            tmp.replace(target)
        paths.append(target)
    return LabelledSet(data.name, paths, data.labels, data.groups, data.classes)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _readable_size(path: Path) -> bool:
    """Whether artlens reads the file at its default pixel limit (50 MP; a few clip-art PNGs are larger)."""
    try:
        with Image.open(path) as im:
            return im.size[0] * im.size[1] <= 50_000_000
    except (OSError, Image.DecompressionBombError):
        return False


def _clip_key(path: Path) -> str:
    """One openclipart drawing's name without the numbered-variant suffix (``ladybug_01`` -> ``ladybug``)."""
    return re.sub(r"[_-]?\d+$", "", path.stem.lower())


def _assemble(name: str, items: list[tuple[Path, str, str]], classes: list[str]) -> LabelledSet:
    """(path, class, group key) rows -> a LabelledSet, exact copies (same SHA-256) kept once."""
    seen: set[str] = set()
    paths, labels, keys = [], [], []
    for path, cls, key in items:
        sha = _sha(path)
        if sha in seen:
            continue
        seen.add(sha)
        paths.append(path)
        labels.append(classes.index(cls))
        keys.append(key)
    _, groups = np.unique(np.asarray(keys), return_inverse=True)
    return LabelledSet(name, paths, np.asarray(labels, np.int64), groups.astype(np.int64), classes)


def _require(folder: Path, package: str) -> None:
    if not folder.is_dir():
        raise SystemExit(f"{folder} not found: extract Debian's {package} there (see docs/data.md)")


def scratch_scenes() -> LabelledSet:
    """Set 1: the Scratch backgrounds in their 4 folders (each file its own group)."""
    root = SCRATCH / "Backgrounds"
    _require(root, "scratch")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    items = [(p, c, f"{c}/{p.stem}") for c in classes for p in _images(root / c)]
    return _assemble("scratch-scenes", items, classes)


def _openclipart_pool(category: str) -> list[Path]:
    """A category's drawings in a seeded order that does not depend on the file system's."""
    files = _images(OPENCLIPART / category)
    rng = np.random.default_rng(int(hashlib.sha256(category.encode()).hexdigest()[:8], 16))
    return [files[i] for i in rng.permutation(len(files))]


def openclipart_categories(caps: dict[str, int] | None = None) -> LabelledSet:
    """Set 2: 10 openclipart-png categories, the first ``OPENCLIPART_CLASSES[c]`` drawings of each
    (seeded order)."""
    _require(OPENCLIPART, "openclipart-png")
    caps = OPENCLIPART_CLASSES if caps is None else caps
    classes = list(caps)
    items = []
    for cls, cap in caps.items():
        chosen: list[Path] = []
        keys: set[str] = set()
        for p in _openclipart_pool(cls):
            if len(chosen) >= cap:
                break
            if _clip_key(p) in keys or not _readable_size(p):  # one variant per drawing
                continue
            keys.add(_clip_key(p))
            chosen.append(p)
        items += [(p, cls, f"clip/{_clip_key(p)}") for p in chosen]
    return _assemble("openclipart-10", items, classes)


def _pristine_photos() -> list[Path]:
    """The ``train`` photographs of .data/pristine/manifest.csv (no rendered product shots)."""
    manifest = DATA / "pristine/manifest.csv"
    _require(manifest.parent, "the pristine photos (scripts/prepare_pristine.py)")
    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [Path(r["path"]) for r in rows if r["split"] == "train" and r["source"] != "studio-renders"
            and Path(r["path"]).is_file()]


def _renders() -> list[tuple[Path, str]]:
    """Non-photographic wallpapers (digital paintings, abstract renders), with their group key: the largest
    file of each plasma wallpaper, the GNOME raster wallpapers (light/dark pairs grouped), UKUI's."""
    out: list[tuple[Path, str]] = []
    plasma = DATA / "plasma-workspace-wallpapers/usr/share/wallpapers"
    for folder in sorted(p for p in plasma.iterdir() if p.is_dir() and p.name not in PLASMA_PHOTOS):
        files = sorted(_images(folder / "contents/images"), key=lambda p: p.stat().st_size)
        if files:
            out.append((files[-1], f"plasma/{folder.name}"))
    for p in _images(DATA / "gnome-backgrounds/usr/share/backgrounds/gnome"):
        out.append((p, "gnome/" + re.sub(r"-[dl]$", "", p.stem)))
    for p in _images(DATA / "ukui-wallpapers/usr/share/backgrounds"):
        out.append((p, f"ukui/{p.stem}"))
    return out


def art_styles() -> LabelledSet:
    """Set 3: photographs vs renders vs drawings (Scratch costumes and openclipart drawings not in set 2)."""
    used = {p for p in openclipart_categories().paths}
    photos = [(p, "photograph", f"photo/{p.stem}") for p in _pristine_photos()]
    renders = [(p, "render", key) for p, key in _renders()]
    costumes = _images(SCRATCH / "Costumes")
    rng = np.random.default_rng(3)
    half = STYLE_DRAWINGS // 2
    drawings = [(costumes[i], "drawing", f"costume/{costumes[i].stem}")
                for i in sorted(rng.permutation(len(costumes))[:half])]
    spare = [p for c in ("plants", "buildings", "education", "electronics", "decorations", "science",
                         "geography") for p in _images(OPENCLIPART / c) if p not in used]
    picked = [spare[i] for i in rng.permutation(len(spare))[:STYLE_DRAWINGS - half]]
    drawings += [(p, "drawing", f"clip/{_clip_key(p)}") for p in sorted(picked) if _readable_size(p)]
    return _assemble("art-styles", photos + renders + drawings, ["photograph", "render", "drawing"])


SETS: dict[str, Callable[[], LabelledSet]] = {"scratch": scratch_scenes,
                                              "openclipart": openclipart_categories,
                                              "styles": art_styles}


if __name__ == "__main__":  # make the small copies ahead of a benchmark run
    import sys

    for _name in sys.argv[1:] or ["scratch", "styles", "openclipart"]:
        _small = small_copies(SETS[_name]())
        print(_name, len(_small.paths), _small.counts(), flush=True)
