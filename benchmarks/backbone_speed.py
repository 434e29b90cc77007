"""Images per second of each shipped backbone's pooled features, in one run (so the loads compare).

Decoded 480x360 RGB images (the Scratch backgrounds, repeated) to pooled features, preprocessing included,
batches of 32, PyTorch on ``--threads`` threads; rounds alternate the backbones so that a change in the
machine's load touches each alike. Prints one line per backbone and JSON (with the load average).

    nice -n 5 .venv/bin/python benchmarks/backbone_speed.py [--backbones ...] [--images 64] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _labelled_sets import SETS
from artlens.imageio import load_image
from artlens.models.backbones import configure_threads, get_backbone

BACKBONES = ("mobilenet_v2", "efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES))
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    threads = configure_threads(args.threads)
    rgbs = [load_image(p).rgb for p in SETS["scratch"]().paths]
    images = (rgbs * (args.images // len(rgbs) + 1))[:args.images]
    nets = {name: get_backbone(name, device="cpu") for name in args.backbones}
    seconds = dict.fromkeys(nets, 0.0)
    load_before = os.getloadavg()
    for net in nets.values():
        net.features(images[:32], batch_size=32)  # warm-up
    for _ in range(args.rounds):
        for name, net in nets.items():
            t0 = time.perf_counter()
            net.features(images, batch_size=32)
            seconds[name] += time.perf_counter() - t0
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": threads,
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "images_per_s": {n: args.rounds * len(images) / s for n, s in seconds.items()},
              "input_size": {n: net.spec.input_size for n, net in nets.items()}}
    for name, speed in result["images_per_s"].items():
        print(f"{name:20s} {result['input_size'][name]} px  {speed:6.1f} images/s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
