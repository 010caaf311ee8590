"""Every bundled detector on the same held-out scenes: the card's mAP@.5 and mAP@[.5:.95] (the test
split, scored by the trainer) and the CPU time per image of the model's own forward (one thread,
eval mode, batch 1, everything it does from the image to the final boxes: R-CNN's and SPPNet's
selective search included), as the README's table prints them.

    python bench/detectors.py [--scenes 20] [--threads 1] [--repeats 2]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402

from workbench.zoo import catalogue  # noqa: E402
from workbench.zoo import detection_data as data  # noqa: E402


def detectors() -> list[str]:
    return [name for name, entry in catalogue.ZOO.items()
            if entry.task == "detect" and entry.weights_path().is_file()]


def time_per_image(model, images, repeats: int) -> tuple[float, float]:
    """Median wall and CPU seconds per image over ``repeats`` passes (after one warm-up image)."""
    with torch.no_grad():
        model([images[0]])
        walls, cpus = [], []
        for _ in range(repeats):
            for image in images:
                w, c = time.perf_counter(), time.process_time()
                model([image])
                walls.append(time.perf_counter() - w)
                cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    images, _ = data.as_inputs(data.scenes("test", args.scenes))
    print(f"{args.scenes} test scenes, {args.threads} thread(s), median per image\n")
    print("| detector | family | mAP@.5 | mAP@[.5:.95] | CPU ms / image | wall ms / image |")
    print("|---|---|---|---|---|---|")
    for name in detectors():
        entry = catalogue.ZOO[name]
        metrics = entry.card()["metrics"]
        wall, cpu = time_per_image(entry.load(), images, args.repeats)
        print(f"| `zoo:{name}` | {entry.description.split(':')[0]} | {metrics['map_50']:.3f} | "
              f"{metrics['map_50_95']:.3f} | {1000 * cpu:.0f} | {1000 * wall:.0f} |", flush=True)


if __name__ == "__main__":
    main()
