"""Attention: what does reading a ViT's attention cost, and how long do rollout and the views take?

For torchvision's vit_b_16 (random weights, 1x3x224x224) and the bundled zoo:shapes-vit (its
weights where bundled, else the same architecture at random init, seed 0; the time does not
depend on the weights):
- capture overhead: the plain forward against the same forward inside
  ``core.attention.capture_attention`` (every layer's per-head weights recorded), both under
  torch.no_grad and interleaved, the order turning every run (plain, captured, fast path off;
  captured, fast path off, plain; ...), so a change in the machine's load hits all alike; a
  small model repeats its forward within a run (``--min-run-ms``) and times are per forward.
  The ratio is the captured median over the plain median; the median of the per-run ratios is
  printed beside it. "fast path off" is the plain forward with PyTorch's fused attention fast
  path switched off, as inside a capture: it splits the overhead into the unfused attention
  (the weights written out instead of a fused kernel) and the recording itself; "set-up" is
  entering and leaving a capture with no forward inside;
- rollout: ``core.attention.rollout`` alone on the captured weights (mean of heads, discard
  0.9, the method's defaults), plain and gradient-weighted; and the ``rollout`` method end to
  end through ``core.runner.run_method`` (forward, capture, rollout, result), plain and
  gradient-weighted (forward and backward for the top class);
- the ``attention`` method end to end through the runner: every head of the last layer as a
  grid (its default), and one head for a patch query;
- DETR and the captioner: their inference through the runner once the catalogue has
  zoo:shapes-detr and zoo:shapes-captioner (and their methods are registered); until then a
  "not bundled yet" line each.
Budget: capture overhead under 15% (captured / plain < 1.15) on every model.
Times are wall [CPU]: the median wall time, and the mean of the process's CPU time over the
same spans (summed over torch's threads; a mean because the CPU clock may advance in ticks).

    python bench/attention.py [--models torchvision:vit_b_16?weights=none,zoo:shapes-vit]
                              [--threads 1] [--repeats 30] [--method-repeats 5] [--min-run-ms 50]
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from contextlib import contextmanager

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

from workbench.core.attention import capture_attention, rollout  # noqa: E402
from workbench.core.attention.vit import read_attention, read_attention_gradients  # noqa: E402
from workbench.core.runner import context, run_method  # noqa: E402
from workbench.core.samples import sample_image  # noqa: E402
from workbench.core.sources import ModelLoadError, load_model  # noqa: E402
from workbench.plugins import default_registry  # noqa: E402

BUDGET = 1.15
MODELS = ("torchvision:vit_b_16?weights=none", "zoo:shapes-vit")
# bundled models still to come, and the methods that time their inference
PENDING = (("shapes-detr", ("detect", "detr-attention")), ("shapes-captioner", ("caption",)))
WARM_UP = 3


def load(model_id: str):
    """(handle, where its weights came from): a bundled model without its weights file yet is
    its architecture at random init."""
    try:
        handle = load_model(model_id)
    except ModelLoadError:
        if not model_id.startswith("zoo:") or "?" in model_id:
            raise
        return load_model(f"{model_id}?weights=none"), "random init (no weights file yet)"
    return handle, "random init" if "weights=none" in model_id else "weights file"


def sample_for(handle) -> str:
    return "shapes-3" if handle.id.startswith("zoo:shapes") else "scene-0"


def clock():
    return time.perf_counter(), time.process_time()


def since(start) -> tuple[float, float]:
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def timed(fn, repeats: int):
    """(last result, median wall seconds, mean CPU seconds) after one warm-up run."""
    out = fn()
    walls, cpus = [], []
    for _ in range(repeats):
        t0 = clock()
        out = fn()
        wall, cpu = since(t0)
        walls.append(wall)
        cpus.append(cpu)
    return out, statistics.median(walls), statistics.fmean(cpus)


@contextmanager
def fast_path(enabled: bool):
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(enabled)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


def capture_overhead(model, x, repeats: int, min_run_s: float) -> tuple[dict[str, list[tuple[float, float]]], int]:
    """(wall, CPU) seconds per forward of each run of the three forwards, interleaved, and the
    forwards per run (enough for a run to last ``min_run_s``, so a small model's run is not
    mostly timer and scheduler)."""
    def plain():
        model(x)

    def captured():
        with capture_attention(model) as found:
            model(x)
        assert len(found) > 0

    def fast_path_off():
        with fast_path(False):
            model(x)

    runs = {"plain": plain, "captured": captured, "fast path off": fast_path_off}
    order = list(runs)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    with torch.no_grad():
        t0 = clock()
        for _ in range(WARM_UP):
            for fn in runs.values():
                fn()
        inner = max(1, math.ceil(min_run_s / (since(t0)[0] / (WARM_UP * len(runs)))))
        for i in range(repeats):
            for name in order[i % 3:] + order[:i % 3]:
                fn = runs[name]
                t0 = clock()
                for _ in range(inner):
                    fn()
                wall, cpu = since(t0)
                times[name].append((wall / inner, cpu / inner))
    return times, inner


def set_up_cost(model, repeats: int) -> float:
    """Wall seconds (median) to enter and leave a capture around no forward at all: finding the
    attention layers, wrapping and unwrapping them (leaving raises, as no layer ran)."""
    from workbench.core.attention import AttentionCaptureError

    def empty():
        try:
            with capture_attention(model):
                pass
        except AttentionCaptureError:
            pass
    return timed(empty, repeats)[1]


def summed(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """(median wall, mean CPU): the process's CPU clock advances in ticks on some kernels, so one
    short run's CPU time says little and only the mean over many runs is kept."""
    return statistics.median(p[0] for p in pairs), statistics.fmean(p[1] for p in pairs)


