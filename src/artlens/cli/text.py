"""The text commands: ``train text`` and ``write poem|story|caption|label``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from artlens.cli._app import JsonOpt, QuietOpt, app, progress_bar, stage_reporter, train_app
from artlens.cli.output import err, is_terminal, print_json, print_table


@app.command("write")
def write_command(
    kind: Annotated[str, typer.Argument(help="What to write: poem, story, caption (for a shop) or label "
                                        "(for a gallery).")],
    about: Annotated[str | None, typer.Option(help="What the text is about, e.g. 'autumn in the "
                                              "harbour'.")] = None,
    image: Annotated[Path | None, typer.Option(help="Write about this picture (what artlens sees in it: "
                                               "labels and palette).")] = None,
    style: Annotated[str | None, typer.Option(help="Write with an LSTM from 'artlens train text' (a "
                                              "folder), or 'poetry' for the shipped one; without it, the "
                                              "prompted model SmolLM2-135M-Instruct writes.")] = None,
    lines: Annotated[int | None, typer.Option(min=1, max=60, help="Lines (poem) or sentences (story).")
                     ] = None,
    seed: Annotated[int, typer.Option(help="The same seed gives the same text.")] = 0,
    temperature: Annotated[float, typer.Option(min=0.05, max=3.0, help="Below 1: safer words; above 1: "
                                               "bolder.")] = 0.7,
    max_tokens: Annotated[int, typer.Option(min=8, max=1024, help="Most tokens the prompted model "
                                            "writes.")] = 220,
    as_json: JsonOpt = False,
) -> None:
    """Write a poem, a short story, a product caption or a gallery label, offline."""
    from artlens.text import WriteRequest, write, write_stream

    request = WriteRequest(kind=kind, about=about, style=style, lines=lines, seed=seed,
                           temperature=temperature, max_new_tokens=max_tokens).check()
    picture = None
    if image is not None:
        from artlens.imageio import load_image

        picture = load_image(image).rgb
    if as_json:
        print_json(write(request, picture))
        return
    if is_terminal():  # a person watches: show the words as they come
        record = None
        for piece in write_stream(request, picture):
            if isinstance(piece, dict):
                record = piece
            else:
                sys.stdout.write(piece)
                sys.stdout.flush()
        sys.stdout.write("\n")
        if record and record.get("grounding"):
            err.print(f"grounded in: {record['grounding']['description']}", highlight=False, markup=False)
        return
    record = write(request, picture)
    sys.stdout.write(record["text"] + "\n")


@train_app.command("text")
def train_text_command(
    corpus: Annotated[str, typer.Argument(help="A text file or folder of .txt/.md files, or 'poetry' for "
                                          "the Gutenberg Poetry Corpus.")] = "poetry",
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path("text-model"),
    recipe: Annotated[str, typer.Option(help="Starting settings: 'char' (a character LSTM of textgenrnn's "
                                        "sizes) or 'poetry' (the shipped subword model's recipe); the "
                                        "options below change them.")] = "char",
    init: Annotated[str | None, typer.Option(help="scratch, or textgenrnn (start from its pretrained "
                                             "char-LSTM; characters only).")] = None,
    tokens: Annotated[str | None, typer.Option(help="char, or bpe (byte-level BPE subwords learnt on the "
                                               "training split).")] = None,
    vocab: Annotated[int | None, typer.Option(min=257, max=32000, help="Subword vocabulary size (bpe).")
                     ] = None,
    embed: Annotated[int | None, typer.Option(min=1, help="Embedding width.")] = None,
    hidden: Annotated[int | None, typer.Option(min=1, help="LSTM units per layer.")] = None,
    layers: Annotated[int | None, typer.Option(min=1, help="LSTM layers.")] = None,
    dropout: Annotated[float | None, typer.Option(min=0.0, max=0.95)] = None,
    tie: Annotated[bool | None, typer.Option("--tie/--no-tie", help="Share the embedding with the "
                                             "read-out.")] = None,
    carry: Annotated[bool | None, typer.Option("--carry/--no-carry", help="Carry the LSTM state from one "
                                               "window to the next (truncated BPTT).")] = None,
    float16: Annotated[bool | None, typer.Option("--float16/--float32", help="Stored precision of the "
                                                 "weights.")] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="Most epochs (the cosine schedule spans them).")
                      ] = None,
    steps: Annotated[int | None, typer.Option(min=1, help="Batches per epoch.")] = None,
    batch_size: Annotated[int | None, typer.Option(min=1)] = None,
    window: Annotated[int | None, typer.Option(min=8, help="Tokens per training window.")] = None,
    lr: Annotated[float | None, typer.Option(min=0.0)] = None,
    patience: Annotated[int | None, typer.Option(min=0, help="Epochs without a better validation bpc "
                                                 "before stopping (0: never).")] = None,
    seed: Annotated[int | None, typer.Option(help="Seeds the initialisation and the windows.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run from its checkpoint "
                                         "in --out.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train an LSTM text model on a corpus, over characters or subwords (validation bits per character,
    early stopping, resume)."""
    from dataclasses import replace

    from artlens.errors import ConfigError
    from artlens.text import RECIPES, train_text

    if recipe not in RECIPES:
        raise ConfigError(f"recipe must be one of {', '.join(RECIPES)}, not {recipe!r}")
    given = {"init": init, "tokens": tokens, "vocab": vocab, "embed": embed, "hidden": hidden,
             "layers": layers, "dropout": dropout, "tie": tie, "carry": carry, "float16": float16,
             "epochs": epochs, "steps": steps, "batch_size": batch_size, "window": window, "lr": lr,
             "patience": patience, "seed": seed}
    settings = replace(RECIPES[recipe], **{k: v for k, v in given.items() if v is not None}).check()

    def bad_file(exc: Exception) -> None:
        err.print(f"skipped {exc}", highlight=False, markup=False)

    with progress_bar(quiet, "training") as bar:
        result = train_text(corpus, out, settings=settings, resume=resume, on_error=bad_file,
                            progress=stage_reporter(bar))
    summary = {"model": str(result.folder), "chars": result.chars, "best_epoch": result.best_epoch,
               "val_bpc": result.val_bpc, "epochs": len([h for h in result.history if h["epoch"] > 0])}
    if as_json:
        print_json(summary)
        return
    print_table(("", ""), [("model", str(result.folder)),
                           ("validation bpc", f"{result.val_bpc:.3f} bits/char"),
                           ("best epoch", str(result.best_epoch)),
                           ("characters", ", ".join(f"{k} {v}" for k, v in result.chars.items()))],
                show_header=False)
