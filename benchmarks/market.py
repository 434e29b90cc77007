"""Art market models on simulated sales with a known truth (docs/benchmarks.md, "Art market").

For each seed: simulate sales whose value depends on real pictures (artlens.market.simulate), fit the hedonic
ridge, boosting and boosting with image features (PCA of MobileNetV2 embeddings) with rolling-origin
validation, and score the latest period: R^2 on log price, MdAPE and 80 % interval coverage, beside the
mean-price baseline measured in the same run. The hedonic time-dummy and repeat-sales indices are compared
with the planted index (RMSE of the log index, both 0 in the first year).

    nice -n 5 .venv/bin/python benchmarks/market.py --seeds 0 1 2 --works 4000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")

OUT = Path(__file__).resolve().parents[1] / ".data" / "market-bench"


def _embeddings(paths: list[str]) -> dict[str, np.ndarray]:
    """Embeddings of the pictures, cached in .data/market-bench/ (keyed by path)."""
    import torch

    from artlens.market import embed_images

    torch.set_num_threads(2)
    cache = OUT / "embeddings-content-style.npz"
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as npz:
            known = dict(zip(npz["paths"].tolist(), npz["vectors"], strict=True))
    missing = sorted(set(paths) - set(known))
    if missing:
        known.update(embed_images(missing))
        names = sorted(known)
        np.savez(cache, paths=np.array(names), vectors=np.stack([known[n] for n in names]))
    return {p: known[p] for p in paths if p in known}


def run(seed: int, works: int, artists: int, years: int, pool: int) -> dict[str, object]:
    from artlens.market import (
        FitSettings,
        SimulationSettings,
        default_image_pool,
        fit_market,
        hedonic_index,
        load_medium_table,
        prepare,
        repeat_sales_index,
        simulate_sales,
    )

    started = time.time()
    pictures = default_image_pool(None, pool, seed)
    sim = simulate_sales(SimulationSettings(works=works, artists=artists, years=years, seed=seed), pictures)
    prepared = prepare(sim.sales, rates=sim.rates, medium_category=load_medium_table().categories)
    embeddings = _embeddings(sorted({str(p) for p in pictures}))
    model = fit_market(prepared, embeddings, FitSettings(origins=3, level=0.8, seed=seed))
    truth = np.array(sim.truth["log_index"])
    hedonic = hedonic_index(prepared)
    repeat = repeat_sales_index(prepared, hedonic.periods)
    rs = repeat.log_index if repeat is not None else np.full(len(truth), np.nan)
    return {
        "seed": seed,
        "sales": len(prepared),
        "pictures": len(pictures),
        "latest": model.report["latest"],
        "summary": model.report["summary"],
        "hedonic_rmse": float(np.sqrt(np.mean((hedonic.log_index - truth) ** 2))),
        "repeat_rmse": float(np.sqrt(np.nanmean((rs - truth) ** 2))),
        "repeat_pairs": repeat.observations if repeat is not None else 0,
        "bought_in": int((~prepared.sold).sum()),
        "seconds": round(time.time() - started, 1),
    }


def fmt(xs: list[float | None], pct: bool) -> str:
    """Figures of the seeds side by side."""
    return " / ".join("" if x is None else (f"{100 * x:.1f} %" if pct else f"{x:.3f}") for x in xs)


def table(results: list[dict[str, object]]) -> str:
    kinds = ["mean price", "hedonic", "boosting", "boosting+image"]
    lines = [
        "| model | R² log price (latest year) | MdAPE (latest year) | 80 % interval coverage (latest year) "
        "| coverage, mean of 3 origins |",
        "|---|---|---|---|---|",
    ]
    for kind in kinds:
        r2 = [r["latest"]["models"][kind]["r2"] for r in results]
        md = [r["latest"]["models"][kind]["mdape"] for r in results]
        cov = [r["latest"]["models"][kind]["coverage"] for r in results]
        cov_all = [r["summary"][kind]["coverage"] for r in results]
        lines.append(
            f"| {kind} | {fmt(r2, False)} | {fmt(md, True)} | {fmt(cov, True)} | {fmt(cov_all, True)} |"
        )
    lines.append("")
    lines.append(
        "| seed | sales | bought in | repeat pairs | hedonic index log RMSE | repeat-sales log RMSE "
        "| boosting+image MdAPE vs hedonic | bought-in lots valued above reserve (hedonic / boosting+image) "
        "| seconds |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        m = r["latest"]["models"]
        gain = 1 - m["boosting+image"]["mdape"] / m["hedonic"]["mdape"]
        lines.append(
            f"| {r['seed']} | {r['sales']} | {r['bought_in']} | {r['repeat_pairs']} | "
            f"{r['hedonic_rmse']:.3f} | {r['repeat_rmse']:.3f} | {100 * gain:.1f} % lower | "
            f"{100 * m['hedonic']['bought_in_above_reserve']:.1f} % / "
            f"{100 * m['boosting+image']['bought_in_above_reserve']:.1f} % | {r['seconds']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--works", type=int, default=4000)
    parser.add_argument("--artists", type=int, default=60)
    parser.add_argument("--years", type=int, default=12)
    parser.add_argument("--pool", type=int, default=300)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    results = []
    for seed in args.seeds:
        results.append(run(seed, args.works, args.artists, args.years, args.pool))
        print(json.dumps(results[-1]["latest"]["models"]), flush=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load at start: {load}")
    print(f"load at end: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(table(results))


if __name__ == "__main__":
    main()
