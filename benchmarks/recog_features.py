"""Extract, once, every frozen-feature variant the recognition experiments compare, and cache them as .npz.

For each labelled set (``benchmarks/_labelled_sets.py``) and backbone, one pass per image and one per its
mirror image through the trunk (the maps of several blocks taken on the way, ``StageMaps``) gives:

* ``avg``: the last convolution's maps, average-pooled (what ``artlens train classify`` used so far);
* ``gem``: the same maps GeM-pooled, p = 3 (Radenović, Tolias and Chum, TPAMI 2019);
* ``multi``: average-pooled maps of several depths, concatenated (Hosu et al., CVPR 2019), the last
  convolution's included.

``--framing pad|auto`` frames each image first (:mod:`artlens.classify.framing`: ``pad`` pads every image
to a square with its border colour, ``auto`` only those with a plain border, i.e. cut-outs), and the
variants are named ``avg-pad``, ``multi-auto`` and so on.

Files: ``.data/recog-cache/<set>-<backbone>-<variant>-<flip|plain>.npz`` with ``x`` (N, D), ``sha256``,
``labels``, ``groups`` and ``classes``; plus ``<set>-timing.json`` (seconds, load average).
Run it under ``nice -n 10`` with one thread (the cores are shared):

    nice -n 10 .venv/bin/python benchmarks/recog_features.py [--sets scratch openclipart styles]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _labelled_sets import DATA, SETS
from artlens.classify.framing import FRAMINGS, frame_image
from artlens.classify.pooling import PooledTrunk, gem_pool
from artlens.imageio import load_image
from artlens.models.backbones import configure_threads, get_backbone

CACHE = DATA / "recog-cache"
BACKBONES = ("mobilenet_v2", "efficientnet_lite0")


def extract(set_name: str, backbones: list[str], batch: int = 16,
            passes: tuple[str, ...] = ("plain", "flip"), framing: str = "crop") -> None:
    """Decode each image of the set once (framed), and run every backbone on it and on its mirror image."""
    suffix = "" if framing == "crop" else f"-{framing}"
    data = SETS[set_name]()
    shas = [hashlib.sha256(p.read_bytes()).hexdigest() for p in data.paths]
    nets = {name: get_backbone(name, device="cpu") for name in backbones}
    multi = {name: PooledTrunk(net.trunk, "multi") for name, net in nets.items()}
    last_maps: list[torch.Tensor] = []
    for net in nets.values():
        net.trunk.register_forward_hook(lambda _m, _i, out: last_maps.append(out))
    out: dict[tuple[str, str, str], list[np.ndarray]] = {}
    seconds = dict.fromkeys(backbones, 0.0)
    load_s = 0.0
    for start in range(0, len(data.paths), batch):
        t_load = time.perf_counter()
        rgbs = [frame_image(load_image(p).rgb, framing) for p in data.paths[start:start + batch]]
        load_s += time.perf_counter() - t_load
        for name, net in nets.items():
            t0 = time.perf_counter()
            x = torch.stack([net.preprocess(im) for im in rgbs])
            for flip in passes:
                xi = x.flip(3) if flip == "flip" else x
                last_maps.clear()
                with torch.inference_mode():
                    feats = multi[name](xi.contiguous(memory_format=torch.channels_last))
                    last = last_maps[-1]
                    out.setdefault((name, f"avg{suffix}", flip), []).append(last.mean(dim=(2, 3)).numpy())
                    out.setdefault((name, f"gem{suffix}", flip), []).append(gem_pool(last).numpy())
                out.setdefault((name, f"multi{suffix}", flip), []).append(feats.numpy())
            seconds[name] += time.perf_counter() - t0
        done = min(start + batch, len(data.paths))
        print(f"{set_name}: {done}/{len(data.paths)}", file=sys.stderr, flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    for (name, variant, flip), chunks in out.items():
        np.savez(CACHE / f"{set_name}-{name}-{variant}-{flip}.npz", x=np.concatenate(chunks),
                 sha256=np.asarray(shas), labels=data.labels, groups=data.groups,
                 classes=np.asarray(data.classes), paths=np.asarray([str(p) for p in data.paths]))
    timing = {"set": set_name, "backbones": backbones, "passes": list(passes), "framing": framing,
              "n": len(data.paths),
              "network_s_two_passes": seconds, "decode_s": load_s,
              "stages": {name: list(m.stages) for name, m in multi.items()}, "load_average": os.getloadavg(),
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": torch.get_num_threads()}
    timing_path = CACHE / f"{set_name}-{'+'.join(backbones)}{suffix}-timing.json"
    timing_path.write_text(json.dumps(timing, indent=2) + "\n")
    print(json.dumps(timing), file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONES))
    parser.add_argument("--passes", nargs="+", default=["plain", "flip"], choices=["plain", "flip"],
                        help="the image, its mirror image, or both")
    parser.add_argument("--framing", default="crop", choices=FRAMINGS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    configure_threads(args.threads)
    for set_name in args.sets:
        extract(set_name, args.backbones, passes=tuple(args.passes), framing=args.framing)


if __name__ == "__main__":
    main()
