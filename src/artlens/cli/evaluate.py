"""``artlens evaluate``: measure a trained model on labelled images (the model folder says which kind)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from artlens.cli._app import JsonOpt, app


@app.command()
def evaluate(
    args: Annotated[list[str], typer.Argument(metavar="MODEL [DATA]", help="A model folder and, for a "
                                              "classifier, its labelled data (folder or CSV). "
                                              "`evaluate quality MODEL --labels CSV` also works.")],
    labels: Annotated[Path | None, typer.Option(help="Quality model: CSV with `path` and `label` or "
                                                "`score`.")] = None,
    confusion: Annotated[Path | None, typer.Option(help="Quality model: write the confusion matrix PNG "
                                                   "here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy, precision/recall/F1, ROC-AUC or SRCC/PLCC/RMSE of a trained model on labelled images."""
    from artlens.cli.quality import evaluate_quality

    if args and args[0] == "quality":
        args = args[1:]
    if len(args) == 1 and labels is not None:
        evaluate_quality(Path(args[0]), labels, confusion, as_json)
        return
    raise typer.BadParameter("give a quality model folder and --labels CSV")
