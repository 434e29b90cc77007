"""Commands of the quality screener: assess, train quality, evaluate quality, policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from artlens.cli._app import (
    FailOn,
    Format,
    JsonOpt,
    QuietOpt,
    app,
    check_inputs,
    flatten_metrics,
    policy_app,
    progress_bar,
    stage_reporter,
    train_app,
)
from artlens.cli.engine_options import ActorsOpt, AddressOpt, BatchSizeOpt, EngineOpt, GpusOpt, engine_options
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err, print_json, print_table, say_error
from artlens.engine.options import EngineKind
from artlens.errors import ArtlensError

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
    rebuild_store: Annotated[bool, typer.Option("--rebuild-store", help="If the results database is "
                                                "damaged, move it aside and start a fresh one.")] = False,
    sort_into: Annotated[Path | None, typer.Option(help="Copy images into DIR/pass, DIR/review, DIR/fail, "
                                                   "keeping their folders below each input folder, and "
                                                   "unreadable files into DIR/unreadable (originals are "
                                                   "never moved).")] = None,
    link: Annotated[bool, typer.Option("--link", help="With --sort-into: hard-link, do not copy.")] = False,
    max_pixels: Annotated[int, typer.Option(min=1, help="Refuse images with more pixels than this "
                                            "(decompression-bomb guard).")] = 50_000_000,
    fail_on: Annotated[FailOn, typer.Option(help="Exit with status 3 when any image gets this verdict or "
                                            "worse (even when some files were unreadable).")] = FailOn.never,
    quality_model: Annotated[Path | None, typer.Option(help="Quality model folder from `artlens train "
                                                       "quality` (default: the shipped model).")] = None,
    technical: Annotated[bool, typer.Option("--technical", help="Score quality with the hand-made metric "
                                            "combination only (no learned model; faster).")] = False,
    explain: Annotated[Path | None, typer.Option(help="Write a quality heat map per image into this "
                                                 "folder during the run (JPEG, at most 1024 px, with a "
                                                 "colour bar: where the model saw defects).")] = None,
    engine: EngineOpt = EngineKind.local,
    address: AddressOpt = None,
    actors: ActorsOpt = 0,
    batch_size: BatchSizeOpt = 0,
    gpus_per_actor: GpusOpt = 0.0,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Screen images for technical quality and marketplace compliance: pass, review or fail, with reasons.

    Exit status: 0 when every file was assessed, 1 when some could not be read (they are listed), 2 on a
    usage or configuration error, 3 with --fail-on when an image got that verdict (3 also when some files
    were unreadable).
    """
    from artlens.assess.analyse import AnalysisSettings
    from artlens.assess.pipeline import AssessRun, run_assessment
    from artlens.assess.policy import load_policy

    pol = load_policy(policy)
    check_inputs(paths)
    if fmt is None and out_path is not None:
        suffix = out_path.suffix.lower().lstrip(".")
        fmt = Format(suffix) if suffix in Format.__members__ else Format.json
    if technical and (quality_model is not None or explain is not None):
        raise typer.BadParameter("--technical does not use a quality model: drop --quality-model/--explain")
    if quality_model is not None and not quality_model.is_dir():
        raise typer.BadParameter(f"--quality-model {quality_model}: not a model folder")
    model_dir = str(quality_model.resolve()) if quality_model else None
    settings = AnalysisSettings.for_policy(pol, max_pixels=max_pixels, learned=not technical,
                                           quality_model=model_dir, explain=explain is not None)
    run = AssessRun(policy=pol, settings=settings, workers=workers, db=db, use_store=not no_db,
                    explain_dir=explain,
                    engine=engine_options(engine, address, actors, batch_size, gpus_per_actor))
    if rebuild_store and not no_db:
        from artlens.store import default_db_path, rebuild_if_damaged

        store_path = db or default_db_path()
        moved = rebuild_if_damaged(store_path)
        if moved is not None:
            err.print(f"warning: {store_path} was damaged: moved aside to {moved}; starting a fresh results "
                      "database (API keys and jobs kept in it are in the moved file)", highlight=False,
                      markup=False)
    from artlens.procpool import stop_on_signals

    with stop_on_signals(), progress_bar(quiet, "assessing") as bar:  # SIGTERM: pool shut down, results kept
        task = bar.add_task("", total=None)
        report = run_assessment(paths, run,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))
    if explain is not None and not quiet:
        err.print(f"quality heat maps written to {explain}", highlight=False, markup=False)

    if out_path is not None:
        from artlens.assess.report.formats import render

        render(report, (fmt or Format.json).value, out_path)
        if not quiet:
            err.print(f"report written to {out_path}")
    if sort_into is not None:
        from artlens.assess.sorting import sort_into as do_sort

        counts = do_sort(report, sort_into, roots=paths, link=link)
        if not quiet:
            err.print(f"sorted into {sort_into}: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v),
                      highlight=False, markup=False)

    if as_json or (fmt == Format.json and out_path is None):
        print_json(report)
    elif out_path is None and fmt is not None:
        raise typer.BadParameter(f"--format {fmt.value} needs --out (only json can go to stdout)")
    elif not quiet:
        _print_assess_table(report)

    for error in report["errors"]:
        say_error(error["error"])
    s = report["summary"]
    if not quiet:
        err.print(f"{s['assessed']} assessed ({s['computed']} computed, {s['cached']} from the store), "
                  f"{s['pass']} pass, {s['review']} review, {s['fail']} fail, {s['errors']} error(s) "
                  f"in {s['elapsed_s']:.1f} s")
    worst = {"review": ("review", "fail"), "fail": ("fail",)}.get(fail_on.value, ())
    if any(im["verdict"] in worst for im in report["images"]):
        raise typer.Exit(ExitCode.VERDICT)  # the gate first: unreadable files must not hide it
    if report["errors"]:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


