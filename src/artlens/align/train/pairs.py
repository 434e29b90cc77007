"""Image-caption pairs for training and judging the alignment, from real, offline, licence-clean sources.

* Debian ``openclipart-png`` (public domain): a title from each file name (authors' names dropped) and the
  category/sub-category folder names;
* Debian ``scratch`` costumes (CC-BY-SA-3.0): the costume's name and its category;
* scikit-image's sample images (public domain / CC0 files listed in its ``data/README.txt``) with captions;
* photos (Debian wallpapers) whose captions are the backbone's own ImageNet classes (weak pairs, added by
  the feature pass in :mod:`artlens.align.train.features`).

Whole categories are held out for the zero-shot benchmark (:data:`HOLDOUT_CATEGORIES` of openclipart and the
Scratch background classes), and a pool of titled drawings for text-to-image retrieval (:func:`assign_roles`).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

__all__ = [
    "EXTRA_PER_FOLDER",
    "HOLDOUT_CATEGORIES",
    "OPENCLIPART_SKIP",
    "Pair",
    "add_extra_pairs",
    "assign_roles",
    "clean_title",
    "openclipart_pairs",
    "scratch_background_pairs",
    "scratch_costume_pairs",
    "skimage_pairs",
]

#: openclipart folders never used to train the alignment: the zero-shot benchmark's classes.
HOLDOUT_CATEGORIES: tuple[str, ...] = ("animals", "buildings", "food", "plants", "transportation")
#: folders that are poor classes (too few images, or no shared subject).
OPENCLIPART_SKIP: tuple[str, ...] = ("buttons", "logos", "unsorted")
_PER_FOLDER = 80  # at most this many drawings per leaf folder (1,378 near-identical stars otherwise)
#: the larger cap of the second round's extra training drawings (:func:`add_extra_pairs`)
EXTRA_PER_FOLDER = 250

# Author names and file-name noise in openclipart's file names (the most frequent tokens across folders).
_NOISE_WORDS = """
architetto archite architett architet archi arch francesco francesc frances franc fran fra fr ro mo ganson
benji park juliane krug nicu buculei jean victor vic vi jarno vasamaa jon phillips gerald geral ger ge linda
kim yves luiz sergio arauj dan gerhard gerhards gerha gerh peterm lumen design desig desi studio enrique
meza rollandin matthew aj frederic jonathan nicolas mimooh michael joel omic jonadab matt patricia mateya
zazou bw bb pt step sm fs fc svg dietrich ruud steltenpo seth yastrov chaspo ruairi hann denco tom hung
lehtinen leht tunnicliffe roman bertle orbu bn gnome ooo plastik alt bwh rpg ark strai france ezechi muji
nuskool czara christophe jaime sanchez eitel anthony lie jasper van de grond di da mat jv cle clea clean der
"""
_NOISE = set(_NOISE_WORDS.split())


@dataclass(frozen=True)
class Pair:
    """One image and the texts that describe it.

    ``title`` is the image's own name (the retrieval query); ``captions`` the texts training draws from;
    ``category`` the top-level class (``group`` folds near-copies: one leaf folder or one costume name);
    ``role`` is ``train``, ``val``, ``zeroshot`` or ``retrieval``.
    """

    path: str
    title: str
    captions: tuple[str, ...]
    source: str
    category: str
    group: str
    role: str = "train"


def clean_title(stem: str) -> str:
    """A file stem as words: camelCase and separators split, digits, authors' names and noise dropped."""
    stem = re.sub(r"([a-z])([A-Z])", r"\1 \2", stem)
    words = [w for w in re.split(r"[^A-Za-z]+", stem.lower()) if len(w) > 1 and w not in _NOISE]
    return " ".join(words)


def _words(folder: str) -> str:
    return folder.replace("_", " ").replace("-", " ").lower().strip()


def openclipart_pairs(root: Path, seed: int = 0, per_folder: int = _PER_FOLDER) -> list[Pair]:
    """Drawings under ``root`` (``.../openclipart/png``), at most ``per_folder`` per leaf folder, with
    captions."""
    rng = random.Random(seed)
    by_folder: dict[Path, list[Path]] = defaultdict(list)
    for path in sorted(root.rglob("*.png")):
        by_folder[path.parent].append(path)
    pairs = []
    for folder, files in sorted(by_folder.items()):
        parts = folder.relative_to(root).parts
        if not parts or parts[0] in OPENCLIPART_SKIP:
            continue
        chosen = sorted(rng.sample(files, per_folder)) if len(files) > per_folder else files
        names = [_words(p) for p in parts]
        where = names[-1]
        for path in chosen:
            title = clean_title(path.stem)
            caps = [f"a drawing of {where}", f"clip art: {where}"]
            if title:
                caps = [title, f"a drawing of {title}", f"clip art of {title}, {where}", *caps]
            pairs.append(Pair(str(path), title or where, tuple(caps), "openclipart", parts[0],
                              "/".join(parts)))
    return pairs


def scratch_costume_pairs(media: Path) -> list[Pair]:
    """Scratch costumes (``Media/Costumes/<category>/*``) with their names; letters are left out."""
    pairs = []
    for path in sorted((media / "Costumes").glob("*/*")):
        if path.suffix.lower() not in {".png", ".gif", ".jpg"} or path.parent.name == "Letters":
            continue
        title = clean_title(re.sub(r"\d+(-[a-z])?$", "", path.stem))
        category = _words(path.parent.name)
        if not title:
            continue
        caps = (title, f"a cartoon {title}", f"a cartoon of {title}, {category}", f"a cartoon: {category}")
        pairs.append(Pair(str(path), title, caps, "scratch-costume", category, f"costume/{title}"))
    return pairs


