"""Music on held-out Bach chorales: NLL against n-grams, speed, Yang & Lerch statistics, voice leading.

One run measures, on the test split of :mod:`artlens.music.corpus` (chorales whose group hashes to the test
bucket; never seen in training or validation):

* **NLL per token** (nats) of the LSTM (the shipped model unless ``--model``) and of interpolated Kneser-Ney
  n-grams of order 3, 4 and 5 fitted on the training split, on the same tokens; also on the voice tokens
  alone (notes, holds and rests, without the bar positions, fermatas and mode);
* **speed**: ``compose`` of 16 bars and ``harmonize`` of a 16-bar melody (the first 16 bars of a test
  chorale's soprano) with the model loaded (median of 5 seeds), and the cold commands ``artlens compose`` and
  ``artlens harmonize`` as a user runs them (median of 3), on this machine's cores;
* **Yang & Lerch (2018) statistics**: as many 16-bar compositions as test chorales (seeds 0, 1, ...; the mode
  drawn as in training), both sets in C major / A minor, intra-set against inter-set distance distributions
  per feature: overlapping area and KL divergence;
* **voice leading**: each test chorale's soprano harmonised in its own key (8 candidates, the likeliest
  kept), with the sampler's voice-leading rules and without them, against Bach's own four parts: parallel
  fifths and octaves, voice crossings and notes out of the textbook SATB ranges, per 100 beats.

Usage::

    python benchmarks/music.py                          # the recorded run (a few minutes on 2 cores)
    python benchmarks/music.py --model my-model --json out.json
    python benchmarks/music.py --quick                  # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from artlens.music import (
    KneserNey,
    compare_sets,
    compose,
    encode,
    harmonize,
    load_corpus,
    load_music_model,
    voice_leading,
    write_midi,
)
from artlens.music.tokens import VOCAB, VOCAB_SIZE

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _voice_token_nll(model, ngram, sequences) -> tuple[float, float]:
    """Mean NLL of the voice tokens only, for the LSTM and the n-gram."""
    import torch

    lstm_total = ngram_total = 0.0
    count = 0
    with torch.no_grad():
        for seq in sequences:
            logits, _ = model.net(torch.tensor([seq[:-1]]))
            logp = torch.log_softmax(logits[0].double(), dim=-1)
            for i in range(1, len(seq)):
                if VOCAB.is_note(seq[i]):
                    lstm_total -= float(logp[i - 1, seq[i]])
                    ngram_total -= float(np.log(ngram.prob(seq[max(0, i - ngram.order + 1):i], seq[i])))
                    count += 1
    return lstm_total / count, ngram_total / count


def nll_table(model, split) -> dict:
    train = [encode(p) for p in split["train"]]
    test = [encode(p) for p in split["test"]]
    total, count = model.nll(test)
    result = {"tokens": count, "lstm": total / count, "ngram": {}}
    for order in (3, 4, 5):
        ngram = KneserNey(order, VOCAB_SIZE).fit(train)
        n_total, n_count = ngram.nll(test)
        result["ngram"][order] = n_total / n_count
        if order == 4:
            result["voice_tokens"] = dict(zip(("lstm", "ngram4"), _voice_token_nll(model, ngram, test),
                                              strict=True))
    return result


def speed(model, model_arg: str | None, melody_path: Path, melody, runs: int = 5, cold_runs: int = 3) -> dict:
    compose(model, bars=2, seed=0)  # warm up
    times = []
    for seed in range(runs):
        t0 = time.perf_counter()
        compose(model, bars=16, seed=seed)
        times.append(time.perf_counter() - t0)
    harm = []
    for seed in range(runs):
        t0 = time.perf_counter()
        harmonize(melody, model, seed=seed)
        harm.append(time.perf_counter() - t0)
    artlens = [str(Path(sys.executable).with_name("artlens"))]
    which = [model_arg] if model_arg else ["chorales"]
    cold_compose, cold_harm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(cold_runs):
            t0 = time.perf_counter()
            subprocess.run([*artlens, "compose", *which, "--out", f"{tmp}/c.mid", "--bars", "16", "--seed",
                            str(seed)], check=True, stdout=subprocess.DEVNULL)
            cold_compose.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run([*artlens, "harmonize", *which, str(melody_path), "--out", f"{tmp}/h.mid",
                            "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
            cold_harm.append(time.perf_counter() - t0)
    return {"compose_16_bars_s": statistics.median(times), "harmonize_16_bars_s": statistics.median(harm),
            "cold_compose_s": statistics.median(cold_compose),
            "cold_harmonize_s": statistics.median(cold_harm)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="A model folder (default: the shipped chorale model).")
    parser.add_argument("--json", type=Path, help="Also write the figures to this JSON file.")
    parser.add_argument("--temperature", type=float, default=0.9)
    parser.add_argument("--quick", action="store_true", help="Smoke test: 4 test chorales, fewer timings.")
    parser.add_argument("--speed-only", action="store_true", help="Only the timings (on a quiet machine).")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    model = load_music_model(args.model)
    raw = load_corpus("bach")
    if args.quick:
        raw["test"] = raw["test"][:4]
    split = {k: [p.normalised()[0] for p in v] for k, v in raw.items()}
    figures: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": _cpu(),
                     "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                     "model": args.model or "shipped chorales", "test_chorales": len(split["test"]),
                     "train_chorales": len(split["train"])}
    if not args.speed_only:
        figures["nll"] = nll_table(model, split)

    first = raw["test"][0].voices_subset([0])
    sixteen = 16 * first.bar + first.pickup
    melody = type(first)(first.pitch[:, :sixteen], first.onset[:, :sixteen], first.fermata[:sixteen],
                         first.meter, first.pickup, first.key, first.tempo, first.title, first.parts[:1])
    with tempfile.TemporaryDirectory() as tmp:
        path = write_midi(melody, Path(tmp) / "melody.mid")
        figures["speed"] = speed(model, args.model, path, melody, runs=2 if args.quick else 5,
                                 cold_runs=1 if args.quick else 3)
    figures["load_average"] = os.getloadavg()
    if args.speed_only:
        print(json.dumps(figures, indent=2))
        return

    made = [compose(model, bars=16, seed=s, temperature=args.temperature) for s in range(len(split["test"]))]
    made = [p.normalised()[0] for p in made]
    figures["yang_lerch"] = compare_sets(split["test"], made)

    harmonised = {rules: [harmonize(p.voices_subset([0]), model, key=p.key, seed=i, rules=rules)
                          for i, p in enumerate(raw["test"])] for rules in (True, False)}
    figures["voice_leading"] = {"bach": voice_leading(raw["test"]),
                                "model (rules)": voice_leading(harmonised[True]),
                                "model (no rules)": voice_leading(harmonised[False])}
    print_tables(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


def print_tables(f: dict) -> None:
    n = f["nll"]
    print(f"\n{f['date']}, {f['machine']}, {f['cores']} cores, torch threads {f['torch_threads']}; "
          f"model: {f['model']}; {f['train_chorales']} training, {f['test_chorales']} test chorales\n")
    print("| model | NLL / token (all, nats) | NLL / voice token |")
    print("|---|---:|---:|")
    print(f"| LSTM | {n['lstm']:.3f} | {n['voice_tokens']['lstm']:.3f} |")
    for order, value in n["ngram"].items():
        voice = f"{n['voice_tokens']['ngram4']:.3f}" if str(order) == "4" else "—"
        print(f"| {order}-gram Kneser-Ney | {value:.3f} | {voice} |")
    gap = 1 - n["lstm"] / n["ngram"][4]
    print(f"\nLSTM {100 * gap:.1f} % below the 4-gram ({n['tokens']} test tokens)\n")
    s = f["speed"]
    print("| task | loaded model (s) | cold command (s) |")
    print("|---|---:|---:|")
    print(f"| compose 16 bars | {s['compose_16_bars_s']:.2f} | {s['cold_compose_s']:.2f} |")
    print(f"| harmonize 16 bars | {s['harmonize_16_bars_s']:.2f} | {s['cold_harmonize_s']:.2f} |\n")
    y = f["yang_lerch"]
    print("| feature | intra-set mean | inter-set mean | overlapping area | KL |")
    print("|---|---:|---:|---:|---:|")
    for name, v in y["features"].items():
        print(f"| {name} | {v['intra_mean']:.4f} | {v['inter_mean']:.4f} | {v['overlap']:.3f} | "
              f"{v['kl']:.3f} |")
    print(f"| **mean** | | | **{y['mean_overlap']:.3f}** | {y['mean_kl']:.3f} |\n")
    v = f["voice_leading"]
    print("| per 100 beats | parallel fifths | parallel octaves | both | crossings | out of range | beats |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in v.items():
        print(f"| {name} | {r['parallel_fifths']:.2f} | {r['parallel_octaves']:.2f} | {r['parallels']:.2f} | "
              f"{r['crossings']:.2f} | {r['range_violations']:.2f} | {r['beats']:.0f} |")


if __name__ == "__main__":
    main()
