"""Scale of similarity search: index build time per 1k real images, and query latency, recall@10 against
exact search and memory per vector at 10k, 100k and 1M vectors of the real dimension.

1. **Build** (``--build-images``, default 1000): real photos and pictures from ``.data/`` (Debian wallpaper
   packages, the pristine product shots, Scratch's backgrounds and costumes) as distinct sources; to reach
   the count each source also appears as a horizontal flip, a 75 % crop and a flipped crop (variants, said
   so in the output). Timed: ``SearchIndex.update`` on the folder (decode, embed with mobilenet_v2, pHash,
   SQLite, FAISS) at ``--threads`` torch and FAISS threads.
2. **Scale** (``--sizes``): synthetic vectors of the backbone's dimension drawn from a model fitted to the
   real embeddings of step 1 (never isotropic): the mean and principal components of the distinct sources,
   their eigenvalue spectrum extended as a fitted power law beyond the sample's rank; images come in
   clusters (a subject and its photos) whose spread is the measured spread of the variants around their
   source. Negative values are clipped (the real pooled features are non-negative) and rows normalised.
   The script prints how the synthetic set compares with the real one (mean cosine of random pairs and of
   nearest neighbours). The index is the one ``artlens`` picks for that size (``ann.choose_kind``, built
   with ``ann.build_index``); queries are 1000 new points of the same model searched one at a time with
   ``faiss.omp_set_num_threads(--threads)``; recall@10 is against exact inner-product search. The library
   re-scores the approximate candidates (``ann.fetch_size``) with the stored float32 vectors; both the raw
   index recall and the re-scored recall are shown.

    .venv/bin/python benchmarks/search_scale.py [--sizes 10000,100000,1000000] [--build-images 1000]
        [--threads 2] [--queries 1000] [--json out.json]

Memory: the 1M run holds the vectors (5.1 GB float32) for exact search and the IVF index (1.3 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".data"
sys.path.insert(0, str(Path(__file__).resolve().parent))

_SOURCE_GLOBS = (
    ("bench-1080x800", "*.jpg"),
    ("mate-backgrounds", "**/*.jpg"),
    ("pristine/products", "*.jpg"),
    ("pristine/products", "*.png"),
    ("scratch/usr/share/scratch/Media/Backgrounds", "**/*.jpg"),
    ("scratch/usr/share/scratch/Media/Backgrounds", "**/*.png"),
    ("scratch/usr/share/scratch/Media/Costumes", "**/*.png"),
)
_VARIANTS = ("original", "flip", "crop75", "crop75-flip")


# ----------------------------------------------------------------------------------------------------------
# 1. build time on real images
# ----------------------------------------------------------------------------------------------------------

def source_images() -> list[Path]:
    """Distinct real pictures available offline under ``.data/`` (sorted; same name and size counted once)."""
    found: dict[tuple[str, int], Path] = {}
    for folder, pattern in _SOURCE_GLOBS:
        for path in sorted((DATA / folder).glob(pattern)):
            if path.is_file():
                found.setdefault((path.stem, path.stat().st_size), path)
    return sorted(found.values())


def make_collection(target: Path, n: int, max_side: int = 1600) -> dict:
    """``n`` JPEG files: every source as is (scaled to ``max_side``), then flips and crops until ``n``."""
    sources = source_images()
    if not sources:
        raise SystemExit("no source images under .data/: run benchmarks/_photos.py first")
    target.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(_VARIANTS, 0)
    made = 0
    pixels: list[int] = []
    for variant in _VARIANTS:
        for i, src in enumerate(sources):
            if made >= n:
                break
            bgr = cv2.imread(str(src), cv2.IMREAD_COLOR)
            if bgr is None:
                continue
            scale = min(1.0, max_side / max(bgr.shape[:2]))
            if scale < 1.0:
                bgr = cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            h, w = bgr.shape[:2]
            if variant.startswith("crop75"):
                bgr = bgr[h // 8: h - h // 8, w // 8: w - w // 8]
            if variant.endswith("flip"):
                bgr = bgr[:, ::-1]
            cv2.imwrite(str(target / f"{i:04d}-{variant}.jpg"), np.ascontiguousarray(bgr),
                        [cv2.IMWRITE_JPEG_QUALITY, 90])
            counts[variant] += 1
            pixels.append(bgr.shape[0] * bgr.shape[1])
            made += 1
    mp = np.asarray(pixels) / 1e6
    return {"files": made, "distinct_sources": len(sources), "variants": counts,
            "megapixels_median": round(float(np.median(mp)), 2),
            "megapixels_mean": round(float(mp.mean()), 2)}


def time_build(n_images: int, threads: int) -> tuple[dict, np.ndarray, np.ndarray]:
    """Build an index over ``n_images`` real images; returns figures, embeddings and their source numbers."""
    from artlens.models.backbones import configure_threads, get_backbone
    from artlens.search.index import SearchIndex

    configure_threads(threads)
    faiss.omp_set_num_threads(threads)
    get_backbone("mobilenet_v2")  # loading the model is not part of the per-image cost
    with tempfile.TemporaryDirectory(prefix="artlens-search-bench-") as tmp:
        folder = Path(tmp) / "images"
        made = make_collection(folder, n_images)
        with SearchIndex.create(Path(tmp) / "index") as index:
            start = time.perf_counter()
            report = index.update([folder])
            elapsed = time.perf_counter() - start
            ids, vectors = index.all_vectors("content")
            source = np.asarray([int(Path(it.path).name[:4]) for it in index.items(ids.tolist())])
            variant = np.asarray([Path(it.path).stem[5:] for it in index.items(ids.tolist())])
    figures = {**made, "embedded": report.embedded, "errors": len(report.errors),
               "seconds": round(elapsed, 1),
               "seconds_per_1k": round(elapsed * 1000 / max(made["files"], 1), 1),
               "images_per_s": round(made["files"] / elapsed, 2), "threads": threads}
    return figures, vectors, np.stack([source, variant == "original"], axis=1)


# ----------------------------------------------------------------------------------------------------------
# 2. a generative model of embeddings fitted to the real ones
# ----------------------------------------------------------------------------------------------------------

class EmbeddingModel:
    """Clustered, anisotropic, non-negative unit vectors with the real embeddings' spectrum."""

    def __init__(self, vectors: np.ndarray, source: np.ndarray, is_original: np.ndarray,
                 seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        originals = vectors[is_original]
        self.dim = vectors.shape[1]
        self.mean = originals.mean(axis=0)
        centred = originals - self.mean
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        lam = s ** 2 / max(len(originals) - 1, 1)
        rank = int(np.sum(lam > lam[0] * 1e-6))
        lam, vt = lam[:rank], vt[:rank]
        # power-law tail beyond the sample's rank, fitted on the middle of the observed spectrum
        k = np.arange(1, rank + 1)
        lo, hi = max(2, rank // 10), max(3, rank // 2)
        slope, intercept = np.polyfit(np.log(k[lo:hi]), np.log(lam[lo:hi]), 1)
        extra = np.exp(intercept) * np.arange(rank + 1, self.dim + 1) ** slope
        rest = rng.normal(size=(self.dim, self.dim - rank))
        rest -= vt.T @ (vt @ rest)  # orthogonal to the observed components
        q, _ = np.linalg.qr(rest)
        self.basis = np.concatenate([vt, q.T[: self.dim - rank]], axis=0).astype(np.float32)
        self.scale = np.sqrt(np.concatenate([lam, extra])).astype(np.float32)
        # spread of a picture's variants around its source, relative to the spread between sources
        within = []
        for src in np.unique(source[~is_original]):
            base = vectors[(source == src) & is_original]
            if len(base):
                within.append(np.sum((vectors[(source == src) & ~is_original] - base[0]) ** 2, axis=1))
        between = 2 * float(np.sum(lam) + np.sum(extra))
        self.within_ratio = float(np.sqrt(np.mean(np.concatenate(within)) / between)) if within else 0.3
        self.spectrum_slope = float(slope)
        self.rank = rank

    def centres(self, n: int, rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal((n, self.dim), dtype=np.float32) * self.scale
        return self.mean + z @ self.basis

    def members(self, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        z = rng.standard_normal(centres.shape, dtype=np.float32) * (self.scale * self.within_ratio)
        x = np.maximum(centres + z @ self.basis, 0.0)
        return (x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def synthetic_set(model: EmbeddingModel, n: int, n_queries: int, seed: int,
                  mean_cluster: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """``n`` database vectors and ``n_queries`` query vectors (new members of the same clusters)."""
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // mean_cluster)
    centres = model.centres(n_clusters, rng)
    data = np.empty((n, model.dim), np.float32)
    step = 50_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        data[start:stop] = model.members(centres[rng.integers(0, n_clusters, stop - start)], rng)
    queries = model.members(centres[rng.integers(0, n_clusters, n_queries)], rng)
    return data, queries


def exact_top(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k inner-product ids, computed in chunks (no second copy of ``data``)."""
    best_s = np.full((len(queries), k), -np.inf, np.float32)
    best_i = np.zeros((len(queries), k), np.int64)
    step = 65_536
    for start in range(0, len(data), step):
        scores = queries @ data[start:start + step].T
        part = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
        s = np.take_along_axis(scores, part, axis=1)
        all_s = np.concatenate([best_s, s], axis=1)
        all_i = np.concatenate([best_i, part + start], axis=1)
        order = np.argsort(-all_s, axis=1)[:, :k]
        best_s = np.take_along_axis(all_s, order, axis=1)
        best_i = np.take_along_axis(all_i, order, axis=1)
    return best_i


def realism(real: np.ndarray, synth: np.ndarray, rng: np.random.Generator) -> dict:
    """Mean cosine of random pairs and of each vector's nearest neighbour (in samples of equal size)."""
    m = min(len(real), 2000)
    out = {}
    for name, x in (("real", real), ("synthetic", synth)):
        sample = x[rng.choice(len(x), m, replace=False)]
        sims = sample @ sample.T
        np.fill_diagonal(sims, -np.inf)
        iu = np.triu_indices(m, 1)
        out[name] = {"random_pair_cosine": round(float(np.mean(sims[iu])), 3),
                     "nearest_neighbour_cosine": round(float(np.mean(sims.max(axis=1))), 3)}
    return out


# ----------------------------------------------------------------------------------------------------------
# 3. query latency and recall
# ----------------------------------------------------------------------------------------------------------

def measure(data: np.ndarray, queries: np.ndarray, kind: str, k: int = 10,
            sweep: tuple[int, ...] = ()) -> list[dict]:
    """Rows of figures: the library's settings first, then each other ``nprobe`` of ``sweep`` (IVF)."""
    from artlens.search import ann

    ids = np.arange(len(data), dtype=np.int64)
    start = time.perf_counter()
    index, params = ann.build_index(data, ids, kind)
    build_s = time.perf_counter() - start
    truth = exact_top(data, queries, k)
    size = faiss.serialize_index(index).nbytes
    rows = [_queries(index, data, queries, truth, k) | {"nprobe": params.nprobe, "default": True}]
    for nprobe in sweep:
        if kind == "ivf" and nprobe != params.nprobe and nprobe <= params.nlist:
            faiss.extract_index_ivf(index).nprobe = nprobe
            rows.append(_queries(index, data, queries, truth, k) | {"nprobe": nprobe, "default": False})
    common = {"n": len(data), "dim": data.shape[1], "kind": params.kind, "nlist": params.nlist,
              "build_s": round(build_s, 1), "index_bytes_per_vector": round(size / len(data), 1),
              "stored_bytes_per_vector": 4 * data.shape[1]}
    return [common | row for row in rows]


def _queries(index: faiss.Index, data: np.ndarray, queries: np.ndarray, truth: np.ndarray, k: int) -> dict:
    from artlens.search import ann

    fetch = ann.fetch_size(index, k)
    latencies, raw_hits, rescored_hits = [], 0, 0
    index.search(queries[:10], fetch)  # warm-up
    for q, true in zip(queries, truth, strict=True):
        t0 = time.perf_counter()
        _, found = index.search(q[None], fetch)
        cand = found[0][found[0] >= 0]
        order = np.argsort(-(data[cand] @ q))[:k]  # the library's exact re-scoring of the candidates
        latencies.append(time.perf_counter() - t0)
        top = set(true.tolist())
        raw_hits += len(top & set(cand[:k].tolist()))
        rescored_hits += len(top & set(cand[order].tolist()))
    lat = np.asarray(latencies) * 1000
    return {"p50_ms": round(float(np.percentile(lat, 50)), 3),
            "p95_ms": round(float(np.percentile(lat, 95)), 3),
            "recall@10_index": round(raw_hits / (k * len(queries)), 4),
            "recall@10": round(rescored_hits / (k * len(queries)), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated collection sizes for the scale part (e.g. 10000)")
    parser.add_argument("--build-images", type=int, default=1000, help="real images for the build timing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--kind", default="auto", help="index kind at every size (auto: as the library)")
    parser.add_argument("--nprobe-sweep", default="",
                        help="comma-separated nprobe values also measured on each IVF index (e.g. 16,32,64)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    sweep = tuple(int(s) for s in args.nprobe_sweep.split(",") if s.strip())

    from artlens.search import ann

    build, vectors, labels = time_build(args.build_images, args.threads)
    print(f"build: {build['files']} images ({build['distinct_sources']} distinct sources; variants "
          f"{build['variants']}) in {build['seconds']} s at {args.threads} threads: "
          f"{build['seconds_per_1k']} s per 1k images ({build['images_per_s']} img/s)", file=sys.stderr)
    model = EmbeddingModel(vectors, labels[:, 0], labels[:, 1].astype(bool), seed=args.seed)
    faiss.omp_set_num_threads(args.threads)
    rows = []
    realism_stats = None
    for n in sizes:
        data, queries = synthetic_set(model, n, args.queries, seed=args.seed + n)
        if realism_stats is None:
            originals = vectors[labels[:, 1].astype(bool)]
            realism_stats = realism(originals, data, np.random.default_rng(args.seed))
            print(f"realism: {realism_stats}", file=sys.stderr)
        kind = ann.choose_kind(n, args.kind)
        for row in measure(data, queries, kind, sweep=sweep):
            rows.append(row)
            print(f"n={n}: {row}", file=sys.stderr)
        del data, queries

    result = {
        "schema": "artlens.bench.search-scale/1",
        "date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "threads": args.threads, "faiss": faiss.__version__,
        "backbone": "mobilenet_v2", "build": build,
        "synthetic_model": {"fitted_on": int(labels[:, 1].sum()), "rank": model.rank,
                            "tail_power_law_slope": round(model.spectrum_slope, 3),
                            "within_cluster_ratio": round(model.within_ratio, 3), "mean_cluster_size": 8,
                            "realism": realism_stats},
        "scale": rows,
    }
    print(f"\nBuild: {build['seconds_per_1k']} s per 1k images ({build['files']} files: "
          f"{build['distinct_sources']} distinct real pictures + flips/crops of them; median "
          f"{build['megapixels_median']} MP, mean {build['megapixels_mean']} MP), {args.threads} threads.\n")
    print("| vectors | index | nlist/nprobe | build s | p50 ms | p95 ms | recall@10 (index) | recall@10 "
          "(re-scored) | index B/vector |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mark = "" if r["default"] else " (sweep)"
        print(f"| {r['n']:,} | {r['kind']}{mark} | {r['nlist']}/{r['nprobe']} | {r['build_s']} | "
              f"{r['p50_ms']} | {r['p95_ms']} | {r['recall@10_index']} | {r['recall@10']} | "
              f"{r['index_bytes_per_vector']} |")
    print("\n" + json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
