"""The ``stylize`` command: neural style transfer (fast Magenta networks or Gatys optimisation)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from artlens.cli._app import JsonOpt, QuietOpt, app, progress_bar
from artlens.cli.exitcodes import ExitCode
from artlens.cli.output import err, print_json, say_error
from artlens.errors import ArtlensError, ConfigError

#: the longest side of a Gatys output when --size is not given (its time grows with the pixels)
GATYS_DEFAULT_CAP = 512
_IMAGE_OUT = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}


class Method(StrEnum):
    fast = "fast"
    gatys = "gatys"


class Optimizer(StrEnum):
    lbfgs = "lbfgs"
    adam = "adam"


def _style_jobs(specs: list[str]) -> tuple[list[list[tuple[str, object]]], list[str]]:
    """Style jobs as ``[[(label-path, StyleSource), ...], ...]`` (one job per output) and error lines.

    Without weights every style (and every image of a style folder) is its own job; with a ``:weight`` on
    any ``--style`` they are all mixed into one.
    """
    from artlens.imageio import iter_image_files
    from artlens.style import StyleSource, parse_style_spec

    parsed = [parse_style_spec(s) for s in specs]
    mixing = any(str(p.source) != spec for spec, p in zip(specs, parsed, strict=True))  # a :weight was read
    errors: list[str] = []
    expanded: list[tuple[str, StyleSource]] = []
    for spec in parsed:
        source = str(spec.source)
        if source.lower().startswith("preset:"):
            expanded.append((source, spec))
            continue
        path = Path(source)
        if path.is_dir():
            if mixing:
                raise ConfigError(f"--style {source}: a folder cannot take part in a weighted mix")
            files = list(iter_image_files([path]))
            if not files:
                errors.append(f"{source}: no image files in this folder")
            expanded += [(str(f), StyleSource(str(f))) for f in files]
        elif not path.exists():
            errors.append(f"{source}: no such file or folder")
        else:
            expanded.append((source, spec))
    if mixing:
        return ([expanded] if expanded and not errors else []), errors
    return [[item] for item in expanded], errors


@app.command()
def stylize(
    content: Annotated[list[Path] | None, typer.Argument(help="Content images or folders.")] = None,
    style: Annotated[list[str] | None, typer.Option(
        "--style", "-s", help="Style image, folder or preset:NAME; repeat for several. Add :WEIGHT "
        "(painting.jpg:0.7) to mix the styles into one.")] = None,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Output file (one result) or folder; "
                                                  "files are named <content>__<style>.png.")] = None,
    method: Annotated[Method, typer.Option(help="fast: Magenta networks (interactive); gatys: VGG "
                                           "optimisation (slow, finest).")] = Method.fast,
    size: Annotated[int | None, typer.Option(min=16, max=8192, help="Largest longest side of the output in "
                                             "pixels: the content keeps its size up to this (default: no "
                                             f"cap for fast, {GATYS_DEFAULT_CAP} for gatys, whose time grows "
                                             "with the pixels).")] = None,
    strength: Annotated[float, typer.Option(min=0.0, max=1.0, help="0 keeps the content, 1 the full "
                                            "style.")] = 1.0,
    preserve_color: Annotated[bool, typer.Option("--preserve-color", help="Keep the content's colours "
                                                 "(luminance-only transfer).")] = False,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    list_presets: Annotated[bool, typer.Option("--list-presets", help="List the fast method's preset "
                                               "names and exit.")] = False,
    steps: Annotated[str | None, typer.Option(help="gatys: evaluations per scale, coarse to fine "
                                              "(default 100,50,10).")] = None,
    scales: Annotated[str | None, typer.Option(help="gatys: scales as fractions of the output size "
                                               "(default 0.25,0.5,1).")] = None,
    optimizer: Annotated[Optimizer, typer.Option(help="gatys optimiser.")] = Optimizer.lbfgs,
    style_weight: Annotated[float, typer.Option(min=0.0, help="gatys style-loss weight.")] = 1e6,
    content_weight: Annotated[float, typer.Option(min=0.0, help="gatys content-loss weight.")] = 1.0,
    tv_weight: Annotated[float, typer.Option(min=0.0, help="gatys total-variation weight.")] = 1e-2,
    save_every: Annotated[int, typer.Option(min=0, help="gatys: also write the image every N "
                                            "evaluations (<out>.stepNNNNN.png).")] = 0,
    encoder: Annotated[str, typer.Option(help="gatys encoder: auto, vgg19, vgg16_hed.")] = "auto",
    device: Annotated[str | None, typer.Option(help="cpu, cuda, ... (default: CUDA when present).")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Render photos in the style of paintings: every content x every style. Prints each file it wrote.

    Exit status: 0 when every output was written, 1 when some input could not be read (listed), 2 on a
    usage or configuration error.
    """
    from artlens.style import GatysSettings
    from artlens.style import list_presets as presets

    if list_presets:
        names = presets()
        if as_json:
            print_json({"presets": names})
        else:
            print("\n".join(names))
        return
    if not content:
        raise typer.BadParameter("give at least one content image or folder")
    if not style:
        raise typer.BadParameter("give at least one --style")
    if out_path is None:
        raise typer.BadParameter("give --out (a file for one result, a folder for several)")

    def numbers(text: str | None, kind: type) -> tuple | None:
        if text is None:
            return None
        try:
            return tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise typer.BadParameter(f"{text!r}: expected comma-separated numbers") from None

    settings = GatysSettings(optimizer=optimizer.value, style_weight=style_weight,
                             content_weight=content_weight, tv_weight=tv_weight, save_every=save_every)
    overrides = {k: v for k, v in (("steps", numbers(steps, int)), ("scales", numbers(scales, float)))
                 if v is not None}
    if overrides:
        if "scales" in overrides and "steps" not in overrides:
            overrides["steps"] = settings.steps[-1:]
        settings = GatysSettings(**{**settings.__dict__, **overrides})

    from artlens.imageio import collect_inputs

    contents, missing = collect_inputs(content)
    errors = [str(e) for e in missing]
    jobs, style_errors = _style_jobs(style)
    errors += style_errors
    pairs = [(c, job) for c in contents for job in jobs]
    single_file = out_path.suffix.lower() in _IMAGE_OUT and not out_path.is_dir()
    if single_file and len(pairs) > 1:
        raise typer.BadParameter(f"--out {out_path} is a file but there are {len(pairs)} outputs; "
                                 "give a folder")
    for message in errors:
        say_error(message)

    if method == Method.fast and not quiet:
        _say_if_cuda_unused(device)
    cap = size if size is not None or method == Method.fast else GATYS_DEFAULT_CAP
    results = _run(pairs, out_path, single_file, method, cap, strength, preserve_color, seed, settings,
                   encoder, device, quiet, errors)
    if as_json:
        print_json({"outputs": results, "errors": errors})
    else:
        for r in results:
            print(r["output"])
        if not quiet:
            err.print(f"{len(results)} image(s) written ({', '.join(sorted({_px(r) for r in results}))}), "
                      f"{len(errors)} error(s)" if results else f"nothing written, {len(errors)} error(s)",
                      highlight=False, markup=False)
    if errors:
        raise typer.Exit(ExitCode.INPUT_ERRORS)


