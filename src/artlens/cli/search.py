"""Commands of the search part: index build/add/remove/info, similar, duplicates, recommend."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperCommand

from artlens.cli._app import JsonOpt, QuietOpt, app, err, out, print_json, progress_bar
from artlens.cli.engine_options import ActorsOpt, AddressOpt, BatchSizeOpt, EngineOpt, GpusOpt, engine_options
from artlens.engine.options import EngineKind, EngineOptions
from artlens.imageio import DEFAULT_MAX_PIXELS

index_app = typer.Typer(help="Build and update a similarity-search index of an image collection.",
                        no_args_is_help=True)
app.add_typer(index_app, name="index")


class Kind(StrEnum):
    auto = "auto"
    flat = "flat"
    ivf = "ivf"
    hnsw = "hnsw"


class By(StrEnum):
    content = "content"
    style = "style"


class ReportFormat(StrEnum):
    json = "json"
    html = "html"


class DupFormat(StrEnum):
    json = "json"
    csv = "csv"
    html = "html"


IndexOpt = Annotated[Path, typer.Option("--index", "-i", help="Index folder.")]
MaxPixelsOpt = Annotated[int, typer.Option(min=1, help="Refuse images with more pixels than this.")]


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        err.print(line, highlight=False, markup=False)


def _print_errors(errors: list[dict[str, Any]] | list[Any]) -> None:
    for e in errors:
        message = e["error"] if isinstance(e, dict) else str(e)
        err.print(f"[red]error:[/red] {message}", markup=True, highlight=False)


def _update(paths: list[Path], index_dir: Path, *, create: bool, prune: bool, backbone: str | None,
            style: bool, kind: Kind | None, max_pixels: int, quiet: bool, as_json: bool,
            engine: EngineOptions | None = None) -> None:
    from artlens.engine.engines import make_engine
    from artlens.search.index import SearchIndex

    index = (SearchIndex.create(index_dir, backbone=backbone, style=style, kind=kind.value if kind else None)
             if create else SearchIndex.open(index_dir))
    with index, progress_bar(quiet, "indexing") as bar:
        task = bar.add_task("", total=None)
        report = index.update(paths, prune=prune, max_pixels=max_pixels,
                              progress=lambda done, total: bar.update(task, completed=done, total=total),
                              engine=make_engine(engine) if engine and engine.is_ray else None,
                              **({"batch_size": engine.batch_size} if engine and engine.batch_size else {}))
        info = index.info()
    _finish(report, info, quiet, as_json)


def _finish(report: Any, info: dict, quiet: bool, as_json: bool) -> None:
    if as_json:
        print_json({"update": report.to_dict(), "index": info})
    _print_errors(report.errors)
    kinds = ", ".join(f"{name} {v['kind']}" for name, v in info["vectors"].items() if v["kind"])
    _say(quiet, f"{info['items']} images in {info['index']} ({kinds or 'empty'}): {report.added} added, "
                f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged; "
                f"{report.embedded} embedded, {report.reused} reused; {len(report.errors)} error(s) "
                f"in {report.elapsed_s:.1f} s")
    if report.errors:
        raise typer.Exit(1)


@index_app.command("build")
def index_build(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders (walked recursively).")],
    index_dir: IndexOpt,
    backbone: Annotated[str | None, typer.Option(help="Feature extractor (default mobilenet_v2; an existing "
                                                 "index keeps its own).")] = None,
    style_features: Annotated[bool, typer.Option("--style-features", help="Also store style descriptors "
                                                 "(for `similar --by style`).")] = False,
    kind: Annotated[Kind | None, typer.Option(help="Vector index: flat (exact), ivf, hnsw, or auto (flat up "
                                              "to 20k images, ivf beyond); default: keep the index's.")
    ] = None,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    engine: EngineOpt = EngineKind.local,
    address: AddressOpt = None,
    actors: ActorsOpt = 0,
    batch_size: BatchSizeOpt = 0,
    gpus_per_actor: GpusOpt = 0.0,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Create or refresh an index: new and changed files are embedded, vanished files dropped.

    Re-running it only embeds what changed; a build that was interrupted resumes where it stopped. Exit
    status 1 when some files could not be read (they are listed; the rest is indexed).
    """
    _update(paths, index_dir, create=True, prune=True, backbone=backbone, style=style_features, kind=kind,
            max_pixels=max_pixels, quiet=quiet, as_json=as_json,
            engine=engine_options(engine, address, actors, batch_size, gpus_per_actor))


