"""Features: how many activation-maximisation steps per second, against a plain loop doing the same.

On the bundled classifier (zoo:shapes-cnn, 64x64 input; ``--models`` adds others, e.g.
``torchvision:resnet18?weights=none``), for each parametrisation (pixels; the colour-decorrelated
Fourier spectrum) and two targets (a class logit: the whole net; a conv2 channel: the forward stops
after conv2):
- ours, end to end: the ``actmax`` method through ``core.runner.run_method`` with its defaults (the
  medium preset: jitter, zoom, total variation, decay, blur every 4 steps; a preview with the
  classifier's probabilities every 8 steps);
- ours, loop alone: ``core.optimize.loop.ascend`` with the same regularisers and no preview;
- ours, no regularisers: the same loop with the preset "none", the work of the plain loop (the
  difference to it is the loop's own cost: hooks placed per step, snapshots, the early stop);
- plain: a reference loop written out here, as a notebook would: the same parametrisation and Adam, a
  forward of the whole model with a forward hook for a channel target, minus the target's score
  backward, no regularisers, no preview.
The three are interleaved, the order turning every round, so a change in the machine's load hits
all alike; each figure is the median over the rounds, wall [CPU] (CPU: the process's CPU time,
summed over torch's threads). The grid mode (every channel of conv3, a batch of 16 images per
loop) is timed once, in images per second.
Then t-SNE, the Projector's scatter, and a style-transfer step (``bench_style``; which extractor
transfers texture best is bench/style_extractors.py).

    python bench/features.py [--steps 128] [--rounds 5] [--threads 1] [--device cpu|cuda]
                             [--models zoo:shapes-cnn,...]
                             [--style-sizes 128,256] [--style-steps 40]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

from workbench.core.methods import actmax  # noqa: E402
from workbench.core.optimize import objectives as O  # noqa: E402
from workbench.core.optimize.loop import ascend, last  # noqa: E402
from workbench.core.optimize.parametrisation import PARAMETRISATIONS, ModelInput, make_image  # noqa: E402
from workbench.core.optimize.regularise import preset  # noqa: E402
from workbench.core.runner import context, run_method  # noqa: E402
from workbench.core.sources import load_model  # noqa: E402
from workbench.core.targets import logits  # noqa: E402


def timed(fn) -> tuple[float, float]:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu


def plain_loop(model, image, score, to_input, steps: int, lr: float = 0.05) -> None:
    """The reference: Adam on the image, minus the score backward, nothing else."""
    opt = torch.optim.Adam(image.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (-score(to_input(image.image()))).sum().backward()
        opt.step()


def channel_score(model, layer_name: str, channel: int):
    layer = dict(model.named_modules())[layer_name]
    seen = {}

    def score(x):
        handle = layer.register_forward_hook(lambda _m, _i, out: seen.__setitem__("out", out))
        try:
            model(x)
        finally:
            handle.remove()
        return seen["out"][:, channel].mean(dim=(1, 2))
    return score


def bench_model(model_id: str, args) -> None:
    handle = load_model(model_id).to(args.device)
    model = handle.module.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    side = tuple(handle.input_size)
    convs = handle.conv_layers()
    early = convs[1] if len(convs) > 1 else convs[0]
    to_input = ModelInput(handle.preprocess, args.device)
    targets = {"class 0": ("class:0", O.class_log_probability(0), lambda x: logits(model(x)).log_softmax(1)[:, 0]),
               f"{early} ch 0": ("channel:0", O.channel(early, 0), channel_score(model, early, 0))}
    print(f"\n{model_id} ({side[0]}x{side[1]}), {args.steps} steps, device {args.device}, "
          f"{torch.get_num_threads()} thread(s); steps per second, wall [CPU]")
    for kind in PARAMETRISATIONS:
        for label, (spec, objective, score) in targets.items():
            runs = {"ours, end to end": [], "ours, loop alone": [], "ours, no regularisers": [], "plain": []}

            def ours():
                run_method(actmax.METHOD, context(handle, None, device=args.device),
                           {"target": spec, "layer": early, "parametrisation": kind, "steps": args.steps})

            def loop_alone():
                gen = torch.Generator().manual_seed(0)
                image = make_image(kind, (1, 3, *side), gen, args.device)
                last(ascend(model, image, objective, to_input, args.steps, 0.05, preset("medium"), gen,
                            every=args.steps))

            def bare_loop():
                gen = torch.Generator().manual_seed(0)
                image = make_image(kind, (1, 3, *side), gen, args.device)
                last(ascend(model, image, objective, to_input, args.steps, 0.05, preset("none"), gen,
                            every=args.steps))

            def plain():
                image = make_image(kind, (1, 3, *side), torch.Generator().manual_seed(0), args.device)
                plain_loop(model, image, score, to_input, args.steps)
            fns = list(zip(runs, (ours, loop_alone, bare_loop, plain)))
            for name, fn in fns:      # warm-up
                fn()
            for r in range(args.rounds):
                turn = fns[r % len(fns):] + fns[: r % len(fns)]
                for name, fn in turn:
                    runs[name].append(timed(fn))
            plain_wall = statistics.median(w for w, _ in runs["plain"])
            print(f"  {kind:8s} {label}:")
            for name, times in runs.items():
                wall = statistics.median(w for w, _ in times)
                cpu = statistics.median(c for _, c in times)
                print(f"    {name:22s} {args.steps / wall:8.0f} /s  [{args.steps / max(cpu, 1e-9):8.0f} /s CPU]"
                      f"  time x{wall / plain_wall:.2f} of plain")
    layer = convs[2] if len(convs) > 2 else convs[-1]
    channels = next(i.output_shape[1] for i in handle.layers() if i.name == layer)
    wall, cpu = timed(lambda: run_method(actmax.METHOD, context(handle, None, device=args.device),
                                         {"target": "channels", "layer": layer, "steps": args.steps,
                                          "max_channels": channels, "batch": 16}))
    print(f"  grid: every channel of {layer} ({channels} images, batches of 16, {args.steps} steps each): "
          f"{wall:.1f} s wall [{cpu:.1f} s CPU], {channels / wall:.1f} images/s")


def shapes_features(n: int):
    """zoo:shapes-cnn's penultimate features (what its classifier reads) over ``n`` shapes, and their labels."""
    from workbench.core.embedding.dataset import load_dataset
    from workbench.core.embedding.features import extract
    data = load_dataset("shapes", n)
    *_, (_done, feats, _logits) = extract(load_model("zoo:shapes-cnn"), data.images, "penultimate")
    return feats, data.labels


