"""``artlens train gan``, ``artlens generate`` and ``artlens evaluate gan``: creative generation (GAN)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from artlens.cli._app import JsonOpt, QuietOpt, app, check_inputs, progress_bar, stage_reporter, train_app
from artlens.cli.output import err, print_json, print_table


class Arch(StrEnum):
    fastgan = "fastgan"
    dcgan = "dcgan"


def _bad_file(exc: Exception) -> None:
    err.print(f"skipped {exc}", highlight=False, markup=False)


@train_app.command("gan")
def train_gan_command(
    folder: Annotated[Path, typer.Argument(help="A folder of images of one kind (100-5,000).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model folder to write.")] = Path("gan-model"),
    size: Annotated[int, typer.Option(help="Image side: 64, 128 or 256 (32 for tests).")] = 64,
    minutes: Annotated[float | None, typer.Option(min=0.0, help="Training time budget (over resumed runs "
                                                  "too).")] = None,
    kimg: Annotated[float | None, typer.Option(min=0.0, help="Budget in thousands of real images shown.")]
    = None,
    arch: Annotated[Arch, typer.Option(help="fastgan (default) or the dcgan baseline.")] = Arch.fastgan,
    width: Annotated[int | None, typer.Option(min=4, help="Base channel count (fastgan 16, dcgan 32).")]
    = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 16,
    lr: Annotated[float, typer.Option(min=0.0)] = 2e-4,
    no_diffaugment: Annotated[bool, typer.Option("--no-diffaugment", help="Train without DiffAugment.")]
    = False,
    projected: Annotated[bool, typer.Option("--projected", help="fastgan: judge images on frozen "
                                            "EfficientNet-Lite0 features (Projected GAN) instead of "
                                            "FastGAN's own discriminator.")] = False,
    tick: Annotated[int, typer.Option(min=1, help="Steps between sample grids and checkpoints.")] = 100,
    seed: Annotated[int, typer.Option(help="Seeds everything: a CPU run is repeatable.")] = 0,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, auto (default: $ARTLENS_DEVICE or auto).")]
    = None,
    max_pixels: Annotated[int | None, typer.Option(min=1, help="Skip image files with more pixels than this "
                                                   "(default 50 million).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --out exactly "
                                         "(a larger budget extends the run).")] = False,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Train a small-data GAN (FastGAN + DiffAugment) on a folder; sample grids go to OUT/samples/."""
    from artlens.gan import GanTrainSettings, train_gan

    check_inputs([folder])
    if minutes is None and kimg is None:
        minutes = 15.0
    settings = GanTrainSettings(arch=arch.value, size=size, width=width, batch_size=batch_size, lr=lr,
                                diffaugment=False if no_diffaugment else None, tick=tick, seed=seed,
                                discriminator="projected" if projected else None)
    with progress_bar(quiet, "training") as bar:
        result = train_gan(folder, out, settings=settings, kimg=kimg, minutes=minutes, resume=resume,
                           device=device, max_pixels=max_pixels, on_error=_bad_file,
                           progress=stage_reporter(bar))
    summary = {"model": str(result.folder), "steps": result.steps, "kimg": round(result.kimg, 3),
               "train_minutes": round(result.train_seconds / 60, 2),
               "images_per_second": round(result.images_per_second, 2),
               "images": result.model.config.training.get("images")}
    if as_json:
        print_json(summary)
        return
    print_table(("", ""), [(k.replace("_", " "), str(v)) for k, v in summary.items()], show_header=False)


@app.command()
def generate(
    model: Annotated[Path, typer.Argument(help="A GAN model folder (artlens train gan).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the images, or with --interpolate "
                                      "the walk's file (.gif, or .png for a strip).")],
    n: Annotated[int, typer.Option("-n", min=1, max=10000, help="Images to generate.")] = 64,
    grid_path: Annotated[Path | None, typer.Option("--grid", help="Also write them as one grid PNG.")] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same images.")] = 0,
    truncation: Annotated[float | None, typer.Option(min=0.0, help="Cut the latent at ±T (e.g. 0.7): "
                                                     "more typical, less varied images.")] = None,
    interpolate: Annotated[int | None, typer.Option(min=2, help="Write a latent walk of this many frames "
                                                    "between two random points instead.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """New images from a trained GAN, a grid of them, or a latent walk (GIF or strip)."""
    from artlens.gan import GanModel, grid, save_walk
    from artlens.gan import generate as sample
    from artlens.gan import interpolate as walk

    gan = GanModel.load(model)
    if interpolate is not None:
        path = save_walk(walk(gan, interpolate, seed=seed, truncation=truncation), out)
        result: dict[str, Any] = {"walk": str(path), "frames": interpolate}
    else:
        images = sample(gan, n, seed=seed, truncation=truncation)
        out.mkdir(parents=True, exist_ok=True)
        files = []
        for i, im in enumerate(images):
            files.append(out / f"sample-{seed}-{i:05d}.png")
            im.save(files[-1])
        result = {"folder": str(out), "images": len(files), "size": gan.config.size}
        if grid_path is not None:
            grid_path.parent.mkdir(parents=True, exist_ok=True)
            grid(images).save(grid_path)
            result["grid"] = str(grid_path)
    if as_json:
        print_json(result)
        return
    print_table(("", ""), [(k, str(v)) for k, v in result.items()], show_header=False)


def evaluate_gan_command(model: Path, real: Path, as_json: bool, features: str | None = None,
                         max_pixels: int | None = None) -> None:
    """``artlens evaluate gan MODEL REAL_FOLDER [--features NET]``: KID, FD and the memorisation check."""
    from artlens.gan import evaluate_gan
    from artlens.gan.features import FEATURES, SECOND_FEATURES

    if features not in (None, FEATURES, SECOND_FEATURES):
        raise typer.BadParameter(f"--features is {FEATURES} (the default) or {SECOND_FEATURES}, "
                                 f"not {features}")
    check_inputs([real])
    report = evaluate_gan(model, real, on_error=_bad_file, features=features or FEATURES,
                          max_pixels=max_pixels)
    if as_json:
        print_json(report)
        return
    mem = report["memorisation"]
    rows = [("features", report["features"]), ("real images", str(report["real_images"])),
            ("generated", str(report["generated_images"])),
            (f"KID ({report['features']})", f"{report['kid']:.5f} ± {report['kid_stderr']:.5f} "
                                            f"(std over subsets {report['kid_std']:.5f})"),
            (f"FD ({report['features']})", f"{report['fd']:.3f}"),
            ("precision / recall", f"{report['precision']:.3f} / {report['recall']:.3f} "
                                   f"(k = {report['precision_recall_k']}; low recall: little variety)"),
            ("near copies", f"{mem['near_copies']} (distance < {mem['near_copy_threshold']:.4f})"),
            ("closer than training images", f"{mem['share_closer_than_train']:.1%}")]
    print_table(("", ""), rows, show_header=False)
