"""Literature on held-out poetry: bits per character against a 5-gram, SmolLM2, diversity, copying, speed.

One run measures, on the test split of the Gutenberg Poetry Corpus (:func:`artlens.text.corpus.split_lines`:
blocks of 200 lines hashed to the test bucket, never seen in training or validation):

* **bits per character** of each LSTM given (``--model NAME=FOLDER``: by default the shipped poetry model;
  character or subword models) and of the anchor, an interpolated Kneser-Ney 5-gram character model with
  back-off to lower orders (:class:`artlens.music.KneserNey`) over the alphabet a character model of the
  corpus keeps (the 160 most frequent characters of the first 40 M training characters, the rest one
  "unknown" symbol), fitted on the first ``--ngram-chars`` training characters. Every model is scored on
  exactly the same characters: all of the test text, the first one predicted after a line break, the total
  bits divided by the number of characters (for a subword model, the bits of the text's tokens: its
  byte-level BPE covers every character, checked by decoding);
* **SmolLM2-135M-Instruct** on the same text: perplexity per token and bits per character;
* **diversity and copying**: ``--samples`` poems from each LSTM (seeds 0, 1, ...) and from SmolLM2 (one
  subject per seed): distinct-1/2 (Li et al. 2016) and the longest word span copied verbatim from the
  training text the LSTMs read, with the share of texts holding a 12-word or longer copy;
* **speed** of SmolLM2 on this machine's threads (``--threads``): new tokens per second of wall time, one
  prompt (the median of 3) and a batch of 4, and per second of the process's CPU time (on a shared machine
  the wall-clock rate depends on the load; the CPU-time rate says what the cores the run got delivered).

Usage::

    nice -n 5 python benchmarks/text.py --json out.json         # the recorded run
    python benchmarks/text.py --quick                            # smoke test
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from artlens.music import KneserNey
from artlens.text import (
    COPY_WORDS,
    CharTokens,
    CopyIndex,
    distinct_n,
    load_prompted,
    load_split,
    load_text_model,
    sample_text,
)
from artlens.text.tokens import char_vocabulary

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = ["autumn in the harbour", "a red apple on a white plate", "the night train", "an old oak tree",
            "a city in the rain", "the first snow", "a lighthouse", "a garden at dawn", "a cat asleep",
            "the sea at noon", "a mountain village", "a letter never sent"]


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def lstm_figures(name: str, folder: str, test: str, train_index: CopyIndex, samples: int,
                 ppl_chars: int) -> dict:
    model = load_text_model(folder)
    started = time.perf_counter()
    bpc = model.bits_per_char(test)
    bpc_head = model.bits_per_char(test[:ppl_chars])
    texts = [sample_text(model, prime="\n", lines=8, temperature=0.8, seed=s)[0] for s in range(samples)]
    copies = [train_index.check(t) for t in texts]
    training = model.config.training
    settings = training.get("settings", {})
    tokens_read = settings.get("epochs", 0) * settings.get("steps", 0) * settings.get("batch_size", 0) * \
        settings.get("window", 0)
    return {"name": name, "bpc": round(bpc, 4), f"bpc_first_{ppl_chars}": round(bpc_head, 4),
            "init": model.config.init, "tokens": model.config.tokens, "vocab": model.config.vocab_size,
            "parameters": sum(p.numel() for p in model.net.parameters()),
            "weights_bytes": sum(f.stat().st_size for f in Path(model.path or folder).iterdir()
                                 if f.name != "checkpoint.pt"),
            "tokens_read": tokens_read, "chars_per_token": round(len(test) / len(model.encode(test)), 4),
            "val_bpc": training.get("val_bpc"),
            "seconds": round(time.perf_counter() - started, 1),
            "distinct_1": round(distinct_n(texts, 1), 4), "distinct_2": round(distinct_n(texts, 2), 4),
            "longest_copy": max(c.longest for c in copies),
            "copied_share": sum(c.copied for c in copies) / len(copies), "examples": texts[:3]}


def smollm2_speed(lm, prompts: list[str]) -> dict:
    """New tokens per second of SmolLM2: one prompt (median of 3) and a batch of 4 (64 new tokens each, KV
    cache, sampling), and per second of the process's CPU time (all its threads)."""
    one, per_cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        out = lm.model.generate(**lm.tokenizer([prompts[0]], return_tensors="pt"), max_new_tokens=64,
                                min_new_tokens=64, do_sample=True, temperature=0.7, use_cache=True,
                                pad_token_id=lm.tokenizer.pad_token_id)
        new = out.shape[1] - len(lm.tokenizer(prompts[0])["input_ids"])
        one.append(new / (time.perf_counter() - t0))
        per_cpu.append(new / (time.process_time() - c0))
    lm.tokenizer.padding_side = "left"
    batch = lm.tokenizer(prompts[:4], return_tensors="pt", padding=True)
    t0 = time.perf_counter()
    out = lm.model.generate(**batch, max_new_tokens=64, min_new_tokens=64, do_sample=True, temperature=0.7,
                            use_cache=True, pad_token_id=lm.tokenizer.pad_token_id)
    batch_rate = 4 * (out.shape[1] - batch["input_ids"].shape[1]) / (time.perf_counter() - t0)
    return {"tokens_per_s_one": round(statistics.median(one), 2), "tokens_per_s_batch4": round(batch_rate, 2),
            "tokens_per_cpu_s_one": round(statistics.median(per_cpu), 2), "load_speed": _load()}