def bench_tsne(sizes: list[int], threads: int, perplexity: float = 30.0, k: int = 10) -> None:
    """t-SNE of the same features by ours (openTSNE through core.embedding.project.tsne: EARLY_ITERS
    exaggerated + ITERS plain iterations, FFT gradients from FFT_FROM points, Barnes-Hut below) and by
    scikit-learn's TSNE (Barnes-Hut, PCA init, 750 iterations), in turn in one process, each on
    ``threads`` threads (scikit-learn's gradient runs on OpenMP threads that its n_jobs does not set:
    threadpoolctl caps them). Agreement: the
    share of each point's k nearest neighbours in feature space that are among its k nearest in the
    layout (and the share of its k layout neighbours that carry its label). UMAP, where installed, runs
    after them on the same features; its first run pays numba's compilation."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    from workbench.core.embedding import neighbours as N
    from workbench.core.embedding import project as P
    print(f"\nt-SNE, zoo:shapes-cnn penultimate features of shapes, perplexity {perplexity}, {threads} thread(s), "
          f"k={k}; wall [CPU], neighbour agreement with feature space, label agreement")
    for n in sizes:
        feats, labels = shapes_features(n)
        runs = {"ours (openTSNE, " + P.gradient_method(n) + ")":
                lambda: list(P.tsne(feats, perplexity, 0, threads))[-1][1],
                "scikit-learn TSNE": lambda: TSNE(perplexity=perplexity, init="pca", random_state=0, n_jobs=threads,
                                                  max_iter=750).fit_transform(feats)}
        if P.umap_available():     # for comparison: another layout, not the same objective
            runs["umap-learn (seeded: 1 thread)"] = lambda: P.umap(feats, seed=0)
        for name, fn in runs.items():
            out = {}
            with threadpool_limits(threads):
                wall, cpu = timed(lambda: out.setdefault("xy", fn()))
            agree = N.neighbour_agreement(out["xy"], feats, k)
            label = N.label_agreement(out["xy"], labels, k)
            print(f"  {n:6d} points  {name:28s} {wall:7.1f} s [{cpu:7.1f} s CPU]  agreement {agree:.3f}  "
                  f"labels {label:.3f}")


def bench_scatter(sizes: list[int], rounds: int = 30) -> None:
    """The Projector's scatter (ui.projector.scatter, offscreen, 900x700): the p50 and p95 of a redraw
    with new positions (as each t-SNE partial arrives: the items rebuilt, then painted), of a pan
    (the view moved, then painted) and of a lasso (points tested, ringed, painted), over ``rounds`` of
    each, on clustered points in 10 categories."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np

    from workbench.core.results.embedding import Embedding
    from workbench.qt_app import application
    from matplotlib.path import Path as MplPath

    from workbench.core.embedding.selection import inside
    from workbench.ui.projector.scatter import EmbeddingScatter
    app = application()
    print("\nscatter redraw (offscreen, 900x700), ms p50 / p95")
    for n in sizes:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 10, n)
        centres = rng.normal(scale=30, size=(10, 2))

        def layout():
            return (centres[labels] + rng.normal(size=(n, 2))).astype(np.float32)
        base = dict(labels=labels, predictions=labels, ids=np.arange(n), label_names=[str(i) for i in range(10)],
                    thumbnails=np.zeros((n, 1, 1, 3), np.uint8), features=np.zeros((n, 1), np.float32))
        scatter = EmbeddingScatter()
        scatter.resize(900, 700)
        scatter.show()
        scatter.set_embedding(Embedding(points=layout(), **base))
        app.processEvents()
        redraw, pan = [], []
        for _ in range(rounds):
            e = Embedding(points=layout(), **base)
            t = time.perf_counter()
            scatter.set_embedding(e, keep_view=True)
            scatter.plot_widget.viewport().repaint()
            redraw.append(time.perf_counter() - t)
        vb = scatter.plot.vb
        for r in range(rounds):
            t = time.perf_counter()
            vb.translateBy(x=1.0 if r % 2 else -1.0)
            scatter.plot_widget.viewport().repaint()
            pan.append(time.perf_counter() - t)
        lasso, ours, reference = [], [], []
        points = scatter.embedding.points
        t_round = np.linspace(0, 2 * np.pi, 200, endpoint=False)
        for r in range(rounds):       # a 200-vertex lasso round one cluster: select, ring, paint
            c = centres[r % 10]
            polygon = np.stack([c[0] + 3 * np.cos(t_round), c[1] + 3 * np.sin(t_round) * (1 + 0.3 * np.cos(3 * t_round))], 1)
            t = time.perf_counter()
            hit = np.flatnonzero(inside(points, polygon))
            ours.append(time.perf_counter() - t)
            scatter.mark_lasso(hit)
            scatter.plot_widget.viewport().repaint()
            lasso.append(time.perf_counter() - t)
            t = time.perf_counter()
            MplPath(polygon).contains_points(points)
            reference.append(time.perf_counter() - t)
        scatter.mark_lasso(None)
        q = lambda xs, p: 1000 * float(np.percentile(xs, p))  # noqa: E731
        print(f"  {n:7d} points: redraw {q(redraw, 50):6.1f} / {q(redraw, 95):6.1f}   "
              f"pan {q(pan, 50):6.1f} / {q(pan, 95):6.1f}   lasso {q(lasso, 50):6.1f} / {q(lasso, 95):6.1f}   "
              f"(its point test {q(ours, 50):.1f} ms, matplotlib's contains_points {q(reference, 50):.1f} ms: "
              f"{np.median(reference) / np.median(ours):.2f}x)")
        scatter.close()