def fmt(wall: float, cpu: float) -> str:
    return f"{wall * 1e3:8.2f} ms [{cpu * 1e3:8.2f}]"


def bench(model_id: str, repeats: int, method_repeats: int, min_run_s: float) -> dict:
    handle, source = load(model_id)
    model = handle.module.eval()
    image = sample_for(handle)
    x = handle.preprocess(sample_image(image))
    layers = sum(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"\n{handle.id}: {source}, {params:.1f}M parameters, {layers} attention layers, "
          f"input {tuple(x.shape)} (sample {image})", flush=True)

    times, inner = capture_overhead(model, x, repeats, min_run_s)
    print(f"  {repeats} interleaved runs of each forward, {inner} forward{'s' if inner > 1 else ''} a run; "
          f"times per forward", flush=True)
    plain, captured, unfused = (summed(times[k]) for k in ("plain", "captured", "fast path off"))
    ratio = captured[0] / plain[0]
    per_run = statistics.median(c[0] / p[0] for c, p in zip(times["captured"], times["plain"]))
    verdict = "PASS" if ratio < BUDGET else "FAIL"
    print(f"  forward plain           {fmt(*plain)}", flush=True)
    print(f"  forward fast path off   {fmt(*unfused)}  / plain {unfused[0] / plain[0]:5.3f}x", flush=True)
    print(f"  forward captured        {fmt(*captured)}  / plain {ratio:5.3f}x wall, {captured[1] / plain[1]:5.3f}x "
          f"CPU; median per-run ratio {per_run:5.3f}x   {verdict} (budget < {BUDGET:g}x)", flush=True)
    set_up = set_up_cost(model, max(repeats, 50))
    print(f"  capture set-up alone    {set_up * 1e3:8.2f} ms          = {set_up / plain[0]:5.3f} of the plain forward "
          f"(entering and leaving a capture, no forward)", flush=True)
    row = {"model": handle.id, "plain": plain, "captured": captured, "ratio": ratio, "per_run": per_run,
           "verdict": verdict}

    found = read_attention(model, x)
    weights = list(found.weights)
    _, *mean = timed(lambda: rollout(weights, "mean", 0.9), method_repeats)
    print(f"  rollout() mean          {fmt(*mean)}  ({len(weights)} layers of {tuple(weights[0].shape)}, "
          f"discard 0.9)", flush=True)
    with torch.no_grad():
        target = int(model(x).argmax())
    graded = read_attention_gradients(model, x, target)
    grads = list(graded.gradients)
    _, *grad = timed(lambda: rollout(list(graded.weights), "mean", 0.9, grads), method_repeats)
    zero = "; gradients all zero (random head)" if not bool(graded.gradients.any()) else ""
    print(f"  rollout() gradient      {fmt(*grad)}  (class {target}{zero})", flush=True)
    row["rollout_fn"] = (mean[0], grad[0])

    registry = default_registry()
    ctx = context(handle, sample_image(image))
    centre = f"{found.grid.hw[0] // 2},{found.grid.hw[1] // 2}"
    cases = (("rollout method mean", "rollout", {}),
             ("rollout method gradient", "rollout", {"gradient": True}),
             ("attention method grid", "attention", {}),
             ("attention method 1 head", "attention", {"head": 0, "query": centre}))
    row["methods"] = {}
    for label, method, values in cases:
        _, wall, cpu = timed(lambda: run_method(registry.get(method), ctx, values), method_repeats)
        row["methods"][label] = wall
        print(f"  {label:23s} {fmt(wall, cpu)}  / plain forward {wall / plain[0]:5.2f}x", flush=True)
    return row


