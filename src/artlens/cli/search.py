"""Commands of the search part: index build/add/remove/info, similar, duplicates, recommend."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperCommand

from artlens.cli._app import JsonOpt, QuietOpt, app, progress_bar
from artlens.cli.engine_options import ActorsOpt, AddressOpt, BatchSizeOpt, EngineOpt, GpusOpt, engine_options
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err, print_json, print_table, say_error
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


AlignOpt = Annotated[bool, typer.Option("--align/--no-align", help="Also store each image's aligned "
                                        "embedding (for `artlens search INDEX TEXT`).")]


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        err.print(line, highlight=False, markup=False)


def _print_errors(errors: list[dict[str, Any]] | list[Any]) -> None:
    for e in errors:
        say_error(e["error"] if isinstance(e, dict) else str(e))


def _update(paths: list[Path], index_dir: Path, *, create: bool, prune: bool, backbone: str | None,
            style: bool, kind: Kind | None, max_pixels: int, quiet: bool, as_json: bool,
            engine: EngineOptions | None = None, align: bool = False) -> None:
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
        if align:  # the aligned embedding of artlens.align, for `artlens search INDEX TEXT`
            from artlens.align.indexed import update_aligned

            aligned = update_aligned(index, progress=lambda e: bar.update(task, completed=e.done,
                                                                          total=e.total))
            _say(quiet, f"aligned embeddings: {aligned['embedded']} added, {aligned['kept']} kept")
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
        raise typer.Exit(ExitCode.INPUT_ERRORS)


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
    align: AlignOpt = True,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Create or refresh an index: new and changed files are embedded, vanished files dropped.

    Re-running it only embeds what changed; a build that was interrupted resumes where it stopped. Exit
    status 1 when some files could not be read (they are listed; the rest is indexed).
    """
    _update(paths, index_dir, create=True, prune=True, backbone=backbone, style=style_features, kind=kind,
            max_pixels=max_pixels, quiet=quiet, as_json=as_json,
            engine=engine_options(engine, address, actors, batch_size, gpus_per_actor), align=align)


