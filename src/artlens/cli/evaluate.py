"""``artlens evaluate``: measure a trained model on labelled images (the model folder says which kind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from artlens.cli._app import JsonOpt, app
from artlens.imageio import DEFAULT_MAX_PIXELS


def _is_gan(model: Path) -> bool:
    try:
        config = json.loads((model / "config.json").read_text(encoding="utf-8"))
        return config.get("format") == "artlens.gan/1"
    except (OSError, ValueError, AttributeError):
        return False


def _is_classifier(model: Path) -> bool:
    from artlens.classify.model import SCHEMA

    try:
        return json.loads((model / "config.json").read_text(encoding="utf-8")).get("schema") == SCHEMA
    except (OSError, ValueError, AttributeError):
        return False


@app.command()
def evaluate(
    args: Annotated[list[str], typer.Argument(metavar="MODEL [DATA]", help="A model folder and, for a "
                                              "classifier, its labelled data (folder of class folders or "
                                              "CSV). `evaluate quality MODEL --labels CSV` also works; "
                                              "`evaluate gan MODEL REAL_FOLDER` scores a GAN.")],
    labels: Annotated[Path | None, typer.Option(help="Quality model: CSV with `path` and `label` or "
                                                "`score`.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Classifier: folder for the "
                                                 "confusion matrix PNG per head and misclassified.html.")]
    = None,
    confusion: Annotated[Path | None, typer.Option(help="Quality model: write the confusion matrix PNG "
                                                   "here.")] = None,
    features: Annotated[str | None, typer.Option(help="GAN: the network whose features KID and FD compare, "
                                                 "efficientnet_lite0 (default) or mobilenet_v2.")] = None,
    max_pixels: Annotated[int, typer.Option(min=1, help="GAN: skip real images with more pixels than this "
                                            "(each named).")] = DEFAULT_MAX_PIXELS,
    as_json: JsonOpt = False,
) -> None:
    """Accuracy, precision/recall/F1, ROC-AUC (or SRCC/PLCC/RMSE) of a trained model on labelled images."""
    if args and (args[0] == "gan" or _is_gan(Path(args[0]))):
        from artlens.cli.generate import evaluate_gan_command

        args = args[1:] if args[0] == "gan" else args
        if len(args) != 2:
            raise typer.BadParameter("evaluate a GAN with: artlens evaluate gan MODEL REAL_FOLDER")
        evaluate_gan_command(Path(args[0]), Path(args[1]), as_json, features, max_pixels)
        return
    explicit_quality = bool(args) and args[0] == "quality"
    if explicit_quality:
        args = args[1:]
    if not args:
        raise typer.BadParameter("give a model folder")
    model = Path(args[0])
    if not explicit_quality and _is_classifier(model):
        from artlens.cli.classify import evaluate_classifier_command

        if len(args) != 2:
            raise typer.BadParameter("a classifier needs its labelled data: artlens evaluate MODEL DATA")
        evaluate_classifier_command(model, Path(args[1]), out_dir, as_json)
        return
    from artlens.cli.quality import evaluate_quality

    if len(args) != 1 or labels is None:
        raise typer.BadParameter("evaluate a quality model with: artlens evaluate quality MODEL --labels CSV")
    evaluate_quality(model, labels, confusion, as_json)
