"""Train the two starts of the poetry char-LSTM on one budget (issue #32): from scratch and from textgenrnn.

    nice -n 5 .venv/bin/python scripts/train_text_models.py --init scratch --out .data/text-issue32/scratch

Both use the same settings (textgenrnn's sizes, the same step budget, one thread each so the two can run side
by side on a 2-core machine); benchmarks/text.py then measures them on the held-out test split, and the better
one is copied into src/artlens/text/models/poetry.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, replace

import torch

from artlens.text import TextTrainSettings, train_text
from artlens.training import ProgressEvent

#: the budget both starts get (30 epochs of 80 batches of 32 windows of 128 characters: 9.8 M characters)
BUDGET = {"epochs": 30, "steps": 80, "batch_size": 32, "window": 128, "val_chars": 50_000, "patience": 30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", choices=("scratch", "textgenrnn"), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = replace(TextTrainSettings(), init=args.init, **BUDGET)
    started, load = time.time(), os.getloadavg()

    def show(event: ProgressEvent) -> None:
        if event.done % 10 == 0 or event.stage == "epoch":
            print(json.dumps({"t": round(time.time() - started, 1), "stage": event.stage, "done": event.done,
                              "total": event.total, **dict(event.metrics)}, default=str), flush=True)

    result = train_text("poetry", args.out, settings=settings, resume=args.resume, progress=show)
    print(json.dumps({"init": args.init, "val_bpc": result.val_bpc, "best_epoch": result.best_epoch,
                      "seconds": round(time.time() - started, 1), "load_start": load,
                      "load_end": os.getloadavg(), "threads": args.threads, "settings": asdict(settings),
                      "history": result.history}), flush=True)


if __name__ == "__main__":
    main()
