"""Throughput of ``artlens assess`` on the local engine and on Ray (1 and 2 actors), in one run, on real
1080x800 photos; then a simulated 2-node Ray cluster (``ray.cluster_utils.Cluster``, 1 CPU per node) on the
same machine, with the map tasks each node ran.

Every figure is images per second over a whole ``run_assessment`` (default policy ``general``, learned model
included, results store off): worker or actor start-up and model loading are inside it, the listing, the
verdicts and the report too. The local Ray instance is started once before the timed runs; its start-up is
printed separately. Ray starts its workers 15 nice levels below the process that started it; the script
sets ``RAY_worker_niceness=0`` so that the actors run at the priority of the local engine's workers, which
matters only on a machine whose cores other work shares. The runs alternate (local, Ray 1, Ray 2, then
again with ``--rounds 2``), so drift in a shared machine's speed falls on every engine alike.

    .venv/bin/python benchmarks/scale_ray.py [--images 2048] [--rounds 1] [--batch-size 4] [--json out.json]
        [--images-small N]   # Ray with 1 actor and the 2-node run on the first N photos only (a busy machine)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import sys
import time
from pathlib import Path

from artlens.assess.analyse import AnalysisSettings
from artlens.assess.pipeline import AssessRun, run_assessment
from artlens.assess.policy import load_policy
from artlens.engine.options import EngineOptions
from artlens.engine.ray_session import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _photos import many_photos


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _run(paths: list[str], engine: EngineOptions, workers: int) -> float:
    policy = load_policy("general")
    run = AssessRun(policy=policy, settings=AnalysisSettings.for_policy(policy), workers=workers,
                    use_store=False, engine=engine)
    start = time.perf_counter()
    report = run_assessment(paths, run)
    elapsed = time.perf_counter() - start
    assert report["summary"]["assessed"] == len(paths), report["errors"][:3]
    return len(paths) / elapsed


def _node_shares(ray) -> dict[str, int]:
    """Finished map tasks per node (Ray's state API), by node: where the actors did the work."""
    from ray.util.state import list_tasks

    time.sleep(3)  # task states reach the state API a moment after the tasks finish
    tasks = list_tasks(filters=[("state", "=", "FINISHED")], limit=10_000, detail=True)
    counts: collections.Counter[str] = collections.Counter()
    for task in tasks:
        if "MapWorker" in (task.name or "") and "submit" in (task.name or ""):
            counts[(task.node_id or "?")[:8]] += 1
    return dict(counts)


def _two_nodes(paths: list[str], batch_size: int) -> dict[str, object]:
    """Assess ``paths`` on a simulated cluster of 2 nodes with 1 CPU each (2 actors)."""
    import ray
    from ray.cluster_utils import Cluster

    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    try:
        cluster.wait_for_nodes()
        options = EngineOptions(kind="ray", address=cluster.address, actors=2, batch_size=batch_size)
        connect(cluster.address)
        nodes = [n["NodeID"][:8] for n in ray.nodes() if n["Alive"]]
        speed = _run(paths, options, 0)
        shares = _node_shares(ray)
    finally:
        ray.shutdown()
        cluster.shutdown()
    return {"nodes": nodes, "images_per_s": round(speed, 2), "map_tasks_per_node": shares}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=1, help="times each engine runs (alternating)")
    parser.add_argument("--batch-size", type=int, default=4, help="images per Ray task")
    parser.add_argument("--workers", type=int, default=2, help="local engine: worker processes")
    parser.add_argument("--images-small", type=int, default=0,
                        help="Ray with 1 actor and the 2-node run on only the first N photos (0: all)")
    parser.add_argument("--skip-two-nodes", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    paths = [str(p) for p in many_photos(args.images)]
    results: dict[str, object] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}",
        "images": len(paths), "size": "1080x800", "batch_size": args.batch_size, "load_before": _load(),
    }
    print(f"{len(paths)} photos of 1080x800; load average before: {results['load_before']}", flush=True)
    niceness = "RAY_worker_niceness"  # Ray's own spelling of this setting
    os.environ.setdefault(niceness, "0")  # actors at the local workers' priority (see the docstring)
    results["ray_worker_niceness"] = os.environ[niceness]
    start = time.perf_counter()
    ray = connect(None, num_cpus=os.cpu_count())
    results["ray_version"] = ray.__version__
    results["ray_start_s"] = round(time.perf_counter() - start, 2)
    print(f"local Ray instance started in {results['ray_start_s']} s", flush=True)
    engines = {
        "local": (EngineOptions(), args.workers),
        "ray_1_actor": (EngineOptions(kind="ray", actors=1, batch_size=args.batch_size), 0),
        "ray_2_actors": (EngineOptions(kind="ray", actors=2, batch_size=args.batch_size), 0),
    }
    small = paths[:args.images_small] if args.images_small else paths
    results["images_ray_1_actor_and_two_nodes"] = len(small)
    runs: dict[str, list[float]] = {name: [] for name in engines}
    for round_ in range(args.rounds):
        for name, (options, workers) in engines.items():
            speed = _run(small if name == "ray_1_actor" else paths, options, workers)
            runs[name].append(round(speed, 2))
            print(f"round {round_ + 1} {name:>13}: {speed:.2f} images/s (load {_load()})", flush=True)
    results["images_per_s"] = runs
    best = {name: max(v) for name, v in runs.items()}
    results["ray_2_actors_over_local"] = round(best["ray_2_actors"] / best["local"], 3)
    print(f"Ray with 2 actors / local engine: {results['ray_2_actors_over_local']:.3f}", flush=True)
    if not args.skip_two_nodes:
        results["two_nodes"] = _two_nodes(small, args.batch_size)
        print(f"simulated 2 nodes x 1 CPU: {json.dumps(results['two_nodes'])}", flush=True)
    results["load_after"] = _load()
    print(f"load average after: {results['load_after']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