def bench_style(sizes: list[int], steps: int, rounds: int, device: str) -> None:
    """A style-transfer step: the ``style`` method end to end (transfer mode, its default extractor and
    layers, one preview at the end) on a 128x128 scene resized to each size; ms per step, wall [CPU],
    the median over ``rounds`` after a warm-up."""
    from workbench.core.methods import style
    from workbench.core.samples import sample_image
    from workbench.core.style.extractor import load_extractor
    handle = load_extractor().to(device)
    content = sample_image("scene-1")
    print(f"\nstyle transfer on {handle.id}, {steps} steps, device {device}, {torch.get_num_threads()} thread(s); "
          f"ms per step, wall [CPU]")
    for size in sizes:
        def run():
            run_method(style.METHOD, context(handle, content, device=device),
                       {"size": size, "steps": steps, "preview_every": steps})
        run()
        times = [timed(run) for _ in range(rounds)]
        wall, cpu = statistics.median(w for w, _ in times), statistics.median(c for _, c in times)
        print(f"  {size:4d} x {size:<4d} px: {1000 * wall / steps:7.1f} ms  [{1000 * cpu / steps:7.1f} ms CPU]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="zoo:shapes-cnn", help="for activation maximisation; empty: skip")
    ap.add_argument("--steps", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--tsne-sizes", default="5000,20000", help="points for t-SNE; empty: skip")
    ap.add_argument("--tsne-threads", type=int, default=1, help="for ours and scikit-learn's alike")
    ap.add_argument("--scatter-sizes", default="10000,100000", help="points for the scatter; empty: skip")
    ap.add_argument("--style-sizes", default="128,256", help="sides for a style-transfer step; empty: skip")
    ap.add_argument("--style-steps", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for model_id in filter(None, args.models.split(",")):
        bench_model(model_id, args)
    if args.tsne_sizes:
        bench_tsne([int(n) for n in args.tsne_sizes.split(",")], args.tsne_threads)
    if args.scatter_sizes:
        bench_scatter([int(n) for n in args.scatter_sizes.split(",")])
    if args.style_sizes:
        bench_style([int(n) for n in args.style_sizes.split(",")], args.style_steps, args.rounds, args.device)


if __name__ == "__main__":
    main()
