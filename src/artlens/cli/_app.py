"""The Typer application, its sub-command groups and the helpers every command module shares.

Results go to stdout (see :mod:`artlens.cli.output` for the one rule: a table on a terminal, tab-separated
columns in a pipe, JSON with ``--json``); progress bars and messages go to stderr. Every
:class:`~artlens.errors.ArtlensError` becomes one line on stderr and a non-zero exit code
(:mod:`artlens.cli.exitcodes`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import StrEnum
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from artlens import __version__
from artlens.cli.exitcodes import EXIT_CODES, ExitCode
from artlens.cli.output import err, say_error
from artlens.envvars import ENVIRONMENT
from artlens.training.progress import Progress as TrainingProgress
from artlens.training.progress import ProgressEvent


def _epilog() -> str:
    """Output rule, exit statuses and environment variables for ``artlens --help`` (one line each)."""
    sections = [
        "[bold]Output[/bold]: a table on a terminal; tab-separated columns when stdout is a pipe or a file; "
        "JSON with --json. Progress and messages go to stderr.",
        "\n".join(["[bold]Exit status[/bold]:", *(f"  {code}  {text}" for code, text in EXIT_CODES.items())]),
        "\n".join(["[bold]Environment[/bold]:", *(f"  {k}  {v}" for k, v in ENVIRONMENT.items())]),
    ]
    return "\n\n".join(sections)


app = typer.Typer(
    name="artlens",
    help="Judge images for online shops and art platforms: quality screening, marketplace compliance, "
         "recognition, style transfer, similar images.",
    epilog=_epilog(),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
weights_app = typer.Typer(help="List, fetch and verify the pinned model weight files.", no_args_is_help=True)
policy_app = typer.Typer(help="List, show and check screening policies.", no_args_is_help=True)
train_app = typer.Typer(help="Train models: quality (on pristine photos or your own labels), classifiers, "
                             "the image-text alignment, music, text and GANs.",
                        no_args_is_help=True)
app.add_typer(weights_app, name="weights")
app.add_typer(policy_app, name="policy")
app.add_typer(train_app, name="train")

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
        print(f"artlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """artlens command line."""


def progress_bar(quiet: bool, label: str) -> Progress:
    """Progress bars on stderr: the label, bar, count, time left, then the task's own description."""
    return Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("•"),
                    TimeRemainingColumn(), TextColumn("{task.description}"), console=err, disable=quiet,
                    transient=False)


def check_inputs(paths: Sequence[str | os.PathLike[str]]) -> None:
    """Stop before any model loads when none of the named inputs exists: each is named on stderr, exit 1.

    When some exist, the command goes on and reports the missing ones with the other unreadable inputs.
    """
    from pathlib import Path

    if paths and not any(Path(p).exists() for p in paths):
        for p in paths:
            say_error(f"{p}: no such file or folder")
        raise typer.Exit(ExitCode.INPUT_ERRORS)


def stage_reporter(bar: Progress) -> TrainingProgress:
    """A :data:`artlens.training.Progress` callback drawing one bar per stage, with the event's figures."""
    tasks: dict[str, TaskID] = {}

    def report(event: ProgressEvent) -> None:
        shown = (f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in event.metrics.items())
        label = f"{event.stage} {' '.join(shown)}".strip()
        if event.stage not in tasks:
            tasks[event.stage] = bar.add_task(label, total=event.total)
        bar.update(tasks[event.stage], completed=event.done, total=event.total, description=label)

    return report


# ----------------------------------------------------------------------------------------------------------
# assess
# ----------------------------------------------------------------------------------------------------------


def flatten_metrics(metrics: dict, prefix: str = "") -> list[tuple[str, int | float]]:
    """Numeric leaves of a nested metrics dict as ``("macro f1", 0.93)`` rows (matrices left out)."""
    rows: list[tuple[str, int | float]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(flatten_metrics(value, f"{name} "))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            rows.append((name, value))
    return rows
