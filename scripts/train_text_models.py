"""Train the poetry LSTM text models of issue #32 on a fixed budget: the shipped subword model, and the two
character-model starts of the first round (from scratch and from textgenrnn).

    taskset -c 1 nice -n 5 .venv/bin/python scripts/train_text_models.py --recipe subword --threads 1 \
        --out .data/text-32c/final      # the shipped model (models/poetry)

``subword``: byte-level BPE of 2,048 tokens learnt on the first 20 M training characters, a 128-d tied
embedding, one 256-unit LSTM with its state carried across windows, 100 x 100 batches of 32 x 64 tokens
(20.5 M tokens, about 58 M characters, drawn from the first 60 M; early stopping ended the shipped run at
epoch 88, its best epoch 68), float16 weights (issue #32's third round).
``subword-round2``: the same network on the second round's budget (40 x 50 batches from the first 20 M
characters, 4.1 M tokens), the model shipped before. ``scratch`` and ``textgenrnn``: the first round's
character models (textgenrnn's sizes, 30 x 80 batches of 32 x 128 characters; one thread each so the two can
run side by side). benchmarks/text.py measures them on the held-out test split; the shipped model's two or
three files are copied into src/artlens/text/models/poetry and their SHA-256 pinned in artlens.text.model.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, replace

import torch

from artlens.text import POETRY_RECIPE, TextTrainSettings, train_text
from artlens.training import ProgressEvent

#: the first round's budget of both character starts (9.8 M characters)
CHAR_BUDGET = {"epochs": 30, "steps": 80, "batch_size": 32, "window": 128, "val_chars": 50_000,
               "patience": 30}
RECIPES = {
    "subword": asdict(POETRY_RECIPE),  # the shipped model (artlens train text --recipe poetry)
    "subword-round2": asdict(replace(POETRY_RECIPE, epochs=40, steps=50, max_chars=20_000_000)),
    "scratch": {"init": "scratch", **CHAR_BUDGET},
    "textgenrnn": {"init": "textgenrnn", **CHAR_BUDGET},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", "--init", dest="recipe", choices=sorted(RECIPES), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = replace(TextTrainSettings(), **RECIPES[args.recipe])
    started, load = time.time(), os.getloadavg()

    def show(event: ProgressEvent) -> None:
        if event.done % 10 == 0 or event.stage == "epoch":
            print(json.dumps({"t": round(time.time() - started, 1), "stage": event.stage, "done": event.done,
                              "total": event.total, "load": os.getloadavg()[0], **dict(event.metrics)},
                             default=str), flush=True)

    result = train_text("poetry", args.out, settings=settings, resume=args.resume, progress=show)
    print(json.dumps({"recipe": args.recipe, "val_bpc": result.val_bpc, "best_epoch": result.best_epoch,
                      "seconds": round(time.time() - started, 1), "load_start": load,
                      "load_end": os.getloadavg(), "threads": args.threads, "settings": asdict(settings),
                      "history": result.history}), flush=True)


if __name__ == "__main__":
    main()
