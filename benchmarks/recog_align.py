"""Cache the aligned image embedding (``artlens.align``) of the labelled sets: recognition experiments.

The shipped alignment heads were trained on openclipart folders other than animals, buildings, food,
plants and transportation, and on Scratch costumes and Debian wallpaper photos (docs/align.md): they have
seen images of the ``openclipart`` and ``styles`` sets. So this caches only rows the heads never saw:
every Scratch background (``scratch``) and the ``openclipart`` rows of the held-out folders (``--clean``,
default animals, food, transportation). The ``styles`` set has no such part large enough to score.

Files: ``.data/recog-cache/<set>-align-embed-plain.npz`` with ``x`` (n, 256) unit vectors, ``tower``
(n, 1291: MobileNetV2 pooled features and the 11 colour-name shares), ``rows`` (their indices in the set),
``labels``, ``groups``, ``classes``. Run it under ``nice -n 10`` with one thread:

    nice -n 10 .venv/bin/python benchmarks/recog_align.py [--sets scratch openclipart]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _labelled_sets import DATA, SETS
from artlens.align import load_align_model
from artlens.align.image import embed_image_files
from artlens.models.backbones import configure_threads

CACHE = DATA / "recog-cache"
CLEAN = ("animals", "food", "transportation")  # openclipart folders the align heads never trained on


def cache_set(name: str, clean: tuple[str, ...]) -> None:
    data = SETS[name]()
    rows = np.arange(len(data.paths))
    if name == "openclipart":
        keep = [data.classes.index(c) for c in clean]
        rows = np.flatnonzero(np.isin(data.labels, keep))
    elif name != "scratch":
        sys.exit(f"{name}: the shipped align heads have seen its images; not cached")
    model = load_align_model()
    t0 = time.perf_counter()
    tower, kept, skipped = embed_image_files([data.paths[i] for i in rows], model.backbone)
    if skipped:
        sys.exit(f"unreadable: {skipped}")
    x = model.embed_features(tower)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE / f"{name}-align-embed-plain.npz", x=x, tower=tower, rows=rows[kept], labels=data.labels,
             groups=data.groups, classes=np.asarray(data.classes))
    print(f"{name}: {len(kept)} rows in {time.perf_counter() - t0:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["scratch", "openclipart"])
    parser.add_argument("--clean", nargs="+", default=list(CLEAN))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    configure_threads(args.threads)
    for name in args.sets:
        cache_set(name, tuple(args.clean))


if __name__ == "__main__":
    main()
