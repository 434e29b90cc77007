"""Commands of style and category recognition: train classify, classify, export (evaluate dispatches here)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from artlens.cli._app import JsonOpt, QuietOpt, app, check_inputs, progress_bar, stage_reporter, train_app
from artlens.cli.engine_options import ActorsOpt, AddressOpt, BatchSizeOpt, EngineOpt, GpusOpt, engine_options
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err, print_json, print_table, say_error
from artlens.engine.options import EngineKind


class Mode(StrEnum):
    linear = "linear"
    finetune = "finetune"


class PredictFormat(StrEnum):
    json = "json"
    csv = "csv"


@train_app.command("classify")
def train_classify(
    data: Annotated[Path, typer.Argument(help="Labelled images: a folder of class folders, or a CSV with "
                                         "`path` and one label column per head.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")],
    backbone: Annotated[str | None, typer.Option(help="mobilenet_v2, efficientnet_lite0/1/2, or a "
                                                 "torchvision model whose weights are registered (default: "
                                                 "efficientnet_lite0 in linear mode, mobilenet_v2 in "
                                                 "finetune).")] = None,
    mode: Annotated[Mode, typer.Option(help="linear: heads on cached frozen features (seconds); finetune: "
                                       "also train the last backbone blocks (minutes).")] = Mode.linear,
    epochs: Annotated[int | None, typer.Option(min=1, help="linear: L-BFGS iterations (200); finetune: "
                                               "epochs (10).")] = None,
    val_split: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of each class held out for "
                                             "validation and calibration.")] = 0.2,
    kfold: Annotated[int, typer.Option(min=0, help="K-fold cross-validation instead of one split "
                                       "(0: off).")] = 0,
    seed: Annotated[int, typer.Option(help="Seeds the split, the initialisation and the augmentation.")] = 0,
    unfreeze: Annotated[int, typer.Option(min=0, help="finetune: backbone blocks trained (0: heads).")] = 3,
    lr: Annotated[float, typer.Option(min=0.0, help="finetune: learning rate of the heads (the backbone "
                                      "gets a tenth).")] = 1e-3,
    label_smoothing: Annotated[float, typer.Option(min=0.0, max=0.5, help="finetune.")] = 0.1,
    patience: Annotated[int, typer.Option(min=1, help="finetune: epochs without a better validation "
                                          "macro-F1 before stopping.")] = 3,
    no_augment: Annotated[bool, typer.Option("--no-augment", help="finetune: no random crops, flips or "
                                             "colour jitter.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="finetune: continue an interrupted run from its "
                                         "last checkpoint in --out.")] = False,
    pooling: Annotated[str, typer.Option(help="linear: multi (features of several depths), avg, gem, or "
                                         "auto (avg or multi, chosen by inner cross-validation).")] = "multi",
    framing: Annotated[str, typer.Option(help="linear: auto (cut-outs on a plain background padded to a "
                                         "square so they are seen whole), pad or crop (the centre crop "
                                         "only).")] = "auto",
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a classifier on labelled images by transfer learning from a pretrained backbone."""
    from artlens.classify.data import load_dataset
    from artlens.classify.train.driver import train_classifier

    dataset = load_dataset(data)
    default_backbone = "mobilenet_v2" if mode == Mode.finetune else "efficientnet_lite0"
    settings: dict[str, object] = {"backbone": backbone or default_backbone, "val_split": val_split,
                                   "kfold": kfold, "seed": seed}
    if epochs is not None:
        settings["epochs"] = epochs
    if mode == Mode.finetune:
        from artlens.classify.train.augment import AugmentSettings

        settings.update(unfreeze=unfreeze, lr=lr, label_smoothing=label_smoothing, patience=patience,
                        resume=resume, augment=AugmentSettings.none() if no_augment else AugmentSettings())
    elif resume:
        raise typer.BadParameter("--resume applies to --mode finetune (linear training reuses its feature "
                                 "cache anyway)")
    else:
        settings.update(pooling=pooling, framing=framing)
    with progress_bar(quiet, "training") as bar:
        summary = train_classifier(dataset, out_dir, mode=mode.value, progress=stage_reporter(bar),
                                   **settings)
    if as_json:
        print_json(summary)
        return
    for skipped in summary.get("skipped", []):
        err.print(f"skipped {skipped['path']}: {skipped['reason']}", highlight=False, markup=False)
    if not quiet:
        _print_head_metrics(summary["heads"], f"validation ({'k-fold' if kfold >= 2 else 'held-out split'})")
        err.print(f"model written to {out_dir}")


