"""Style transfer at 2 threads: fast latency; Gatys, the previous default schedule against the current one.

One run measures:

* ``fast`` latency of :func:`artlens.style.stylize` at 512 and 1024 px (median of warm runs; the style vector
  is cached, as it is for a batch or an interactive session);
* ``gatys`` at 512 px on the default objective (style relu1_1...relu5_1, content relu4_2, style weight 1e6,
  TV 0.01), same images, same encoder, one after the other in the same process:

  - ``previous``: the schedule artlens shipped until 2026-12-05 (evaluations 200/100/60 at 1/4, 1/2 and full
    size, early stopping after 20 evaluations under 0.2 %) on the NCHW encoder;
  - ``current``: :class:`~artlens.style.GatysSettings`'s defaults on the channels-last encoder.

  Both final images are scored by the same function at full size. Wall time, the process's CPU time and the
  1-minute load average before and after each run are recorded (the machine may be shared).
* with ``--tutorial``: the PyTorch "Neural Transfer Using PyTorch" tutorial's recipe (single-scale L-BFGS
  without line search, 300 steps, its conv layers) on the same encoder, the table recorded on 2026-11-23.

Images: content = scikit-image's ``astronaut`` (NASA, public domain); style = a procedural brush-stroke
texture drawn by this script (there is no painting in scikit-image; no licence issues). The output images go
to a contact sheet PNG. Prints a markdown table and JSON.

Usage::

    python benchmarks/style_speed.py                  # the recorded run
    python benchmarks/style_speed.py --quick --sheet /tmp/sheet.png   # smoke test (128 px, few steps)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw

from artlens.style import GatysSettings, stylize
from artlens.style.fast import get_stylizer
from artlens.style.gatys import content_loss, evaluate, gram_matrix, optimise, style_loss
from artlens.style.vgg import VGGEncoder, load_encoder

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_LAYERS = dict(style_layers=("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"),
                       content_layers=("conv2_2",), style_weight=1e6, content_weight=1.0, tv_weight=0.0)
#: the default schedule until 2026-12-05
PREVIOUS = GatysSettings(scales=(0.25, 0.5, 1.0), steps=(200, 100, 60), patience=20, min_improvement=2e-3)


def brush_strokes(size: int, seed: int = 0) -> np.ndarray:
    """A procedural 'painting': short thick strokes in blues and yellows following a swirling flow field."""
    rng = np.random.default_rng(seed)
    palette = np.array([[20, 40, 110], [40, 80, 160], [70, 120, 200], [230, 200, 60], [250, 230, 120],
                        [20, 30, 60], [120, 160, 210], [200, 120, 40]])
    img = np.full((size, size, 3), (30, 50, 100), np.uint8)
    for _ in range(6 * size):
        x, y = rng.uniform(0, 1, 2)
        colour = np.clip(palette[rng.integers(len(palette))] + rng.integers(-20, 21, 3), 0, 255)
        points = []
        for _ in range(8):
            swirl = 2 * np.sin(3 * np.pi * x) + 2 * np.cos(4 * np.pi * y)
            angle = swirl + np.arctan2(y - 0.5, x - 0.5) + np.pi / 2
            points.append((x * size, y * size))
            x, y = x + 0.012 * np.cos(angle), y + 0.012 * np.sin(angle)
        cv2.polylines(img, [np.int32(points)], False, tuple(int(c) for c in colour),
                      thickness=max(2, size // 90), lineType=cv2.LINE_AA)
    return img


def fast_latency(content: np.ndarray, style: np.ndarray, size: int, repeats: int) -> float:
    stylize(content, style, size=size)  # warm: sessions loaded, style vector cached
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        stylize(content, style, size=size)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32) / 255.0)[None]


def tutorial_recipe(encoder: VGGEncoder, content: np.ndarray, style: np.ndarray,
                    steps: int) -> tuple[np.ndarray, float, int]:
    """The tutorial's optimisation loop, on artlens's encoder and losses."""
    s = GatysSettings(**TUTORIAL_LAYERS)
    start = time.perf_counter()
    x = _tensor(content)
    with torch.no_grad():
        content_target = {k: v.clone() for k, v in encoder(x, s.content_layers).items()}
        style_target = {k: gram_matrix(v).clone() for k, v in encoder(_tensor(style), s.style_layers).items()}
    x = x.clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS([x])  # the tutorial's defaults: lr 1, max_iter 20, no line search
    count = [0]

    def closure() -> torch.Tensor:
        with torch.no_grad():
            x.clamp_(0, 1)
        optimiser.zero_grad()
        feats = encoder(x, [*s.style_layers, *s.content_layers])
        loss = s.style_weight * style_loss(feats, style_target) + content_loss(feats, content_target)
        loss.backward()
        count[0] += 1
        return loss

    while count[0] <= steps:
        optimiser.step(closure)
    with torch.no_grad():
        x.clamp_(0, 1)
    return x.detach()[0].permute(1, 2, 0).numpy(), time.perf_counter() - start, count[0]


def profile_evaluations(encoder: VGGEncoder, side: int = 256, steps: int = 4) -> dict:
    """Shares of the CPU time of a short single-scale optimisation (2 threads), by kind of operator."""
    from torch.profiler import ProfilerActivity, profile

    rgb = cv2.resize(brush_strokes(side, seed=1), (side, side))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        optimise(encoder, rgb, [(brush_strokes(side), 1.0)], (side, side),
                 GatysSettings(scales=(1.0,), steps=(steps,)))
    totals = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    groups = {"convolution and its backward": ("convolution",), "Gram matrices (bmm)": ("aten::bmm",),
              "ReLU and its backward": ("clamp_min", "threshold_backward"), "pooling": ("max_pool2d",)}
    whole = sum(totals.values())
    shares = {g: sum(v for k, v in totals.items() if any(m in k for m in keys)) / whole
              for g, keys in groups.items()}
    shares["everything else (element-wise, losses, copies)"] = 1 - sum(shares.values())
    return {g: round(v, 3) for g, v in shares.items()}


def evaluation_cost(encoder: VGGEncoder, sides: tuple[int, ...] = (128, 256, 512), repeats: int = 3) -> dict:
    """CPU seconds of one loss evaluation (forward and backward, default layers) on ONE thread, per side.

    One thread does not spin waiting for a second one, so its CPU time hardly depends on what else the machine
    runs; with the evaluation counts of a run it estimates that run's time on idle cores.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    s = GatysSettings()
    layers = [*s.style_layers, *s.content_layers]
    cost = {}
    try:
        for side in sides:
            x = torch.rand(1, 3, side, side, requires_grad=True)
            times = []
            for _ in range(repeats):
                start = time.process_time()
                feats = encoder(x, layers)
                loss = sum(gram_matrix(feats[k]).square().mean() for k in s.style_layers)
                (loss + sum(feats[k].square().mean() for k in s.content_layers)).backward()
                times.append(time.process_time() - start)
            cost[side] = round(statistics.median(times), 3)
    finally:
        torch.set_num_threads(threads)
    return cost


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def timed_gatys(encoder: VGGEncoder, content: np.ndarray, style: np.ndarray, size: int,
                settings: GatysSettings, channels_last: bool) -> dict:
    """One optimisation with the encoder in the given memory format; wall and CPU seconds, load, losses."""
    encoder.channels_last = channels_last
    encoder.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    load_before = load_average()
    wall, cpu = time.perf_counter(), time.process_time()
    result = optimise(encoder, content, [(style, 1.0)], (size, size), settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    load_after = load_average()
    encoder.channels_last = True
    encoder.to(memory_format=torch.channels_last)
    loss = evaluate(encoder, result.image, content, [(style, 1.0)], GatysSettings())
    return {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "load_1min": [load_before, load_after],
            "evaluations": result.evaluations, "channels_last": channels_last,
            "schedule": {"scales": settings.scales, "steps": settings.steps, "patience": settings.patience,
                         "min_improvement": settings.min_improvement},
            "style_x1e6": loss["style"] * 1e6, "content": loss["content"], "tv_x1e-2": loss["tv"] * 1e-2,
            "total": loss["total"], "image": result.image}


def contact_sheet(tiles: list[tuple[str, np.ndarray]], path: Path, side: int = 240) -> int:
    label_h, pad = 18, 4
    sheet = Image.new("RGB", (len(tiles) * (side + pad) + pad, side + label_h + 2 * pad), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, rgb) in enumerate(tiles):
        pixels = rgb if rgb.dtype == np.uint8 else (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
        img = Image.fromarray(pixels)
        scale = side / max(img.size)
        img = img.resize((round(img.width * scale), round(img.height * scale)), Image.LANCZOS)
        x = pad + i * (side + pad)
        sheet.paste(img, (x, pad))
        draw.text((x + 2, pad + side + 3), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, optimize=True)
    if path.stat().st_size > 1_000_000:  # keep docs small
        sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and few steps (smoke test)")
    parser.add_argument("--size", type=int, help="Gatys output size (default 512; 128 with --quick)")
    parser.add_argument("--tutorial", action="store_true", help="also run the PyTorch tutorial's recipe")
    parser.add_argument("--sheet", type=Path, default=ROOT / "docs/images/style-contact-sheet.png")
    parser.add_argument("--evaluation-cost", action="store_true",
                        help="only the one-thread CPU seconds of one evaluation at 128, 256 and 512 px "
                             "(channels-last and NCHW), and a profile of a few evaluations at 256 px")
    args = parser.parse_args()
    if args.evaluation_cost:
        encoder = load_encoder("vgg16_hed")
        found = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "load_1min": load_average(),
                 "one_thread_cpu_s_per_evaluation": evaluation_cost(encoder, repeats=5)}
        encoder.channels_last = False
        encoder.to(memory_format=torch.contiguous_format)
        found["same, NCHW encoder"] = evaluation_cost(encoder, repeats=5)
        encoder.channels_last = True
        encoder.to(memory_format=torch.channels_last)
        found["profile_256px_2_threads"] = profile_evaluations(encoder)
        print(json.dumps(found))
        return
    torch.set_num_threads(2)
    get_stylizer(threads=2)  # ONNX Runtime: 2 intra-op threads
    from skimage import data

    size = args.size or (128 if args.quick else 512)
    astronaut = data.astronaut()
    style_full = brush_strokes(512)
    fast = {s: fast_latency(astronaut, style_full, s, 3 if args.quick else 10) for s in (512, 1024)}

    encoder = load_encoder("vgg16_hed")
    content = cv2.resize(astronaut, (size, size), interpolation=cv2.INTER_AREA)
    style = cv2.resize(style_full, (size, size), interpolation=cv2.INTER_AREA)
    previous, current = PREVIOUS, GatysSettings()
    if args.quick:
        previous = replace(previous, steps=tuple(max(1, s // 5) for s in previous.steps))
        current = replace(current, steps=tuple(max(1, s // 5) for s in current.steps))
    runs = {}
    for name, settings, channels_last in (("current", current, True), ("previous", previous, False)):
        runs[name] = r = timed_gatys(encoder, content, style, size, settings, channels_last)
        Image.fromarray((r["image"] * 255 + 0.5).astype(np.uint8)).save(args.sheet.with_name(
            f"{args.sheet.stem}.gatys-{name}.jpg"), quality=90)  # each result as soon as it exists
        print(json.dumps({name: {k: v for k, v in r.items() if k != "image"}}), flush=True)
    tutorial = None
    if args.tutorial:
        tut_img, tut_s, tut_n = tutorial_recipe(encoder, content, style, 100 if args.quick else 300)
        loss = evaluate(encoder, tut_img, content, [(style, 1.0)], GatysSettings(**TUTORIAL_LAYERS))
        tutorial = {"seconds": round(tut_s, 1), "evaluations": tut_n, "style_x1e6": loss["style"] * 1e6,
                    "content": loss["content"]}

    fast_img = np.asarray(stylize(astronaut, style_full, size=512))
    kept = np.asarray(stylize(astronaut, style_full, size=512, preserve_color=True))
    tiles = [("content: astronaut", astronaut), ("style: procedural strokes", style_full),
             ("fast 512", fast_img), ("fast, preserve colour", kept)]
    tiles += [(f"gatys {name} {r['seconds']:.0f} s", r["image"]) for name, r in runs.items()]
    sheet_bytes = contact_sheet(tiles, args.sheet)

    result = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} logical cores, "
                   "torch threads 2, ORT intra-op 2",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"), "quick": args.quick,
        "fast_latency_s": {str(k): round(v, 4) for k, v in fast.items()},
        "gatys": {"size": size, "encoder": encoder.name,
                  **{name: {k: v for k, v in r.items() if k != "image"} for name, r in runs.items()}},
        "tutorial": tutorial,
        "images": "content: skimage astronaut (public domain); style: procedural brush strokes (this script)",
        "contact_sheet": {"path": str(args.sheet), "bytes": sheet_bytes},
    }
    print("| measure | value |\n|---|---|")
    print(f"| fast latency, 512 px | {fast[512]:.3f} s |\n| fast latency, 1024 px | {fast[1024]:.3f} s |")
    for name, r in runs.items():
        print(f"| gatys {name} ({size} px) | {r['seconds']} s wall, {r['cpu_seconds']} s CPU, load "
              f"{r['load_1min'][0]}->{r['load_1min'][1]}, evaluations {r['evaluations']}, style x1e6 "
              f"{r['style_x1e6']:.4g}, content {r['content']:.4g}, total {r['total']:.4g} |")
    ratio = runs["current"]["seconds"] / runs["previous"]["seconds"]
    print(f"| time ratio current / previous | {ratio:.2f} |")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