def scratch_background_pairs(media: Path) -> list[Pair]:
    """Scratch backgrounds (``Media/Backgrounds/<class>/*``): the held-out scene classes."""
    pairs = []
    for path in sorted((media / "Backgrounds").glob("*/*")):
        if path.suffix.lower() not in {".png", ".gif", ".jpg"}:
            continue
        title = clean_title(re.sub(r"\d+$", "", path.stem)) or _words(path.parent.name)
        pairs.append(Pair(str(path), title, (title,), "scratch-background", _words(path.parent.name),
                          f"background/{path.parent.name}", role="zeroshot"))
    return pairs


_SKIMAGE = {
    "astronaut.png": ("an astronaut in a space suit", "a portrait of a woman astronaut with a flag"),
    "camera.png": ("a man with a camera on a tripod", "a black and white photo of a photographer"),
    "chelsea.png": ("a cat", "a photo of a tabby cat"),
    "coffee.png": ("a cup of coffee", "a coffee cup on a saucer"),
    "rocket.jpg": ("a rocket on the launch pad", "a photo of a space rocket"),
    "motorcycle_left.png": ("a motorcycle", "a photo of a motorbike"),
    "horse.png": ("a horse", "a silhouette of a horse"),
    "hubble_deep_field.jpg": ("galaxies in the night sky", "a photo of deep space"),
    "coins.png": ("coins", "old coins on a table"),
    "page.png": ("a page of text", "a scanned book page"),
    "text.png": ("text", "printed letters"),
    "moon.png": ("the moon surface", "a grey photo of the moon"),
    "immunohistochemistry.png": ("cells under a microscope", "a stained tissue sample"),
    "grass.png": ("grass", "a texture of grass"),
    "gravel.png": ("gravel", "a texture of stones"),
    "brick.png": ("a brick wall", "a texture of bricks"),
    "rough-wall.png": ("a rough wall", "a texture of plaster"),
    "color.png": ("colour squares", "a colour chart"),
    "logo.png": ("a logo", "the scikit-image logo"),
    "microaneurysms.png": ("a retina scan", "a medical image"),
    "cell.png": ("a cell", "a microscope image of a cell"),
}


def skimage_pairs() -> list[Pair]:
    """scikit-image's bundled sample images with hand-written captions (those present in the install)."""
    try:
        import skimage
    except ImportError:
        return []
    folder = Path(skimage.__file__).parent / "data"
    return [Pair(str(folder / name), caps[0], caps, "skimage", "sample", f"skimage/{name}")
            for name, caps in _SKIMAGE.items() if (folder / name).is_file()]


def assign_roles(pairs: list[Pair], *, pool: int = 500, val_share: float = 0.1, seed: int = 0) -> list[Pair]:
    """Roles: held-out categories -> ``zeroshot``; ``pool`` drawings with distinct titles of at least two
    words -> ``retrieval``; a ``val_share`` of the rest (by group) -> ``val``; the others ``train``."""
    rng = random.Random(seed)
    out = []
    candidates = []
    for i, p in enumerate(pairs):
        if p.source == "openclipart" and p.category in HOLDOUT_CATEGORIES:
            out.append(replace(p, role="zeroshot"))
        else:
            out.append(p)
            if p.role == "train" and p.source == "openclipart" and len(p.title.split()) >= 2:
                candidates.append(i)
    rng.shuffle(candidates)
    seen: set[str] = set()
    for i in candidates:
        if len(seen) >= pool:
            break
        if out[i].title in seen:
            continue
        seen.add(out[i].title)
        out[i] = replace(out[i], role="retrieval")
    retrieval_titles = seen
    groups = sorted({p.group for p in out if p.role == "train"})
    val_groups = set(rng.sample(groups, max(1, round(len(groups) * val_share)))) if groups else set()
    final = []
    for p in out:
        if p.role == "train" and p.title in retrieval_titles:
            p = replace(p, role="excluded")  # same title as a retrieval query: would leak the answer
        elif p.role == "train" and p.group in val_groups:
            p = replace(p, role="val")
        final.append(p)
    return final


def add_extra_pairs(pairs: list[Pair], extra: list[Pair]) -> list[Pair]:
    """``pairs`` (roles assigned) followed by the ``extra`` pairs they do not hold, roles kept stable.

    The held-out categories and retrieval pool of :func:`assign_roles` stay exactly as they were: an extra
    pair of a held-out category is dropped (the benchmark's sets do not grow), one with the title of a
    retrieval query is ``excluded``, one of a validation group is ``val``, the others ``train``.
    """
    have = {p.path for p in pairs}
    queries = {p.title for p in pairs if p.role == "retrieval"}
    val_groups = {p.group for p in pairs if p.role == "val"}
    out = list(pairs)
    for p in extra:
        if p.path in have or (p.source == "openclipart" and p.category in HOLDOUT_CATEGORIES):
            continue
        role = "excluded" if p.title in queries else "val" if p.group in val_groups else "train"
        out.append(replace(p, role=role))
    return out