def pending(method_repeats: int) -> None:
    """DETR and captioner inference where they are bundled, else a line saying they are not yet."""
    from workbench.zoo.catalogue import ZOO
    registry = default_registry()
    print()
    for name, methods in PENDING:
        if name not in ZOO:
            print(f"zoo:{name}: not bundled yet (no catalogue entry); its inference "
                  f"({', '.join(methods)}) is not measured", flush=True)
            continue
        handle, source = load(f"zoo:{name}")
        ctx = context(handle, sample_image("scene-0"))
        print(f"zoo:{name}: {source}, sample scene-0", flush=True)
        for method in methods:
            if method not in registry or not registry.get(method).applies_to(handle.task):
                print(f"  {method:23s} not registered yet for a {handle.task} model", flush=True)
                continue
            _, wall, cpu = timed(lambda: run_method(registry.get(method), ctx, {}), method_repeats)
            print(f"  {method:23s} {fmt(wall, cpu)}", flush=True)


def summary(rows: list[dict]) -> bool:
    print("\nsummary (wall ms, medians; ratio = captured / plain forward)")
    labels = list(rows[0]["methods"]) if rows else []
    print(f"  {'model':36s} {'plain':>8s} {'captured':>9s} {'ratio':>6s} {'per-run':>7s} {'rollout()':>9s} "
          f"{'grad':>7s} " + " ".join(f"{lab.split(' method ')[0][:4] + ' ' + lab.split(' method ')[1]:>10s}"
                                      for lab in labels) + "  budget")
    for r in rows:
        methods = " ".join(f"{r['methods'][lab] * 1e3:10.1f}" for lab in labels)
        print(f"  {r['model']:36s} {r['plain'][0] * 1e3:8.2f} {r['captured'][0] * 1e3:9.2f} {r['ratio']:5.3f}x "
              f"{r['per_run']:6.3f}x {r['rollout_fn'][0] * 1e3:9.2f} {r['rollout_fn'][1] * 1e3:7.2f} {methods}  "
              f"{r['verdict']}")
    ok = all(r["verdict"] == "PASS" for r in rows)
    worst = max((r["ratio"] for r in rows), default=float("nan"))
    print(f"budget: capture overhead < {(BUDGET - 1) * 100:.0f}% (captured / plain < {BUDGET:g}x) on every model: "
          f"{'PASS' if ok else 'FAIL'} (worst {worst:.3f}x); load average {os.getloadavg()[0]:.1f} at the end")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated model ids")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=30, help="interleaved runs of each forward")
    ap.add_argument("--min-run-ms", type=float, default=50.0,
                    help="small models run their forward this long (repeated) in each interleaved run")
    ap.add_argument("--method-repeats", type=int, default=5, help="runs of each rollout and method timing")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"attention on cpu, torch {torch.__version__}, {torch.get_num_threads()} thread"
          f"{'s' if torch.get_num_threads() > 1 else ''}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; times are wall medians [CPU means]")
    rows = [bench(m.strip(), args.repeats, args.method_repeats, args.min_run_ms / 1e3)
            for m in args.models.split(",")]
    pending(args.method_repeats)
    return 0 if summary(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