@index_app.command("add")
def index_add(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders (walked recursively).")],
    index_dir: IndexOpt,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add new or changed files to an existing index (nothing is dropped)."""
    _update(paths, index_dir, create=False, prune=False, backbone=None, style=False, kind=None,
            max_pixels=max_pixels, quiet=quiet, as_json=as_json)


@index_app.command("remove")
def index_remove(
    paths: Annotated[list[Path], typer.Argument(help="Indexed files, or folders (all files below them).")],
    index_dir: IndexOpt,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Drop files from the index (the files themselves are not touched)."""
    from artlens.search.index import SearchIndex

    with SearchIndex.open(index_dir) as index:
        report = index.remove(paths)
        info = index.info()
    _finish(report, info, quiet, as_json)


@index_app.command("info")
def index_info(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    as_json: JsonOpt = False,
) -> None:
    """Show an index's settings, size and vector-index kinds."""
    from artlens.search.index import SearchIndex

    with SearchIndex.open(index_dir) as index:
        info = index.info()
    if as_json:
        print_json(info)
        return
    table = Table(title=f"artlens index {info['index']}", show_header=False)
    for key in ("backbone", "style_features", "kind_setting", "items", "distinct_files", "db_bytes"):
        table.add_row(key, str(info[key]))
    for name, v in info["vectors"].items():
        detail = f"{v['kind']}, {v['vectors']} x {v['dim']}"
        if v["kind"] == "ivf":
            detail += f", nlist {v['nlist']}, nprobe {v['nprobe']}"
        table.add_row(f"{name} vectors", f"{detail}, {v['file_bytes']} bytes")
    out.print(table)


def _emit(report: dict, fmt: str, out_path: Path | None, quiet: bool) -> None:
    from artlens.search.report import render

    if out_path is not None:
        render(report, fmt, out_path)
        _say(quiet, f"report written to {out_path}")
    elif fmt == "json":
        print_json(report)
    else:
        raise typer.BadParameter(f"--format {fmt} needs --out FILE (only json goes to stdout)")


def _format_for(fmt: str | None, out_path: Path | None, allowed: tuple[str, ...]) -> str:
    if fmt is not None:
        return fmt
    suffix = out_path.suffix.lower().lstrip(".") if out_path is not None else ""
    return suffix if suffix in allowed else "json"


@app.command()
def similar(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    queries: Annotated[list[str], typer.Argument(help="Query images: indexed paths or any image files.")],
    k: Annotated[int, typer.Option("-k", min=1, help="Results per query.")] = 10,
    by: Annotated[By, typer.Option(help="content: what is shown; style: how it looks (needs an index built "
                                   "with --style-features).")] = By.content,
    fmt: Annotated[ReportFormat | None, typer.Option("--format", "-f", help="json or html (default: from "
                                                     "--out's suffix, else json).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    quiet: QuietOpt = False,
) -> None:
    """Find the indexed images most similar to each query ("more like this"), with cosine scores."""
    from artlens.search.index import SearchIndex
    from artlens.search.similar import find_similar

    with SearchIndex.open(index_dir) as index:
        report = find_similar(index, queries, k, by=by.value, max_pixels=max_pixels)
    _emit(report, _format_for(fmt.value if fmt else None, out_path, ("json", "html")), out_path, quiet)
    _print_errors(report["errors"])
    if report["errors"]:
        raise typer.Exit(1)


@app.command()
def duplicates(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    threshold: Annotated[float, typer.Option(min=0.0, max=2.0, help="Largest cosine distance between visual "
                                             "near-duplicates (0 turns this level off).")] = 0.12,
    hash_threshold: Annotated[int, typer.Option(min=-1, max=64, help="Largest perceptual-hash Hamming "
                                                "distance of near-identical images (-1 turns it off).")] = 8,
    fmt: Annotated[DupFormat | None, typer.Option("--format", "-f", help="json, csv or html (default: from "
                                                  "--out's suffix, else json).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Group exact copies, near-identical copies and visual near-duplicates. Nothing is deleted."""
    from artlens.search.duplicates import find_duplicates
    from artlens.search.index import SearchIndex

    with SearchIndex.open(index_dir) as index:
        report = find_duplicates(index, threshold=threshold, hash_threshold=hash_threshold)
    _emit(report, _format_for(fmt.value if fmt else None, out_path, ("json", "csv", "html")), out_path, quiet)
    s = report["summary"]
    _say(quiet, f"{s['groups']} duplicate groups ({s['exact_groups']} exact, {s['near-identical_groups']} "
                f"near-identical, {s['visual_groups']} visual) among {s['items']} images")


_LIST_FLAGS = ("--liked", "--disliked", "--seen")


class _ListOptionsCommand(TyperCommand):
    """Lets ``--liked A B C`` stand for ``--liked A --liked B --liked C`` (values until the next option)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        expanded: list[str] = []
        current: str | None = None
        for token in args:
            if token in _LIST_FLAGS:
                current = token
                expanded.append(token)
                continue
            if token.startswith("-"):
                current = None
            elif current is not None and expanded and expanded[-1] != current:
                expanded.append(current)
            expanded.append(token)
        return super().parse_args(ctx, expanded)


@app.command(cls=_ListOptionsCommand)
def recommend(
    index_dir: Annotated[Path, typer.Argument(help="Index folder (first, before the options).")],
    liked: Annotated[list[str] | None, typer.Option("--liked", help="Images the user liked (indexed paths "
                                                    "or files); several may follow one --liked.")] = None,
    disliked: Annotated[list[str] | None, typer.Option("--disliked", help="Images the user disliked.")
    ] = None,
    seen: Annotated[list[str] | None, typer.Option("--seen", help="Images not to recommend (already shown or "
                                                   "bought).")] = None,
    k: Annotated[int, typer.Option("-k", min=1, help="How many recommendations.")] = 20,
    diversity: Annotated[float, typer.Option(min=0.0, max=1.0, help="0: most similar first; towards 1: a "
                                             "more varied list (maximal marginal relevance).")] = 0.3,
    profile_path: Annotated[Path | None, typer.Option("--profile", help="JSON profile: read when it exists, "
                                                      "then saved with these ratings added.")] = None,
    by: Annotated[By, typer.Option(help="Vectors to compare: content or style.")] = By.content,
    fmt: Annotated[ReportFormat | None, typer.Option("--format", "-f", help="json or html.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    quiet: QuietOpt = False,
) -> None:
    """Recommend indexed images from what a user liked and disliked; rated images are never recommended."""
    from artlens.search.index import SearchIndex
    from artlens.search.recommend import Profile
    from artlens.search.recommend import recommend as run_recommend

    profile = Profile.load(profile_path) if profile_path is not None and profile_path.exists() else None
    with SearchIndex.open(index_dir) as index:
        report, profile = run_recommend(index, liked or [], disliked or [], seen=seen or [], k=k,
                                        diversity=diversity, profile=profile, by=by.value,
                                        max_pixels=max_pixels)
    if profile_path is not None:
        profile.save(profile_path)
        report["profile"]["file"] = str(profile_path)
    _emit(report, _format_for(fmt.value if fmt else None, out_path, ("json", "html")), out_path, quiet)
    _print_errors(report["errors"])
    if report["errors"]:
        raise typer.Exit(1)


__all__ = ["index_app", "sys"]