def _print_head_metrics(heads: dict, title: str) -> None:
    columns = ("head", "images", "accuracy", "macro F1", "ROC-AUC", "temperature")
    rows = []
    for head, r in heads.items():
        m = r.get("metrics", r)
        auc = m.get("roc_auc")
        rows.append((escape(head), str(m.get("n", "")), f"{m['accuracy']:.3f}", f"{m['macro']['f1']:.3f}",
                     "—" if auc is None else f"{auc:.3f}",
                     f"{r['temperature']:.2f}" if "temperature" in r else "—"))
    print_table(columns, rows, right=columns[1:], title=title)


def evaluate_classifier_command(model_dir: Path, data: Path, out_dir: Path | None, as_json: bool) -> None:
    """``artlens evaluate MODEL DATA`` for a classifier folder."""
    from artlens.classify.data import load_dataset
    from artlens.classify.evaluate import evaluate_classifier
    from artlens.classify.model import load_classifier

    clf = load_classifier(model_dir)
    dataset = load_dataset(data)
    with progress_bar(as_json, "evaluating") as bar:
        task = bar.add_task("", total=len(dataset))
        result = evaluate_classifier(
            clf, dataset, out_dir=out_dir,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    if as_json:
        print_json(result)
        return
    _print_head_metrics(result["heads"], f"artlens evaluate — {model_dir} on {result['n']} images")
    columns = ("head", "class", "precision", "recall", "F1", "support")
    rows = ((escape(head), escape(name), f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}",
             str(c["support"]))
            for head, m in result["heads"].items() for name, c in m.get("per_class", {}).items())
    print_table(columns, rows, right=columns[2:], title="per class")
    for skipped in result["skipped"]:
        err.print(f"skipped {skipped['path']}: {skipped['reason']}", highlight=False, markup=False)
    files = result["files"]
    for head, png in files.get("confusion", {}).items():
        err.print(f"confusion matrix ({head}): {png}", highlight=False)
    if "misclassified_html" in files:
        err.print(f"{len(result['misclassified'])} misclassified: {files['misclassified_html']}",
                  highlight=False)


