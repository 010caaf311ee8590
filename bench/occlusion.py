"""Occlusion: captum's Occlusion against the workbench's incremental evaluator, in one run.

For resnet18, resnet50 and vgg16 (random weights, 1x3x224x224, window 16, stride 8, zero
baseline) and the bundled classifiers (zoo:shapes-cnn, zoo:digits-cnn on a sample image, with
the method's default window): captum at perturbations_per_eval 1, 8 and 32, ours exact and ours
approximate. Prints wall times (CPU times in brackets), the ratio captum-best / ours, the
exact map's max abs difference relative to the map's max abs value, a float64 check of both
maps on the windows where they differ most (which of the two float32 maps is off), and the
approximate map's SSIM against the exact map.

    python bench/occlusion.py [--models resnet18,zoo:shapes-cnn] [--threads 1] [--repeats 3]
                              [--skip-slow-captum]

--skip-slow-captum leaves out captum at perturbations_per_eval 1 on vgg16 (many minutes on a
small CPU, and never captum's best there); the output says so where it is skipped.
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from captum.attr import Occlusion  # noqa: E402

from workbench.core.occlusion import WindowGrid, baseline_tensor, ssim, sweep  # noqa: E402
from workbench.core.occlusion.batched import BatchedModel  # noqa: E402

MODELS = ("resnet18", "resnet50", "vgg16", "zoo:shapes-cnn", "zoo:digits-cnn")
PPES = (1, 8, 32)


def load_case(name: str):
    """(model, input, window, stride) for a benchmark model."""
    if name.startswith("zoo:"):
        from workbench.core.methods.occlusion import Params, window_and_stride
        from workbench.core.samples import sample_image
        from workbench.core.sources import load_model
        handle = load_model(name)
        sample = "digit-3" if "digit" in name else "shapes-3"
        x = handle.preprocess(sample_image(sample))
        window, stride = window_and_stride(Params(), *x.shape[-2:])
        return handle.module.eval(), x, window, stride
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    return model, torch.randn(1, 3, 224, 224), 16, 8


def timed(fn, repeats: int):
    """(result, median wall seconds, median CPU seconds)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return out, statistics.median(walls), statistics.median(cpus)


def captum_map(model, x, window, stride, base, target, ppe):
    c = x.shape[1]
    with torch.no_grad():
        attr = Occlusion(model).attribute(x, sliding_window_shapes=(c, window, window), strides=(c, stride, stride),
                                          baselines=base, target=target, perturbations_per_eval=ppe)
    return attr[0, 0].numpy()


def our_run(model, x, window, stride, base, target, mode, batch):
    """The final update: its map, and in approximate mode the reach it settled on."""
    grid = WindowGrid(x.shape[-2], x.shape[-1], window, stride)
    return list(sweep(model, x, target, grid, base, mode, batch_size=batch))[-1]


def float64_check(model, x, grid: WindowGrid, base, target, ours: np.ndarray, ref: np.ndarray, count: int = 8):
    """On the windows where our map and captum's disagree most: the error of each one's
    occluded score (the clean score minus its drop) against a float64 forward, as a share of
    the map's max |value| (ours, captum's). Both subtract their drops from the same float32
    clean score, so its own error is left out."""
    mine, theirs = grid.drops_of(ours), grid.drops_of(ref)
    worst = np.argsort(-np.abs(mine - theirs))[:count]
    with torch.no_grad():
        clean = float(model(x)[0, target])
    m64 = BatchedModel(copy.deepcopy(model).double(), x.double(), base.double(), grid.boxes())
    truth = m64.outputs(worst)[:, target].numpy()
    scale = float(np.abs(ref).max())
    return (float(np.abs(clean - mine[worst] - truth).max() / scale),
            float(np.abs(clean - theirs[worst] - truth).max() / scale))


def macs_saved(model, x, window, stride, batch):
    """Conv multiply-adds of plain occlusion over ours: with each window's exact dirty region,
    and with the boxes our batches really compute."""
    from workbench.core.occlusion.batches import Batcher
    from workbench.core.occlusion.incremental import IncrementalModel
    from workbench.core.occlusion.plan import ALIAS, INPUT, POINTWISE, SPATIAL, dirty_macs
    grid = WindowGrid(x.shape[-2], x.shape[-1], window, stride)
    evaluator = IncrementalModel(model, x, torch.zeros_like(x), grid.boxes())
    plan, full_macs, box_macs = evaluator.plan, 0.0, 0.0
    for idx in Batcher(plan, grid.shape, batch).batches(np.arange(len(grid))):
        whole: dict[str, bool] = {}
        for st in plan.steps:
            if st.kind == INPUT:
                whole[st.name] = False
            elif st.kind == ALIAS:
                whole[st.name] = whole.get(st.source, True)
            elif st.kind in (SPATIAL, POINTWISE):
                box = evaluator._box(st.name, idx, any(whole.get(a, True) for a in st.dynamic))
                whole[st.name] = box.full
                if st.kind == SPATIAL and st.spatial.macs:
                    h, w = plan.hw(st.name)
                    full_macs += st.spatial.macs * h * w * len(idx)
                    box_macs += st.spatial.macs * box.h * box.w * len(idx)
            elif st.dynamic:
                whole[st.name] = True
    return full_macs / dirty_macs(plan), full_macs / box_macs