def _print_assess_table(report: dict) -> None:
    colour = {"pass": "green", "review": "yellow", "fail": "red"}
    rows = ((escape(im["path"]), f"[{colour[im['verdict']]}]{im['verdict'].upper()}[/]",
             f"{im['scores']['quality']:.0f}", _reasons_cell(im, colour)) for im in report["images"])
    print_table(("image", "verdict", "quality", "reasons"), rows, right={"quality"},
                title=f"artlens assess — policy {report['policy']['name']}")


def _reasons_cell(image: dict, colour: dict[str, str]) -> str:
    """The reasons in the colour of each one's own status; on a failed image, those asking review say so."""
    behind = image.get("reason_checks") or [{"status": image["verdict"], "message": r}
                                            for r in image["reasons"]]
    parts = []
    for r in behind:
        mark = "review: " if r["status"] == "review" and image["verdict"] == "fail" else ""
        parts.append(f"[{colour.get(r['status'], 'default')}]{mark}{escape(r['message'])}[/]")
    return "; ".join(parts) or "—"


# ----------------------------------------------------------------------------------------------------------
# train / evaluate
# ----------------------------------------------------------------------------------------------------------

@train_app.command("quality")
def train_quality(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    pristine: Annotated[Path | None, typer.Option(help="Pristine photos (a folder, or a manifest.csv from "
                                                  "scripts/prepare_pristine.py): train on synthetic "
                                                  "distortions of them, the shipped model's recipe).")
    ] = None,
    labels: Annotated[Path | None, typer.Option(help="CSV with `path` and `label` (classes) or `score` "
                                                "(rating): train on your own judgement.")] = None,
    backbone: Annotated[str, typer.Option(help="Backbone name (artlens.models.backbones).")] = "mobilenet_v2",
    finetune: Annotated[bool, typer.Option("--finetune", help="With --labels: also fine-tune the last "
                                           "backbone blocks (slower).")] = False,
    kfold: Annotated[int, typer.Option(min=0, help="With --labels: K-fold cross-validation (0: one "
                                       "stratified validation split).")] = 0,
    epochs: Annotated[int | None, typer.Option(min=1, help="Training epochs (default: the recipe's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(
        help="Random seed (runs are deterministic on the CPU; default 0).")] = None,
    cache: Annotated[Path | None, typer.Option(help="With --pristine: feature cache (.npz) reused when data "
                                               "and settings match.")] = None,
    recipe_set: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE", help="With --pristine: change a recipe setting (artlens.iqa.train."
        "recipe.RECIPE, e.g. --set max_size=768); repeatable.")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a quality model: on pristine photos (--pristine) or on your own labels (--labels)."""
    if (pristine is None) == (labels is None):
        raise typer.BadParameter("give exactly one of --pristine and --labels")
    if recipe_set and pristine is None:
        raise typer.BadParameter("--set changes the --pristine recipe; it does not apply to --labels")
    seed_used = 0 if seed is None else seed
    if pristine is not None:
        from dataclasses import replace

        from artlens.iqa.config import QualityModelConfig
        from artlens.iqa.train.recipe import parse_overrides, pristine_files, train_on_pristine

        recipe = parse_overrides(recipe_set or [])
        for name, value in (("seed", seed), ("epochs", epochs)):
            if value is not None and name in recipe:
                raise typer.BadParameter(f"--{name} and --set {name}=... both given; use one")
        overrides = {"seed": seed_used} | ({"epochs": epochs} if epochs else {}) | recipe
        with progress_bar(quiet, "training") as bar:
            summary = train_on_pristine(pristine_files(pristine), out_dir, cache=cache,
                                        progress=stage_reporter(bar),
                                        config=replace(QualityModelConfig(), backbone=backbone), **overrides)
        if not quiet and not as_json:
            s = summary
            print_table(("item", "value"), (
                ("training images", f"{s['images']} from {s['photos']} pristine photos"),
                ("ranked pairs", str(s["pairs"])),
                ("embedding", f"{s['embed_seconds']:.0f} s"),
                ("fitting the heads", f"{s['fit_seconds']:.0f} s"),
                ("training Spearman", f"{s['train_spearman']:.3f}"),
            ), title=f"artlens train quality — {out_dir}", show_header=False)
    else:
        from artlens.iqa.train.labels import read_labels, train_from_labels

        label_set = read_labels(labels)
        with progress_bar(quiet, "training") as bar:
            summary = train_from_labels(label_set, out_dir, backbone=backbone, finetune=finetune, kfold=kfold,
                                        seed=seed_used, epochs=epochs, progress=stage_reporter(bar))
        _print_label_training(summary, quiet or as_json)
    if as_json:
        print_json(summary)
    elif not quiet:
        err.print(f"model written to {out_dir}")


def _print_label_training(summary: dict, quiet: bool) -> None:
    """The validation figures (k-fold mean and pooled, or the hold-out's) as a table on stdout, what was
    skipped and how the views were split on stderr; a validation no better than chance is warned about in
    yellow, even with --quiet."""
    evaluation = summary.get("evaluation", {})
    if not quiet:
        method = evaluation.get("method", "none")
        if method == "kfold":
            columns = ("metric", f"mean ± sd of {evaluation['k']} folds", "pooled")
            mean = dict(flatten_metrics(evaluation.get("mean", {})))
            pooled = {key.replace(" ", "_"): value
                      for key, value in flatten_metrics(evaluation.get("pooled", {}))}
            rows = ((key, f"{value:.4f}" + (f" ± {mean[key + '_std']:.4f}" if key + "_std" in mean else ""),
                     _figure(pooled.get(key))) for key, value in mean.items() if not key.endswith("_std"))
        else:
            columns = ("metric", "held-out split" if method == "holdout" else "value")
            rows = ((key, _figure(value)) for key, value in flatten_metrics(evaluation.get("metrics", {}))
                    if not key.startswith("per_class"))  # per class: in --json and the model's metrics.json
        rows = list(rows)
        n = summary.get("n_used")
        title = f"artlens train quality — {summary.get('model_dir', '')} ({n} images, {summary.get('task')})"
        if rows:
            print_table(columns, rows, right=columns[1:], title=title)
        else:
            err.print(f"no validation: {evaluation.get('reason', 'no split was asked for')}", highlight=False)
        for skipped in summary.get("skipped", []):
            err.print(f"skipped {skipped['path']}: {skipped['reason']}", highlight=False, markup=False)
        views = summary.get("views") or {}
        if views.get("tiles"):
            err.print(f"views: the whole frames and {views['tiles']} native tiles of "
                      f"{views['images_with_tiles']} large images", highlight=False)
        pictures, used = evaluation.get("pictures"), summary.get("n_used")
        if pictures is not None and used is not None and pictures < used:
            err.print(f"split by picture: {used} images are {pictures} distinct pictures (copies of one "
                      "picture stay on one side)", highlight=False)
    for warning in summary.get("warnings", []):
        err.print(f"[bold yellow]warning: {escape(warning)}[/bold yellow]", highlight=False)


def _figure(value: float | int | None) -> str:
    """A metric as the summary table shows it: counts whole, the rest to four places."""
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.4f}"


def evaluate_quality(model: Path, labels: Path, confusion: Path | None, as_json: bool) -> None:
    """Accuracy, precision, recall, F1 and ROC-AUC (classes) or SRCC/PLCC/RMSE (scores) on labelled images."""
    from artlens.iqa.train.labels import evaluate_model, read_labels

    result = evaluate_model(model, read_labels(labels), confusion_png=confusion)
    if as_json:
        print_json(result)
        return
    print_table(("metric", "value"), ((key, f"{value:.4f}" if isinstance(value, float) else str(value))
                                      for key, value in flatten_metrics(result["metrics"])),
                right={"value"}, title=f"artlens evaluate quality — {model} on {result['n']} images")
    for skipped in result.get("skipped", []):
        err.print(f"skipped {skipped['path']}: {skipped['reason']}", highlight=False, markup=False)
    if confusion is not None:
        err.print(f"confusion matrix written to {confusion}")


# ----------------------------------------------------------------------------------------------------------
# policy
# ----------------------------------------------------------------------------------------------------------

@policy_app.command("list")
def policy_list(as_json: JsonOpt = False) -> None:
    """List the shipped presets."""
    from artlens.assess.policy import list_presets, load_policy

    policies = [load_policy(name) for name in list_presets()]
    if as_json:
        print_json([p.as_dict() for p in policies])
        return
    print_table(("preset", "rules", "description"),
                ((p.name, str(len(p.rules)), escape(p.description)) for p in policies), right={"rules"})


@policy_app.command("show")
def policy_show(policy: Annotated[str, typer.Argument(help="Preset name or YAML file.")]) -> None:
    """Print a policy with inheritance resolved, as YAML."""
    from artlens.assess.policy import load_policy

    sys.stdout.write(load_policy(policy).to_yaml())


@policy_app.command("check")
def policy_check(files: Annotated[list[Path], typer.Argument(help="YAML policy files.")]) -> None:
    """Validate policy files; each problem is reported with the bad key."""
    from artlens.assess.policy import load_policy

    failed = False
    for file in files:
        try:
            p = load_policy(file)
            print(f"{file}: valid ({len(p.rules)} rules)")
        except ArtlensError as exc:
            err.print(f"error: {exc}", highlight=False, markup=False)
            failed = True
    if failed:
        raise typer.Exit(ExitCode.USAGE)


# ----------------------------------------------------------------------------------------------------------
# weights
# ----------------------------------------------------------------------------------------------------------

