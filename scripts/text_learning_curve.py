"""Learning curves of the poetry LSTM runs (issue #32, third round): validation bits per character against the
tokens seen, a power law fitted to each, and the tokens each fit needs for a target.

Each ``LOG=TOKENS_PER_EPOCH`` is a training log of JSON lines (``scripts/train_text_models.py``'s, or any with
an epoch number in ``done``/``epoch``, ``val_bpc`` and the seconds ``t``) and the tokens one epoch reads
(steps x batch x window). The fit is ``bpc = a + b * (tokens / 1e6) ** -c`` (the saturating power law of
Hestness et al., "Deep Learning Scaling is Predictable, Empirically", arXiv:1712.00409, 2017) by least
squares; ``--endpoints`` also fits a pure power law (no floor) through the final validation figures of runs of
different lengths, each at the end of its own cosine schedule. A validation target stands for a test target
through the ratio test/validation measured on a model (``--test-ratio``).

    .venv/bin/python scripts/text_learning_curve.py .data/text-32c/final.log=204800 \\
        .data/text-issue32b/subword.log=102400 --test-target 1.8914 --test-ratio 0.8892
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy.optimize import curve_fit


def read_curve(path: Path, tokens_per_epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens seen, validation bpc and seconds after each epoch of a training log."""
    tokens, bpc, seconds = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        epoch = row.get("epoch", row.get("done") if row.get("stage") == "epoch" else None)
        if epoch is None or "val_bpc" not in row:
            continue
        tokens.append(int(epoch) * tokens_per_epoch)
        bpc.append(float(row["val_bpc"]))
        seconds.append(float(row.get("t", "nan")))
    return np.array(tokens, float), np.array(bpc), np.array(seconds)


def saturating(millions: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a + b * millions ** -c


def tokens_for(target: float, a: float, b: float, c: float) -> float:
    """Tokens at which the fitted curve reaches ``target`` (infinite below the floor ``a``)."""
    return float("inf") if target <= a else 1e6 * (b / (target - a)) ** (1 / c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", help="LOG=TOKENS_PER_EPOCH")
    parser.add_argument("--test-target", type=float, default=1.8914, help="test bpc to reach")
    parser.add_argument("--test-ratio", type=float, default=1.0, help="test bpc / validation bpc")
    parser.add_argument("--skip", type=int, default=2, help="first epochs left out of the fit (warm-up)")
    parser.add_argument("--endpoints", action="store_true")
    args = parser.parse_args()
    target = args.test_target / args.test_ratio
    ends = []
    for spec in args.logs:
        path, per_epoch = spec.rsplit("=", 1)
        tokens, bpc, seconds = read_curve(Path(path), int(per_epoch))
        ends.append((tokens[int(np.argmin(bpc))], bpc.min()))  # the best epoch: what the run kept
        fit_tokens, fit_bpc = tokens[args.skip:] / 1e6, bpc[args.skip:]
        (a, b, c), _ = curve_fit(saturating, fit_tokens, fit_bpc, p0=(2.0, 1.0, 0.5),
                                 bounds=([0.0, 0.0, 0.01], [5.0, 50.0, 3.0]), maxfev=50_000)
        rate = (tokens[-1] - tokens[0]) / (seconds[-1] - seconds[0])
        rms = float(np.sqrt(np.mean((saturating(fit_tokens, a, b, c) - fit_bpc) ** 2)))
        print(json.dumps({"log": path, "epochs": len(tokens), "tokens": int(tokens[-1]),
                          "best_val_bpc": round(float(bpc.min()), 4), "tokens_per_s": round(rate),
                          "fit": {"a": round(a, 4), "b": round(b, 4), "c": round(c, 4)},
                          "rms": round(rms, 4),
                          "val_target": round(target, 4),
                          "tokens_for_target": tokens_for(target, a, b, c)}))
    if args.endpoints and len(ends) >= 2:
        (t1, l1), (t2, l2) = sorted(ends)[:1] + sorted(ends)[-1:]
        c = np.log(l1 / l2) / np.log(t2 / t1)  # bpc = b * tokens^-c through the two end points
        need = t2 * (l2 / target) ** (1 / c)
        print(json.dumps({"endpoints": [[int(t1), round(l1, 4)], [int(t2), round(l2, 4)]],
                          "exponent": round(float(c), 4), "tokens_for_target_no_floor": float(need)}))


if __name__ == "__main__":
    main()
