"""Style transfer at 2 threads: fast latency; Gatys, the PyTorch tutorial's recipe vs artlens's schedule.

One run measures:

* ``fast`` latency of :func:`artlens.style.stylize` at 512 and 1024 px (median of warm runs; the style vector
  is cached, as it is for a batch or an interactive session);
* ``gatys``: the PyTorch "Neural Transfer Using PyTorch" tutorial's recipe (single-scale L-BFGS from the
  content image, 300 loss evaluations, style weight 1e6, content weight 1, its layers: style conv1_1,
  conv1_2, conv2_1, conv2_2, conv3_1, content conv2_2, pixels clamped to [0, 1] in every evaluation) against
  artlens's coarse-to-fine default schedule on the *same objective* (same layers and weights, no TV term),
  same images, same encoder; and, to show what the schedule itself buys, the same objective with artlens's
  optimiser (L-BFGS with a strong-Wolfe line search) single-scale for as many evaluations as the tutorial.
  Every final image is scored by the same function at full resolution.

Images: content = scikit-image's ``astronaut`` (NASA, public domain); style = a procedural brush-stroke
texture drawn by this script (there is no painting in scikit-image; no licence issues). The output images go
to a contact sheet PNG. Prints a markdown table and JSON.

Usage::

    python benchmarks/style_speed.py                  # the recorded run (about 15 min on 2 cores)
    python benchmarks/style_speed.py --quick --sheet /tmp/sheet.png   # smoke test
"""

from __future__ import annotations

import argparse
import json
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
from artlens.style.gatys import _Objective, _to_tensor, evaluate, optimise
from artlens.style.vgg import load_encoder

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_LAYERS = dict(style_layers=("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1"),
                       content_layers=("conv2_2",), style_weight=1e6, content_weight=1.0, tv_weight=0.0)


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


def tutorial_recipe(encoder, content: np.ndarray, style: np.ndarray,
                    steps: int) -> tuple[np.ndarray, float, int]:
    """The tutorial's optimisation loop, re-implemented on artlens's encoder and losses."""
    settings = GatysSettings(**TUTORIAL_LAYERS)
    start = time.perf_counter()
    x = _to_tensor(content, "cpu").contiguous()
    objective = _Objective(encoder, settings, x, [(_to_tensor(style, "cpu"), 1.0)], tuple(x.shape[-2:]))
    x = x.clone().requires_grad_(True)
    optimiser = torch.optim.LBFGS([x])  # the tutorial's defaults: lr 1, max_iter 20, no line search
    count = [0]

    def closure() -> torch.Tensor:
        with torch.no_grad():
            x.clamp_(0, 1)
        optimiser.zero_grad()
        loss, _ = objective(x)
        loss.backward()
        count[0] += 1
        return loss

    while count[0] <= steps:
        optimiser.step(closure)
    with torch.no_grad():
        x.clamp_(0, 1)
    image = x.detach()[0].permute(1, 2, 0).numpy()
    return image, time.perf_counter() - start, count[0]


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
    parser.add_argument("--sheet", type=Path, default=ROOT / "docs/images/style-contact-sheet.png")
    args = parser.parse_args()
    torch.set_num_threads(2)
    get_stylizer(threads=2)  # ONNX Runtime: 2 intra-op threads
    from skimage import data

    size = args.size or (128 if args.quick else 512)
    steps = 100 if args.quick else 300
    astronaut = data.astronaut()
    style_full = brush_strokes(512)

    fast = {s: fast_latency(astronaut, style_full, s, 3 if args.quick else 10) for s in (512, 1024)}

    encoder = load_encoder("vgg16_hed")
    content = cv2.resize(astronaut, (size, size), interpolation=cv2.INTER_AREA)
    style = cv2.resize(style_full, (size, size), interpolation=cv2.INTER_AREA)
    objective = GatysSettings(**TUTORIAL_LAYERS)
    tut_img, tut_s, tut_n = tutorial_recipe(encoder, content, style, steps)
    tut_loss = evaluate(encoder, tut_img, content, [(style, 1.0)], objective)

    # the same objective and artlens's optimiser (L-BFGS with a line search), but single-scale: what the
    # coarse-to-fine schedule buys over a well-behaved single-scale run
    single_settings = replace(GatysSettings(**TUTORIAL_LAYERS), scales=(1.0,), steps=(steps,))
    start = time.perf_counter()
    single = optimise(encoder, content, [(style, 1.0)], (size, size), single_settings)
    single_s = time.perf_counter() - start
    single_loss = evaluate(encoder, single.image, content, [(style, 1.0)], objective)

    ours_settings = GatysSettings(**TUTORIAL_LAYERS)  # artlens's default schedule on the same objective
    if args.quick:
        ours_settings = replace(ours_settings, steps=tuple(max(1, s // 3) for s in ours_settings.steps))
    start = time.perf_counter()
    ours = optimise(encoder, content, [(style, 1.0)], (size, size), ours_settings)
    ours_s = time.perf_counter() - start
    ours_loss = evaluate(encoder, ours.image, content, [(style, 1.0)], objective)

    fast_img = np.asarray(stylize(astronaut, style_full, size=512))
    kept = np.asarray(stylize(astronaut, style_full, size=512, preserve_color=True))
    sheet_bytes = contact_sheet([("content: astronaut", astronaut), ("style: procedural strokes", style_full),
                                 ("fast 512", fast_img), ("fast, preserve colour", kept),
                                 (f"gatys tutorial {tut_s:.0f} s", tut_img),
                                 (f"gatys artlens {ours_s:.0f} s", ours.image)], args.sheet)

    def weighted(loss: dict) -> dict:
        return {"style_x1e6": loss["style"] * 1e6, "content": loss["content"],
                "total": loss["style"] * 1e6 + loss["content"]}

    result = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, torch threads 2, ORT intra-op 2",
        "date": time.strftime("%Y-%m-%d"), "quick": args.quick,
        "fast_latency_s": {str(k): round(v, 4) for k, v in fast.items()},
        "gatys": {"size": size, "encoder": encoder.name,
                  "tutorial": {"seconds": round(tut_s, 1), "evaluations": tut_n, **weighted(tut_loss)},
                  "single_scale_line_search": {"seconds": round(single_s, 1),
                                               "evaluations": single.evaluations, **weighted(single_loss)},
                  "artlens": {"seconds": round(ours_s, 1), "evaluations": ours.evaluations,
                              "schedule": {"scales": ours_settings.scales, "steps": ours_settings.steps,
                                           "optimizer": ours_settings.optimizer}, **weighted(ours_loss)}},
        "images": "content: skimage astronaut (public domain); style: procedural brush strokes (this script)",
        "contact_sheet": {"path": str(args.sheet), "bytes": sheet_bytes},
    }
    print("| measure | value |\n|---|---|")
    print(f"| fast latency, 512 px | {fast[512]:.3f} s |\n| fast latency, 1024 px | {fast[1024]:.3f} s |")
    for name in ("tutorial", "single_scale_line_search", "artlens"):
        r = result["gatys"][name]
        print(f"| gatys {name} ({size} px) | {r['seconds']} s, {r['evaluations']} evaluations, style x1e6 "
              f"{r['style_x1e6']:.3g}, content {r['content']:.3g}, total {r['total']:.3g} |")
    print(f"| time ratio artlens / tutorial | {ours_s / tut_s:.2f} |")
    print(f"| time ratio artlens / single-scale with line search | {ours_s / single_s:.2f} |")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