@index_app.command("add")
def index_add(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders (walked recursively).")],
    index_dir: IndexOpt,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    align: AlignOpt = True,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Add new or changed files to an existing index (nothing is dropped)."""
    _update(paths, index_dir, create=False, prune=False, backbone=None, style=False, kind=None,
            max_pixels=max_pixels, quiet=quiet, as_json=as_json, align=align)


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
    rows = [(key, str(info[key])) for key in ("backbone", "style_features", "kind_setting", "items",
                                               "distinct_files", "db_bytes")]
    for name, v in info["vectors"].items():
        detail = f"{v['kind']}, {v['vectors']} x {v['dim']}"
        if v["kind"] == "ivf":
            detail += f", nlist {v['nlist']}, nprobe {v['nprobe']}"
        rows.append((f"{name} vectors", f"{detail}, {v['file_bytes']} bytes"))
    print_table(("item", "value"), rows, title=f"artlens index {info['index']}")


def _emit(report: dict, fmt: str | None, out_path: Path | None, quiet: bool, as_json: bool,
          table: Callable[[dict], None]) -> None:
    """The report to ``--out`` (format from ``--format`` or the suffix), JSON on stdout with ``--json`` (or
    ``--format json`` and no ``--out``), else the table."""
    from artlens.search.report import render

    if out_path is not None:
        csv = "csv" if table is _duplicates_table else "json"
        render(report, fmt or _format_for(out_path, csv), out_path)
        _say(quiet, f"report written to {out_path}")
    elif fmt not in (None, "json"):
        raise typer.BadParameter(f"--format {fmt} needs --out FILE (only json goes to stdout)")
    if as_json or (fmt == "json" and out_path is None):
        print_json(report)
    elif out_path is None:
        table(report)


def _format_for(out_path: Path, csv: str) -> str:
    """The format named by ``out_path``'s suffix (``csv``: what a .csv suffix means), else json."""
    suffix = out_path.suffix.lower().lstrip(".")
    return {"html": "html", "csv": csv}.get(suffix, "json")


def _similar_table(report: dict) -> None:
    rows = [(escape(q["query"]), str(r["rank"]), escape(r["path"]), f"{r['score']:.3f}")
            for q in report["queries"] for r in q["results"]]
    print_table(("query", "rank", "similar image", "cosine"), rows, right={"rank", "cosine"},
                title=f"artlens similar — by {report['by']}, {report['index']}")


def _recommend_table(report: dict) -> None:
    rows = [(str(r["rank"]), escape(r["path"]), f"{r['relevance']:.3f}") for r in report["results"]]
    p = report["profile"]
    print_table(("rank", "recommended image", "relevance"), rows, right={"rank", "relevance"},
                title=f"artlens recommend — {p['liked']} liked, {p['disliked']} disliked, {p['seen']} seen")


def _duplicates_table(report: dict) -> None:
    rows = []
    for g in report["groups"]:
        others = [m["path"] for m in g["members"] if m["path"] != g["keep"]]
        rows.append((str(g["group"]), g["kind"], escape(g["keep"]), escape(g.get("keep_reason", "")),
                     "; ".join(escape(o) for o in others)))
    print_table(("group", "kind", "keep (suggested)", "why", "copies"), rows, right={"group"},
                title=f"artlens duplicates — {report['summary']['groups']} groups")


@app.command()
def similar(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    queries: Annotated[list[str], typer.Argument(help="Query images: indexed paths or any image files.")],
    k: Annotated[int, typer.Option("-k", min=1, help="Results per query.")] = 10,
    by: Annotated[By, typer.Option(help="content: what is shown; style: how it looks (needs an index built "
                                   "with --style-features).")] = By.content,
    fmt: Annotated[ReportFormat | None, typer.Option("--format", "-f", help="File format of --out: json or "
                                                     "html (default: from its suffix).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Find the indexed images most similar to each query ("more like this"), with cosine scores."""
    from artlens.search.index import SearchIndex
    from artlens.search.similar import find_similar

    with SearchIndex.open(index_dir) as index:
        report = find_similar(index, queries, k, by=by.value, max_pixels=max_pixels)
    _emit(report, fmt.value if fmt else None, out_path, quiet, as_json, _similar_table)
    _print_errors(report["errors"])
    if report["errors"]:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


@app.command()
def duplicates(
    index_dir: Annotated[Path, typer.Argument(help="Index folder.")],
    threshold: Annotated[float, typer.Option(min=0.0, max=2.0, help="Largest cosine distance between visual "
                                             "near-duplicates (0 turns this level off).")] = 0.12,
    hash_threshold: Annotated[int, typer.Option(min=-1, max=64, help="Largest perceptual-hash Hamming "
                                                "distance of near-identical images (-1 turns it off).")] = 8,
    fmt: Annotated[DupFormat | None, typer.Option("--format", "-f", help="File format of --out: json, csv or "
                                                  "html (default: from its suffix).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    policy: Annotated[str, typer.Option("--policy", "-p", help="Policy whose verdicts and quality scores "
                                        "choose the copy to keep (a preset or a YAML file).")] = "general",
    no_assess: Annotated[bool, typer.Option("--no-assess", help="Do not assess the group members: keep the "
                                            "copy with most pixels, then most bytes.")] = False,
    no_db: Annotated[bool, typer.Option("--no-db", help="Do not use the results database.")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Group exact copies, near-identical copies and visual near-duplicates, and suggest which copy to keep.

    The suggestion: the best verdict under --policy (pass > review > fail), then the higher quality score,
    then more pixels, then more bytes; each group says what decided. Only group members are assessed
    (results already in the results database are reused). Nothing is deleted.
    """
    from artlens.search.duplicates import find_duplicates
    from artlens.search.index import SearchIndex
    from artlens.search.keeper import KeepRule

    rule = KeepRule(policy=None if no_assess else policy, use_store=not no_db)
    with SearchIndex.open(index_dir) as index:
        report = find_duplicates(index, threshold=threshold, hash_threshold=hash_threshold, keep=rule)
    _emit(report, fmt.value if fmt else None, out_path, quiet, as_json, _duplicates_table)
    s = report["summary"]
    _say(quiet, f"{s['groups']} duplicate groups ({s['exact_groups']} exact, {s['near-identical_groups']} "
                f"near-identical, {s['visual_groups']} visual) among {s['items']} images")
    for g in report["groups"]:
        _say(quiet, f"group {g['group']}: keep {g['keep']} ({g['keep_reason']})")


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
    no_fold: Annotated[bool, typer.Option("--no-fold", help="Also recommend near-duplicates (crops, resized "
                                          "copies) of rated images and of each other.")] = False,
    fmt: Annotated[ReportFormat | None, typer.Option("--format", "-f", help="File format of --out: json or "
                                                     "html (default: from its suffix).")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    max_pixels: MaxPixelsOpt = DEFAULT_MAX_PIXELS,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Recommend indexed images from what a user liked and disliked; rated images are never recommended.

    Near-duplicates of rated images (a crop, a resized copy) are left out and near-duplicates of a result
    are folded into it, by the rule of `artlens duplicates` (--no-fold turns this off).
    """
    from artlens.search.index import SearchIndex
    from artlens.search.recommend import Profile
    from artlens.search.recommend import recommend as run_recommend

    profile = Profile.load(profile_path) if profile_path is not None and profile_path.exists() else None
    with SearchIndex.open(index_dir) as index:
        report, profile = run_recommend(index, liked or [], disliked or [], seen=seen or [], k=k,
                                        diversity=diversity, profile=profile, by=by.value,
                                        max_pixels=max_pixels, fold=not no_fold)
    if profile_path is not None:
        profile.save(profile_path)
        report["profile"]["file"] = str(profile_path)
    _emit(report, fmt.value if fmt else None, out_path, quiet, as_json, _recommend_table)
    _print_errors(report["errors"])
    if report["errors"]:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


__all__ = ["index_app", "sys"]
