"""Does the quality score order images by quality? Held-out photos, distortion code training never used.

Photos: the ``heldout`` rows of ``.data/pristine/manifest.csv`` (``scripts/prepare_pristine.py``; the
shipped model was trained on the ``train`` rows only), downscaled to a longest side of 768 px.
Distortions: ImageNet-C corruptions (Hendrycks & Dietterich 2019) from the ``imagecorruptions-imaug``
package (Apache-2.0) at severities 1-5 -- independent code, not artlens's own distortions. Install it for
the benchmark only, without its dependencies (it would pull a second OpenCV):
``.venv/bin/pip install --no-deps imagecorruptions-imaug==1.1.5 numba llvmlite``.

For every method (the learned score, BRISQUE, NIQE, the hand-made combination of
``artlens.screening.scoring``)
it reports, in one run on the same images:

* mean per-(image, corruption) Spearman correlation between the score and quality order
  (clean, severity 1, ..., severity 5: six images, a perfect score ranks them in that order);
* pooled Spearman: every image of every photo and corruption in one ranking against severity (0-5), which
  also needs scores to be comparable across contents.

``ssim_fr`` is not a competitor: it is SSIM against the clean photo, which the no-reference methods never
see. Its pooled figure shows how far ImageNet-C's severity levels are comparable across corruptions at all.

    .venv/bin/python benchmarks/quality_accuracy.py [--model DIR] [--source NAME ...] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from scipy.stats import spearmanr

from artlens.imageio import load_image
from artlens.iqa.default import load_quality_model
from artlens.screening import metrics, technical
from artlens.screening.brisque import brisque
from artlens.screening.niqe import niqe
from artlens.screening.scoring import iqa_subscores, overall_quality

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / ".data/pristine/manifest.csv"
CORRUPTIONS = ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise", "defocus_blur",
               "motion_blur", "zoom_blur", "gaussian_blur", "contrast", "brightness", "fog", "pixelate",
               "jpeg_compression")
SIDE = 768


def manifest_rows(split: str) -> list[dict[str, str]]:
    """The rows of one split (``train`` or ``heldout``) of the pristine manifest, or exit if there is none."""
    if not MANIFEST.is_file():
        sys.exit(f"{MANIFEST} not found: run scripts/prepare_pristine.py first")
    with MANIFEST.open(newline="") as handle:
        return [r for r in csv.DictReader(handle) if r["split"] == split]


def held_out_photos(sources: Sequence[str] = ()) -> list[Path]:
    """The held-out photos of the manifest, of the given sources only when any are named."""
    rows = manifest_rows("heldout")
    unknown = set(sources) - {r["source"] for r in rows}
    if unknown:
        sys.exit(f"no held-out photos from {', '.join(sorted(unknown))} in {MANIFEST}")
    return [Path(r["path"]) for r in rows if not sources or r["source"] in sources]


def corruptor() -> Callable[..., np.ndarray]:
    """``imagecorruptions.corrupt``, or exit with the command that installs it."""
    try:
        from imagecorruptions import corrupt
    except ImportError:
        sys.exit("needs imagecorruptions-imaug: "
                 ".venv/bin/pip install --no-deps imagecorruptions-imaug==1.1.5 numba llvmlite")
    return corrupt


def severity_series(clean: np.ndarray, corruption: str, corrupt: Callable[..., np.ndarray]
                    ) -> list[np.ndarray]:
    """The clean photo and its ImageNet-C ``corruption`` at severities 1-5, as uint8 RGB."""
    return [clean] + [np.ascontiguousarray(corrupt(clean, corruption_name=corruption, severity=s)
                                           .astype(np.uint8)) for s in range(1, 6)]


def reference_ssim(clean: np.ndarray, image: np.ndarray) -> float:
    """SSIM (Wang et al. 2004) of the grey image against the clean photo: a full-reference yardstick."""
    from skimage.metrics import structural_similarity

    grey = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in (clean, image)]
    return float(structural_similarity(grey[0], grey[1], data_range=255))


def handmade(rgb: np.ndarray, brisque_value: float, niqe_value: float) -> float:
    raw = technical.compute_all(rgb)
    raw.update(brisque=brisque_value, niqe=niqe_value)
    return overall_quality({**technical.subscores(raw), **iqa_subscores(raw)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="quality model folder (default: the shipped model)")
    parser.add_argument("--source", action="append", default=[],
                        help="only the held-out photos of this manifest source (repeatable)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    corrupt = corruptor()
    np.random.seed(0)  # imagecorruptions draws its noise from NumPy's global generator
    model = load_quality_model(args.model)
    photos = held_out_photos(args.source)
    methods = ("learned", "brisque", "niqe", "handmade", "ssim_fr")
    per_pair: dict[str, list[float]] = {m: [] for m in methods}
    pooled: dict[str, list[float]] = {m: [] for m in methods}
    levels: list[int] = []
    start = time.perf_counter()
    for n, path in enumerate(photos, 1):
        clean = metrics.working_image(load_image(path).rgb, SIDE)
        for corruption in CORRUPTIONS:
            images = severity_series(clean, corruption, corrupt)
            scores: dict[str, np.ndarray] = {"learned": model.score(images)}
            b = np.array([brisque(im) for im in images])
            q = np.array([niqe(im) for im in images])
            scores["brisque"], scores["niqe"] = -b, -q  # lower is better for both
            scores["handmade"] = np.array([handmade(im, bv, qv)
                                           for im, bv, qv in zip(images, b, q, strict=True)])
            scores["ssim_fr"] = np.array([reference_ssim(clean, im) for im in images])
            for m in methods:
                rho = spearmanr(scores[m], -np.arange(6))[0]
                per_pair[m].append(0.0 if np.isnan(rho) else float(rho))
                pooled[m].extend(scores[m].tolist())
            levels.extend(range(6))
        print(f"{n}/{len(photos)} {path.name} ({time.perf_counter() - start:.0f} s)", flush=True)

    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "photos": len(photos),
                                  "sources": args.source or "all",
                                  "corruptions": list(CORRUPTIONS), "side": SIDE, "methods": {}}
    print(f"\n{len(photos)} held-out photos x {len(CORRUPTIONS)} ImageNet-C corruptions x 5 severities")
    print(f"{'method':>10}  mean per-image SRCC  pooled SRCC")
    for m in methods:
        mean_rho = float(np.mean(per_pair[m]))
        pooled_rho = float(spearmanr(pooled[m], -np.asarray(levels))[0])
        per_corruption = {c: round(float(np.mean(per_pair[m][i::len(CORRUPTIONS)])), 3)
                          for i, c in enumerate(CORRUPTIONS)}
        results["methods"][m] = {"mean_srcc": round(mean_rho, 3), "pooled_srcc": round(pooled_rho, 3),
                                 "per_corruption_srcc": per_corruption}
        print(f"{m:>10}  {mean_rho:19.3f}  {pooled_rho:11.3f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