def fmt(wall: float, cpu: float) -> str:
    return f"{wall:7.2f}s [{cpu:6.2f}]"


SLOW_CAPTUM = {"vgg16": (1,)}     # (model, ppe) runs that --skip-slow-captum leaves out


def bench(name: str, repeats: int, big_repeats: int, batch: int, skip_slow: bool = False) -> dict:
    model, x, window, stride = load_case(name)
    with torch.no_grad():
        target = int(model(x).argmax())
    base = baseline_tensor(x, "zero", window)
    grid = WindowGrid(x.shape[-2], x.shape[-1], window, stride)
    reps = repeats if x.shape[-1] < 128 else big_repeats
    print(f"\n{name}: input {tuple(x.shape)}, window {window}, stride {stride}, {len(grid)} windows, "
          f"repeats {reps}", flush=True)
    exact_saved, box_saved = macs_saved(model, x, window, stride, batch)
    print(f"  conv MACs saved: {exact_saved:.2f}x with exact dirty regions, {box_saved:.2f}x with our batch boxes",
          flush=True)
    captum = {}
    for ppe in PPES:
        if skip_slow and ppe in SLOW_CAPTUM.get(name, ()):
            print(f"  captum ppe {ppe:<3d}      skipped (--skip-slow-captum); best taken over the others", flush=True)
            continue
        ref, wall, cpu = timed(lambda: captum_map(model, x, window, stride, base, target, ppe), reps)
        captum[ppe] = (wall, cpu)
        print(f"  captum ppe {ppe:<3d}      {fmt(wall, cpu)}", flush=True)
    best_ppe = min(captum, key=lambda k: captum[k][0])
    best_wall, best_cpu = captum[best_ppe]
    row = {"model": name, "captum": captum, "best_ppe": best_ppe}
    exact, wall, cpu = timed(lambda: our_run(model, x, window, stride, base, target, "exact", batch).attribution, reps)
    diff = float(np.abs(exact - ref).max() / np.abs(ref).max())
    row["exact"] = (wall, cpu, best_wall / wall, diff)
    print(f"  ours exact         {fmt(wall, cpu)}  captum-best (ppe {best_ppe}) / ours: "
          f"{best_wall / wall:5.2f}x wall, {best_cpu / cpu:5.2f}x CPU   max|diff|/max|map| {diff:.1e}", flush=True)
    mine64, theirs64 = float64_check(model, x, grid, base, target, exact, ref)
    print(f"  float64 check      on the 8 windows where the maps differ most, occluded score error / max|map|: "
          f"ours {mine64:.1e}, captum {theirs64:.1e}", flush=True)
    approx, wall, cpu = timed(lambda: our_run(model, x, window, stride, base, target, "approximate", batch), reps)
    sim = ssim(exact, approx.attribution)
    row["approximate"] = (wall, cpu, best_wall / wall, sim)
    print(f"  ours approximate   {fmt(wall, cpu)}  captum-best / ours: {best_wall / wall:5.2f}x wall, "
          f"{best_cpu / cpu:5.2f}x CPU   SSIM vs exact {sim:.3f}   reach {approx.reach or 'uncut'}", flush=True)
    return row


def summary(rows: list[dict]) -> None:
    print("\nsummary (wall seconds; ratio = captum-best / ours)")
    print(f"  {'model':16s} {'captum 1':>9s} {'captum 8':>9s} {'captum 32':>9s} {'exact':>8s} {'ratio':>6s} "
          f"{'max|d|/max':>10s} {'approx':>8s} {'ratio':>6s} {'SSIM':>6s}")
    for r in rows:
        c = [f"{r['captum'][p][0]:9.2f}" if p in r["captum"] else f"{'skipped':>9s}" for p in PPES]
        e, a = r["exact"], r["approximate"]
        print(f"  {r['model']:16s} {' '.join(c)} {e[0]:8.2f} {e[2]:5.2f}x {e[3]:10.1e} {a[0]:8.2f} {a[2]:5.2f}x "
              f"{a[3]:6.3f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per setting for the small models")
    ap.add_argument("--big-repeats", type=int, default=1, help="runs per setting at 224x224")
    ap.add_argument("--batch", type=int, default=24, help="our batch size")
    ap.add_argument("--skip-slow-captum", action="store_true",
                    help="leave out captum at perturbations_per_eval 1 on vgg16 (it takes many minutes)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; times are medians, wall [CPU]")
    rows = [bench(name.strip(), args.repeats, args.big_repeats, args.batch, args.skip_slow_captum)
            for name in args.models.split(",")]
    summary(rows)


if __name__ == "__main__":
    main()