def _say_if_cuda_unused(device: str | None) -> None:
    """One line when CUDA is there (or asked for) but ONNX Runtime cannot use it for the fast method."""
    from artlens.models.backbones import select_device
    from artlens.style.fast import has_cuda_provider

    try:
        wanted = select_device(device).type == "cuda"
    except ArtlensError:
        return  # an unusable --device is reported where the work starts
    if wanted and not has_cuda_provider():
        err.print("note: the fast method runs on the CPU: this ONNX Runtime has no CUDA provider "
                  "(install onnxruntime-gpu to use the GPU)")


def _px(result: dict) -> str:
    width, height = result["size"]
    return f"{width}x{height} px"


def _run(pairs, out_path: Path, single_file: bool, method: Method, cap: int | None, strength: float,
         preserve_color: bool, seed: int | None, settings, encoder: str, device: str | None, quiet: bool,
         errors: list[str]) -> list[dict]:
    import time

    from artlens.imageio import load_image
    from artlens.style import StyleSource, output_name
    from artlens.style import stylize as run_stylize

    loaded_styles: dict[str, object] = {}
    results: list[dict] = []
    if not single_file:
        out_path.mkdir(parents=True, exist_ok=True)
    elif out_path.parent != Path():
        out_path.parent.mkdir(parents=True, exist_ok=True)
    with progress_bar(quiet, "stylizing") as bar:
        outer = bar.add_task("", total=len(pairs))
        inner = bar.add_task("gatys", total=None, visible=False) if method == Method.gatys else None
        for content, job in pairs:
            labels = [StyleSource(p, s.weight) for p, s in job]
            target = out_path if single_file else out_path / output_name(content, labels)
            try:
                styles = []
                for path, spec in job:
                    if path.lower().startswith("preset:"):
                        styles.append(spec)
                        continue
                    if path not in loaded_styles:
                        loaded_styles[path] = load_image(path).rgb
                    styles.append(StyleSource(loaded_styles[path], spec.weight))

                def progress(stage: int, step: int, total: int, losses: dict, _c=content) -> None:
                    if inner is not None:
                        bar.update(inner, visible=True, completed=step, total=total,
                                   description=f"{_c.name} scale {stage}: style {losses['style']:.3g} "
                                               f"content {losses['content']:.3g}")

                def snapshot(step: int, image, _t=target) -> None:
                    from PIL import Image

                    pixels = (image.clip(0, 1) * 255 + 0.5).astype("uint8")
                    Image.fromarray(pixels).save(_t.with_name(f"{_t.stem}.step{step:05d}.png"))

                start = time.perf_counter()
                result = run_stylize(content, styles, method.value, size=None, max_size=cap,
                                     strength=strength, preserve_color=preserve_color, seed=seed,
                                     settings=settings, encoder=encoder, device=device, progress=progress,
                                     snapshot=snapshot)
                result.save(target)
                results.append({"content": str(content), "styles": [p for p, _ in job],
                                "output": str(target), "size": list(result.size),
                                "seconds": round(time.perf_counter() - start, 3)})
            except ConfigError:
                raise  # a usage error: the same for every pair
            except ArtlensError as exc:
                message = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
                errors.append(message)
                say_error(message)
            except OSError as exc:
                errors.append(f"{target}: cannot write ({exc.strerror or exc})")
                say_error(errors[-1])
            bar.advance(outer)
    return results