def smollm2_figures(test: str, train_index: CopyIndex, samples: int, ppl_chars: int) -> dict:
    started = time.perf_counter()
    lm = load_prompted(allow_download=False)
    load_s = time.perf_counter() - started
    ppl, bpc, tokens = lm.perplexity(test[:ppl_chars])
    prompts = [lm.chat_prompt(f"Write a short poem of 8 lines about {SUBJECTS[s % len(SUBJECTS)]}.")
               for s in range(samples)]
    texts = []
    for s, prompt in enumerate(prompts):
        texts.extend(lm.generate([prompt], max_new_tokens=120, temperature=0.7, seed=s))
    copies = [train_index.check(t) for t in texts]
    speed = smollm2_speed(lm, prompts)
    return {"name": "SmolLM2-135M-Instruct (Q4_1 GGUF, float32 in transformers)", "load_s": round(load_s, 1),
            "perplexity": round(ppl, 3), "bpc": round(bpc, 4), "ppl_tokens": tokens, "ppl_chars": ppl_chars,
            "distinct_1": round(distinct_n(texts, 1), 4), "distinct_2": round(distinct_n(texts, 2), 4),
            "longest_copy": max(c.longest for c in copies),
            "copied_share": sum(c.copied for c in copies) / len(copies),
            **speed, "examples": texts[:3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=None, help="NAME=FOLDER of a char-LSTM (repeat)")
    parser.add_argument("--test-chars", type=int, default=100_000)
    parser.add_argument("--ngram-chars", type=int, default=9_830_400,
                        help="training characters of the 5-gram")
    parser.add_argument("--copy-chars", type=int, default=40_000_000,
                        help="training text the copy check reads")
    parser.add_argument("--ppl-chars", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-smollm2", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--speed-only", action="store_true",
                        help="only SmolLM2's speed (tokens/s), e.g. on idle cores")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.test_chars, args.ngram_chars, args.copy_chars, args.ppl_chars, args.samples = (
            5000, 200_000, 500_000, 2000, 2)
    torch.set_num_threads(args.threads)
    if args.speed_only:
        lm = load_prompted(allow_download=False)
        prompts = [lm.chat_prompt(f"Write a short poem of 8 lines about {SUBJECTS[s % len(SUBJECTS)]}.")
                   for s in range(4)]
        speed = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "threads": args.threads,
                 "load_start": _load(), **smollm2_speed(lm, prompts)}
        print(json.dumps(speed))
        return
    models = dict(m.split("=", 1) for m in args.model) if args.model else {"shipped poetry LSTM": "poetry"}
    started, load_start = time.time(), _load()
    split = load_split("poetry")
    test = split.test[:args.test_chars]
    result: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "threads": args.threads,
                    "load_start": load_start, "test_chars": len(test), "args": vars(args) | {"json": None}}

    chars = CharTokens(char_vocabulary(split.train[:40_000_000], 160))
    t0 = time.perf_counter()
    ngram = KneserNey(5, chars.vocab_size).fit([chars.encode(split.train[:args.ngram_chars])])
    # "\n" + test: the first test character is predicted after a line break, as the LSTMs predict it
    nll, count = ngram.nll([chars.encode("\n" + test)])
    head, head_count = ngram.nll([chars.encode("\n" + test[:args.ppl_chars])])
    assert count == len(test) and head_count == len(test[:args.ppl_chars])
    result["ngram"] = {"name": "5-gram Kneser-Ney, characters", "train_chars": args.ngram_chars,
                       "bpc": round(nll / count / math.log(2), 4),
                       f"bpc_first_{args.ppl_chars}": round(head / head_count / math.log(2), 4),
                       "seconds": round(time.perf_counter() - t0, 1)}
    print(json.dumps(result["ngram"]), flush=True)

    index = CopyIndex(split.train[:args.copy_chars].split("\n"), n=6)
    result["copy_index_chars"] = args.copy_chars
    result["lstm"] = []
    for name, folder in models.items():
        figures = lstm_figures(name, folder, test, index, args.samples, args.ppl_chars)
        figures["vs_ngram"] = round(1 - figures["bpc"] / result["ngram"]["bpc"], 4)
        result["lstm"].append(figures)
        print(json.dumps({k: v for k, v in figures.items() if k != "examples"}), flush=True)
    if not args.no_smollm2:
        result["smollm2"] = smollm2_figures(test, index, max(2, args.samples // 2), args.ppl_chars)
        print(json.dumps({k: v for k, v in result["smollm2"].items() if k != "examples"}), flush=True)
    result["copy_threshold_words"] = COPY_WORDS
    result["seconds"] = round(time.time() - started, 1)
    result["load_end"] = _load()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({"load_start": result["load_start"], "load_end": result["load_end"],
                      "seconds": result["seconds"]}))


if __name__ == "__main__":
    main()
