"""Batch throughput: the bundled classifier's saliency and occlusion over the shapes world, in this
process (the plain loop, at 1 thread and at every core's thread) and on a local Ray cluster with 1 and
2 workers (one thread each), in one run. Printed per setting: the whole run's wall time (Ray's start
and each actor's model load included), the steady rate in images/s once every worker has finished
its first item, and the ratios that matter: Ray's per-item overhead against the plain loop at the
same thread count, and the scaling from 1 to 2 workers. Every run's npz is compared item for item
with the plain loop's.

    python bench/batch.py [--saliency 200] [--occlusion 40]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench.core.batch.run import run_batch  # noqa: E402
from workbench.plugins import default_registry  # noqa: E402

MODEL = "zoo:shapes-cnn"


def timed_run(method: str, images: str, out: Path, workers: int) -> tuple[float, float, list[dict]]:
    """(wall seconds, steady images/s, rows): steady from the moment every worker has a first result."""
    stamps: list[float] = []
    start = time.perf_counter()
    table = run_batch(default_registry().get(method), MODEL, images, out, workers=workers,
                      on_progress=lambda p: stamps.append(time.perf_counter()) if p.last else None)
    wall = time.perf_counter() - start
    warm = max(1, workers)
    steady = (len(stamps) - warm) / (stamps[-1] - stamps[warm - 1]) if len(stamps) > warm + 1 else float("nan")
    return wall, steady, table.to_pylist()


def same_results(rows: list[dict], out: Path, reference: list[dict], reference_out: Path) -> bool:
    for a, b in zip(rows, reference):
        with np.load(out / a["npz"]) as x, np.load(reference_out / b["npz"]) as y:
            if a["key"] != b["key"] or any(not np.allclose(x[k], y[k], rtol=1e-4, atol=1e-6)
                                           for k in x.files if k != "params"):
                return False
    return len(rows) == len(reference)


def bench(method: str, count: int, root: Path) -> None:
    images = f"dataset:shapes:{count}"
    cores = os.cpu_count() or 1
    print(f"\n{method}, {count} shapes-world images (64x64), {MODEL}; load average "
          f"{os.getloadavg()[0]:.1f} on {cores} cores")
    results = {}
    for label, workers, threads in (("plain loop, 1 thread", 0, 1), (f"plain loop, {cores} threads", 0, cores),
                                    ("Ray, 1 worker", 1, 1), ("Ray, 2 workers", 2, 1)):
        torch.set_num_threads(threads)
        out = root / f"{method}-{workers}-{threads}"
        wall, steady, rows = timed_run(method, images, out, workers)
        results[label] = (wall, steady, rows, out)
        print(f"  {label:24s} {wall:7.1f} s wall   {steady:7.2f} images/s steady")
    ref_rows, ref_out = results["plain loop, 1 thread"][2:]
    for label, (_wall, _steady, rows, out) in results.items():
        if label != "plain loop, 1 thread":
            print(f"  {label:24s} same npz as the plain loop, item for item: {same_results(rows, out, ref_rows, ref_out)}")
    plain, one, two = (results[k][1] for k in ("plain loop, 1 thread", "Ray, 1 worker", "Ray, 2 workers"))
    print(f"  Ray's per-item overhead (1 worker against the 1-thread loop): "
          f"{1000 * (1 / one - 1 / plain):+.1f} ms per image ({plain / one:.2f}x the loop's time)")
    print(f"  scaling from 1 to 2 Ray workers: {two / one:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--saliency", type=int, default=200, help="images for saliency")
    parser.add_argument("--occlusion", type=int, default=40, help="images for occlusion")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.saliency:
            bench("saliency", args.saliency, Path(tmp))
        if args.occlusion:
            bench("occlusion", args.occlusion, Path(tmp))


if __name__ == "__main__":
    main()
