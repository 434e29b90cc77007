"""Commands of content understanding: train align, tag, describe (zero-shot classify and text search hook
into `classify` and `search`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from artlens.cli._app import JsonOpt, QuietOpt, app, check_inputs, progress_bar, stage_reporter, train_app
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err, print_json, print_table, say_error

ModelOpt = Annotated[Path | None, typer.Option("--model", help="Alignment heads from `artlens train align` "
                                               "(default: the shipped ones).")]


def _model(folder: Path | None):
    from artlens.align.model import load_align_model

    return load_align_model(folder)


def _report_errors(report: dict) -> None:
    for error in report["errors"]:
        say_error(error['error'])
    if report["errors"]:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


@train_app.command("align")
def train_align(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the heads (config.json, "
                                          "model.safetensors).")],
    data: Annotated[Path, typer.Option(help="The data folder holding openclipart, scratch and the photos "
                                       "(docs/data.md).")] = Path(".data"),
    cache: Annotated[Path | None, typer.Option(help="Image feature cache (.npz); made once when missing "
                                               "(default: DATA/align-features.npz).")] = None,
    epochs: Annotated[int, typer.Option(min=1)] = 40,
    seed: Annotated[int, typer.Option()] = 0,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train the image-text alignment heads (LiT: locked image features, MiniLM text, symmetric InfoNCE)."""
    from artlens.align.train.driver import train_align as run
    from artlens.align.train.recipe import AlignSettings

    with progress_bar(quiet, "align") as bar:
        summary = run(data, out_dir, cache=cache, settings=AlignSettings(epochs=epochs, seed=seed),
                      progress=stage_reporter(bar))
    if as_json:
        print_json(summary)
        return
    rows = [(k, f"{v:.3f}" if isinstance(v, float) else str(v)) for k, v in summary.items()
            if isinstance(v, int | float)]
    rows += [(k, f"{v:.3f}") for k, v in summary.get("best", {}).items()]
    print_table(("figure", "value"), rows, right={"value"}, title="artlens train align")
    if not quiet:
        err.print(f"alignment heads written to {out_dir}", highlight=False)


@app.command()
def tag(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders (walked recursively).")],
    vocab: Annotated[Path | None, typer.Option("--vocab", help="Tags, one per line (default: the shipped "
                                               "vocabulary of genres, themes, scenes, things, products).")]
    = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="Tags listed per image.")] = 5,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="Only tags whose calibrated "
                                             "probability reaches this.")] = 0.0,
    model: ModelOpt = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Tag images from an open vocabulary, with calibrated scores (exit 1 when some files were unreadable)."""
    from artlens.align.tag import read_vocabulary, tag_paths

    check_inputs(paths)
    words = read_vocabulary(vocab) if vocab is not None else None
    with progress_bar(quiet or as_json, "tagging") as bar:
        task = bar.add_task("", total=None)
        report = tag_paths(paths, vocabulary=words, top_k=top_k, threshold=threshold, model=_model(model),
                           progress=lambda e: bar.update(task, completed=e.done, total=e.total))
    if as_json:
        print_json(report)
    else:
        rows = ((escape(im["path"]), ", ".join(f"{escape(t['tag'])} {t['score']:.2f}" for t in im["tags"])
                 or "—") for im in report["images"])
        print_table(("image", "tags"), rows, title="artlens tag")
    _report_errors(report)


def zero_shot_command(labels: list[str], paths: list[Path], model: Path | None, quiet: bool,
                      as_json: bool) -> None:
    """``artlens classify --zero-shot "a,b,c" IMAGES``: categories from their names alone."""
    from artlens.align.tag import zero_shot_paths

    names = [part.strip() for item in labels for part in item.split(",") if part.strip()]
    check_inputs(paths)
    with progress_bar(quiet or as_json, "classifying") as bar:
        task = bar.add_task("", total=None)
        report = zero_shot_paths(paths, names, model=_model(model),
                                 progress=lambda e: bar.update(task, completed=e.done, total=e.total))
    if as_json:
        print_json(report)
    else:
        rows = ((escape(im["path"]), escape(im["label"]), f"{im['confidence']:.0%}")
                for im in report["images"])
        print_table(("image", "class", "probability"), rows, right={"probability"},
                    title="artlens classify --zero-shot")
    _report_errors(report)


@app.command()
def describe(
    path: Annotated[Path, typer.Argument(help="An image file.")],
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Describe an image: tags, dominant colours, brightness and contrast, composition, and a sentence."""
    from artlens.align.describe import describe_path

    check_inputs([path])
    record = describe_path(path, model=_model(model))
    if as_json:
        print_json(record)
        return
    comp, tone = record["composition"], record["tone"]
    rows = [
        ("tags", ", ".join(f"{escape(t['tag'])} {t['score']:.2f}" for t in record["tags"])),
        ("palette", ", ".join(f"{c['hex']} {c['name']} {c['share']:.0%}" for c in record["palette"])),
        ("tone", f"{tone['brightness_word']} ({tone['brightness']:.2f}), {tone['contrast_word']} contrast "
                 f"({tone['contrast']:.2f}), {tone['colourfulness']}"),
        ("composition", f"subject {comp['subject_position']} ({comp['subject_share']:.0%} of the frame), "
                        f"symmetry {comp['symmetry']:.2f}, {comp['orientation']}"),
        ("sentence", escape(record["sentence"])),
    ]
    print_table(("", ""), rows, title=f"artlens describe — {escape(str(path))}", show_header=False)


@app.command("search")
def search_text(
    index_dir: Annotated[Path, typer.Argument(metavar="INDEX", help="An index from `artlens index build`.")],
    query: Annotated[str, typer.Argument(help="What the images should show, e.g. \"red vase on white\".")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, help="How many results.")] = 20,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find indexed images by a text (the index keeps their aligned embeddings)."""
    from artlens.align.indexed import search_text as run
    from artlens.search.index import SearchIndex

    with SearchIndex.open(index_dir) as index:
        report = run(index, query, k, model=_model(model))
    if as_json:
        print_json(report)
        return
    rows = ((str(r["rank"]), escape(r["path"]), f"{r['score']:.3f}", f"{r['probability']:.2f}")
            for r in report["results"])
    print_table(("rank", "image", "cosine", "probability"), rows, right={"rank", "cosine", "probability"},
                title=f"artlens search — {escape(query)}")
