"""Attention: what does reading a ViT's attention cost, and how long do rollout and the views take?

For torchvision's vit_b_16 (random weights, 1x3x224x224) and the bundled zoo:shapes-vit (its
weights where bundled, else the same architecture at random init, seed 0; the time does not
depend on the weights):
- capture overhead: the plain forward against the same forward inside
  ``core.attention.capture_attention`` (every layer's per-head weights recorded), both under
  torch.no_grad and interleaved, the order turning every run (plain, captured, fast path off;
  captured, fast path off, plain; ...), so a change in the machine's load hits all alike.
  The ratio judged against the budget is the median over the runs of captured / plain, each
  captured run against the plain run of the same turn (it holds when the machine's load shifts
  part way, which leaves the two medians on different sides of the shift); the ratio of the
  two medians is printed beside it. "fast path off" is the plain forward with PyTorch's fused attention fast
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
Budget: capture overhead under 15% (median per-turn captured / plain < 1.15) on every model.
Times are medians per call, wall [CPU]; CPU is the process's CPU time, summed over torch's
threads. A run repeats a short call until it lasts ``--min-run-ms`` (a run of a few
milliseconds would be mostly timer and scheduler, and the CPU clock can advance in ticks).

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

from workbench.core.attention import AttentionCaptureError, capture_attention, rollout  # noqa: E402
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


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def calls_per_run(fn, min_run_s: float) -> int:
    """How many calls of ``fn`` last ``min_run_s``: a run of a few milliseconds would be mostly
    timer and scheduler, and the CPU clock can advance in ticks of a few milliseconds."""
    t0 = clock()
    fn()
    return max(1, math.ceil(min_run_s / max(since(t0)[0], 1e-6)))


def run(fn, calls: int) -> tuple[float, float]:
    """(wall, CPU) seconds per call over ``calls`` calls."""
    t0 = clock()
    for _ in range(calls):
        fn()
    wall, cpu = since(t0)
    return wall / calls, cpu / calls


def medians(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def timed(fn, repeats: int, min_run_s: float) -> tuple[float, float]:
    """Median (wall, CPU) seconds per call, after a warm-up call."""
    fn()
    calls = calls_per_run(fn, min_run_s)
    return medians([run(fn, calls) for _ in range(repeats)])


@contextmanager
def fast_path(enabled: bool):
    before = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(enabled)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(before)


FORWARDS = ("plain", "captured", "fast path off")


def capture_overhead(model, x, repeats: int, min_run_s: float) -> tuple[dict[str, list[tuple[float, float]]], int]:
    """(wall, CPU) seconds per forward of every run of the three forwards, interleaved with the
    order turning each run, and the forwards per run (the same for all three)."""
    def plain():
        model(x)

    def captured():
        with capture_attention(model) as found:
            model(x)
        assert len(found) > 0

    def fast_path_off():
        with fast_path(False):
            model(x)

    forwards = dict(zip(FORWARDS, (plain, captured, fast_path_off)))
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in FORWARDS}
    with torch.no_grad():
        for _ in range(WARM_UP):
            for fn in forwards.values():
                fn()
        calls = calls_per_run(plain, min_run_s)
        for i in range(repeats):
            turn = i % len(FORWARDS)
            for name in FORWARDS[turn:] + FORWARDS[:turn]:
                times[name].append(run(forwards[name], calls))
    return times, calls


def set_up_cost(model, repeats: int, min_run_s: float) -> float:
    """Median wall seconds to enter and leave a capture with no forward inside: finding the
    attention layers, wrapping and unwrapping them (leaving raises, as no layer ran)."""
    def empty():
        try:
            with capture_attention(model):
                pass
        except AttentionCaptureError:
            pass
    return timed(empty, repeats, min_run_s)[0]


def fmt(wall: float, cpu: float) -> str:
    return f"{wall * 1e3:9.2f} ms [{cpu * 1e3:9.2f}]"


def bench(model_id: str, repeats: int, method_repeats: int, min_run_s: float) -> dict:
    handle, source = load(model_id)
    model = handle.module.eval()
    image = sample_for(handle)
    x = handle.preprocess(sample_image(image))
    layers = sum(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"\n{handle.id}: {source}, {params:.1f}M parameters, {layers} attention layers, "
          f"input {tuple(x.shape)} (sample {image})", flush=True)

    times, calls = capture_overhead(model, x, repeats, min_run_s)
    plain, captured, unfused = (medians(times[k]) for k in FORWARDS)
    ratio = captured[0] / plain[0]
    per_turn = statistics.median(c[0] / p[0] for c, p in zip(times["captured"], times["plain"]))
    set_up = set_up_cost(model, repeats, min_run_s)
    verdict = "PASS" if per_turn < BUDGET else "FAIL"
    print(f"  {repeats} interleaved runs of each forward, {calls} forward{'s' if calls > 1 else ''} a run, "
          f"times per forward", flush=True)
    print(f"  forward plain           {fmt(*plain)}", flush=True)
    print(f"  forward fast path off   {fmt(*unfused)}  / plain {unfused[0] / plain[0]:5.3f}x wall, "
          f"{unfused[1] / plain[1]:5.3f}x CPU", flush=True)
    print(f"  forward captured        {fmt(*captured)}  / plain {ratio:5.3f}x wall, {captured[1] / plain[1]:5.3f}x "
          f"CPU; per turn {per_turn:5.3f}x   {verdict} (budget < {BUDGET:g}x per turn)", flush=True)
    print(f"  capture set-up alone    {set_up * 1e3:9.2f} ms              = {set_up / plain[0]:5.3f} of the plain "
          f"forward", flush=True)
    row = {"model": handle.id, "plain": plain[0], "captured": captured[0], "ratio": ratio, "per_turn": per_turn,
           "set_up": set_up, "verdict": verdict, "times": {}}

    found = read_attention(model, x)
    weights = list(found.weights)
    with torch.no_grad():
        target = int(model(x).argmax())
    graded = read_attention_gradients(model, x, target)
    gradients, graded_weights = list(graded.gradients), list(graded.weights)
    zero = ", gradients all zero (random head)" if not bool(graded.gradients.any()) else ""
    print(f"  rollout: {len(weights)} layers of {tuple(weights[0].shape)}, mean of heads, discard 0.9; "
          f"gradient-weighted for class {target}{zero}", flush=True)
    registry = default_registry()
    ctx = context(handle, sample_image(image))
    centre = f"{found.grid.hw[0] // 2},{found.grid.hw[1] // 2}"
    cases = (("rollout() mean", lambda: rollout(weights, "mean", 0.9)),
             ("rollout() gradient", lambda: rollout(graded_weights, "mean", 0.9, gradients)),
             ("rollout method mean", lambda: run_method(registry.get("rollout"), ctx, {})),
             ("rollout method gradient", lambda: run_method(registry.get("rollout"), ctx, {"gradient": True})),
             ("attention method grid", lambda: run_method(registry.get("attention"), ctx, {})),
             ("attention method 1 head", lambda: run_method(registry.get("attention"), ctx,
                                                             {"head": 0, "query": centre})))
    for label, fn in cases:
        wall, cpu = timed(fn, method_repeats, min_run_s)
        row["times"][label] = wall
        print(f"  {label:23s} {fmt(wall, cpu)}  / plain forward {wall / plain[0]:5.2f}x", flush=True)
    print(f"  (attention method 1 head: head 0, query patch {centre}; methods run through core.runner.run_method "
          f"on sample {image}, the top class as target)", flush=True)
    return row


def pending(method_repeats: int, min_run_s: float) -> None:
    """DETR and captioner inference where they are bundled, else a line saying they are not yet."""
    from workbench.zoo.catalogue import ZOO
    registry = default_registry()
    print()
    for name, methods in PENDING:
        if name not in ZOO:
            print(f"zoo:{name}: not bundled yet (no catalogue entry); its inference ({', '.join(methods)}) "
                  f"is not measured", flush=True)
            continue
        handle, source = load(f"zoo:{name}")
        ctx = context(handle, sample_image("scene-0"))
        print(f"zoo:{name}: {source}, sample scene-0", flush=True)
        for method in methods:
            if method not in registry or not registry.get(method).applies_to(handle.task):
                print(f"  {method:23s} not registered yet for a {handle.task} model", flush=True)
                continue
            wall, cpu = timed(lambda: run_method(registry.get(method), ctx, {}), method_repeats, min_run_s)
            print(f"  {method:23s} {fmt(wall, cpu)}", flush=True)


CAPTION_SCENES = ("scene-1000000", "scene-1000001", "scene-1000002", "scene-1000003")


def captioner(method_repeats: int, min_run_s: float) -> None:
    """zoo:shapes-captioner per image: the decoder alone (greedy, beam 3) and the caption method
    through the runner (result with every word's map on the image), over a few val scenes."""
    from workbench.zoo.catalogue import ZOO
    from workbench.zoo.captioner import caption
    if "shapes-captioner" not in ZOO:
        print("zoo:shapes-captioner: not bundled yet", flush=True)
        return
    handle, source = load("zoo:shapes-captioner")
    registry = default_registry()
    images = [sample_image(name) for name in CAPTION_SCENES]
    inputs = [handle.preprocess(im) for im in images]
    ctxs = [context(handle, im) for im in images]
    print(f"\nzoo:shapes-captioner: {source}; per image, mean over {len(images)} val scenes", flush=True)
    with torch.no_grad():
        for beam in (1, 3):
            words = sum(len(caption(handle.module, x, beam).words) for x in inputs) / len(inputs)
            wall, cpu = timed(lambda: [caption(handle.module, x, beam) for x in inputs], method_repeats,
                              min_run_s)
            label = f"decode beam {beam}" + (" (greedy)" if beam == 1 else "")
            print(f"  {label:23s} {fmt(wall / len(images), cpu / len(images))}  ({words:.1f} words a caption)",
                  flush=True)
    for beam in (1, 3):
        wall, cpu = timed(lambda: [run_method(registry.get("caption"), c, {"beam_size": beam}) for c in ctxs],
                          method_repeats, min_run_s)
        print(f"  {f'caption method beam {beam}':23s} {fmt(wall / len(images), cpu / len(images))}", flush=True)


SHORT = {"rollout() mean": "roll() mean", "rollout() gradient": "roll() grad", "rollout method mean": "rollout",
         "rollout method gradient": "rollout grad", "attention method grid": "attn grid",
         "attention method 1 head": "attn 1 head"}


def summary(rows: list[dict]) -> bool:
    print("\nsummary (wall ms, medians; per turn: median of captured / plain in the same turn, judged; "
          "medians: ratio of the two medians; rollout(): the function alone; rollout, attn: the methods "
          "through the runner)")
    print(f"  {'model':34s} {'plain':>8s} {'captured':>9s} {'per turn':>8s} {'medians':>7s} {'set-up':>7s} "
          + " ".join(f"{v:>12s}" for v in SHORT.values()) + "  budget")
    for r in rows:
        print(f"  {r['model']:34s} {r['plain'] * 1e3:8.2f} {r['captured'] * 1e3:9.2f} {r['per_turn']:7.3f}x "
              f"{r['ratio']:6.3f}x {r['set_up'] * 1e3:7.3f} "
              + " ".join(f"{r['times'][k] * 1e3:12.2f}" for k in SHORT) + f"  {r['verdict']}")
    ok = all(r["verdict"] == "PASS" for r in rows)
    worst = max((r["per_turn"] for r in rows), default=float("nan"))
    print(f"budget: capture overhead < {(BUDGET - 1) * 100:.0f}% (captured / plain < {BUDGET:g}x per turn) "
          f"on every model: {'PASS' if ok else 'FAIL'} (worst {worst:.3f}x); load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated model ids")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--repeats", type=int, default=30, help="interleaved runs of each forward")
    ap.add_argument("--method-repeats", type=int, default=5, help="runs of each rollout and method timing")
    ap.add_argument("--min-run-ms", type=float, default=50.0,
                    help="a run repeats a short call until it lasts this long; times are per call")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    print(f"attention on cpu, torch {torch.__version__}, {threads} thread{'s' if threads > 1 else ''}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; times are medians, wall [CPU]")
    min_run_s = args.min_run_ms / 1e3
    rows = [bench(m.strip(), args.repeats, args.method_repeats, min_run_s) for m in args.models.split(",")]
    pending(args.method_repeats, min_run_s)
    captioner(args.method_repeats, min_run_s)
    return 0 if summary(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