@app.command()
def classify(
    model_dir: Annotated[Path, typer.Argument(metavar="MODEL", help="Model folder from `artlens train "
                                              "classify` (with --zero-shot: the first image).")],
    paths: Annotated[list[Path] | None, typer.Argument(help="Image files or folders (walked recursively).")]
    = None,
    fmt: Annotated[PredictFormat | None, typer.Option("--format", "-f", help="File format of --out; default "
                                                      "from its suffix, else JSON.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the predictions here (default: "
                                                  "a table on stdout, JSON with --json).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="Classes listed per head.")] = 3,
    explain: Annotated[Path | None, typer.Option(help="Write a Grad-CAM overlay per image into this folder "
                                                 "(where the first head saw its class).")] = None,
    max_pixels: Annotated[int, typer.Option(min=1, help="Refuse images with more pixels than this.")]
    = 50_000_000,
    min_score: Annotated[float | None, typer.Option("--min-score", min=0.0, max=1.0, help="Also answer "
                                                    "\"unknown\" when the calibrated top probability is "
                                                    "below this.")] = None,
    engine: EngineOpt = EngineKind.local,
    address: AddressOpt = None,
    actors: ActorsOpt = 0,
    batch_size: BatchSizeOpt = 0,
    gpus_per_actor: GpusOpt = 0.0,
    zero_shot: Annotated[list[str] | None, typer.Option("--zero-shot", help="Category names, comma-separated "
                                                        "(or the option repeated): classify from the names "
                                                        "alone with the alignment; no MODEL.")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Predict the class (and every head's class) of images, with calibrated probabilities.

    An image unlike the trained classes is marked "unknown": true (its most probable class stays in
    "label"): by the threshold the model chose on its held-out split at training (energy score), or when
    its calibrated top probability is below --min-score.

    Exit status: 0 when every file was classified, 1 when some could not be read (they are listed).
    """
    from artlens.classify.model import load_classifier
    from artlens.classify.predict import classify_paths, write_csv, write_json
    from artlens.engine.engines import make_engine

    if zero_shot:
        from artlens.cli.align import zero_shot_command

        zero_shot_command(zero_shot, [model_dir, *(paths or [])], None, quiet, as_json)
        return
    if not paths:
        raise typer.BadParameter("name the images to classify after MODEL")
    if fmt == PredictFormat.csv and out_path is None:
        raise typer.BadParameter("--format csv needs --out")
    as_json = as_json or (fmt == PredictFormat.json and out_path is None)
    if fmt is None:
        as_csv = out_path is not None and out_path.suffix.lower() == ".csv"
        fmt = PredictFormat.csv if as_csv else PredictFormat.json
    options = engine_options(engine, address, actors, batch_size, gpus_per_actor)
    check_inputs(paths)
    # Grad-CAM needs gradients through PyTorch; ONNX Runtime serves the plain predictions
    clf = load_classifier(model_dir)
    on_image = None
    if explain is not None:
        from artlens.classify.explain import write_grad_cam

        used: set[str] = set()

        def on_image(record: dict, rgb: object) -> None:
            stem = Path(record["path"]).stem
            name = stem if stem not in used else f"{stem}-{len(used)}"
            used.add(name)
            record["explanation"] = write_grad_cam(clf, rgb, explain / f"{name}.gradcam.png")

    with progress_bar(quiet, "classifying") as bar:
        task = bar.add_task("", total=None)
        report = classify_paths(clf, paths, top_k=top_k, max_pixels=max_pixels, on_image=on_image,
                                engine=make_engine(options) if options.is_ray else None,
                                **({"batch_size": batch_size} if batch_size else {}),
                                min_score=min_score,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))
    if out_path is not None:
        (write_csv if fmt == PredictFormat.csv else write_json)(report, out_path)
        if not quiet:
            err.print(f"{len(report['images'])} image(s) classified; written to {out_path}", highlight=False)
    if as_json:
        print_json(report)
    elif out_path is None:
        _print_predictions(report)
    if explain is not None and not quiet:
        err.print(f"Grad-CAM overlays written to {explain}")
    for error in report["errors"]:
        say_error(error["error"])
    if report["errors"]:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


def _print_predictions(report: dict) -> None:
    """One row per image and head: the class, its probability and the runners-up."""
    heads = list(report["model"]["heads"])
    rows = []
    for image in report["images"]:
        for head in heads:
            p = image["heads"][head]
            others = ", ".join(f"{escape(label)} {score:.0%}" for label, score in p["topk"][1:])
            cells = [escape(image["path"]), escape(p["label"]), f"{p['score']:.0%}", others or "—"]
            rows.append(cells if len(heads) == 1 else [cells[0], escape(head), *cells[1:]])
    columns = ("image", "class", "probability", "next")
    print_table(columns if len(heads) == 1 else (columns[0], "head", *columns[1:]), rows,
                right={"probability"}, title=f"artlens classify — {report['model']['path']}")


@app.command()
def export(
    model_dir: Annotated[Path, typer.Argument(metavar="MODEL", help="Classifier or quality model folder.")],
    onnx: Annotated[bool, typer.Option("--onnx", help="Write model.onnx (a classifier uses it with ONNX "
                                       "Runtime from then on on a CPU).")] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Quality model: export into a copy in "
                                                 "this folder (required for the shipped model).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a trained classifier or quality model for deployment (ONNX), checked against PyTorch to 1e-4."""
    from artlens.iqa.config import is_quality_model

    if not onnx:
        raise typer.BadParameter("choose a format: --onnx")
    if is_quality_model(model_dir):
        from artlens.iqa.export import export_onnx as export_quality

        result = export_quality(model_dir, out=out_dir)
        if as_json:
            print_json(result)
        else:
            diff = result["max_abs_diff"]
            err.print(f"{result['path']} written ({result['bytes'] / 1e6:.1f} MB, opset {result['opset']}); "
                      f"largest difference from PyTorch {diff['raw']:.1e} (raw), {diff['quality']:.1e} "
                      f"(quality)", highlight=False)
        return
    from artlens.classify.export import export_onnx

    if out_dir is not None:
        raise typer.BadParameter("--out applies to quality models; a classifier is exported in its folder")
    result = export_onnx(model_dir)
    if as_json:
        print_json(result)
    else:
        err.print(f"{result['path']} written ({result['bytes'] / 1e6:.1f} MB, opset {result['opset']}); "
                  f"largest difference from PyTorch {result['max_abs_diff']:.1e}", highlight=False)
