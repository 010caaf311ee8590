"""Which extractor transfers texture best: texture synthesis of every bundled style by each extractor,
judged by every extractor's Gram matrices.

Each extractor grows a texture from noise for each bundled style (``steps`` Adam steps at ``size`` px,
the ``style`` method's defaults otherwise). Its own Gram loss always falls (the ratio final / first is
printed), but an extractor can satisfy its own Gram matrices with noise that looks nothing like the
style, so each texture is also judged by the other extractors: the judge's Gram loss to the style,
divided by the judge's Gram loss of the starting noise (1: no better than noise; a second crop of the
same photograph scores far below 1). The cross score is the geometric mean over the other judges. A
montage (style, then each extractor's texture, one row per style) is written for the eye.

    python bench/style_extractors.py [--size 128] [--steps 200] [--threads 1] [--out montage.png]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from workbench import api  # noqa: E402
from workbench.core.methods.style import layer_features  # noqa: E402
from workbench.core.optimize.parametrisation import ModelInput  # noqa: E402
from workbench.core.optimize.settings import image_tensor  # noqa: E402
from workbench.core.style.extractor import bundled_available, vgg_available  # noqa: E402
from workbench.core.style.images import load_style, style_names  # noqa: E402
from workbench.core.style.layers import default_style_layers  # noqa: E402
from workbench.core.style.losses import gram, style_loss  # noqa: E402
from workbench.core.style.multiscale import multiscale_extractor  # noqa: E402
from workbench.core.sources import load_model  # noqa: E402


def extractors() -> dict[str, object]:
    found = {"shapes-cnn (trained)": load_model("zoo:shapes-cnn"),
             "shapes-cnn, random weights": load_model("zoo:shapes-cnn?weights=none"),
             "random multi-scale net": multiscale_extractor("random multi-scale net")}
    if bundled_available("zoo:textures-cnn"):
        found["textures-cnn (trained)"] = load_model("zoo:textures-cnn")
    if vgg_available():
        found[vgg_available()] = load_model(vgg_available())
    return found


class Judge:
    """One extractor's Gram loss of (H, W, 3) [0, 1] images to a style."""

    def __init__(self, handle, style: np.ndarray, size: int) -> None:
        self.handle, self.weights = handle, default_style_layers(handle)
        self.to_input = ModelInput(handle.preprocess)
        self.grams = self._grams(image_tensor(style, "cpu", (size, size)))

    def _grams(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = layer_features(self.handle.module, list(self.weights), self.to_input(x))
        return {n: gram(f) for n, f in feats.items()}

    def loss(self, image: np.ndarray) -> float:
        x = torch.from_numpy(np.ascontiguousarray(image, np.float32)).permute(2, 0, 1)[None]
        feats = layer_features(self.handle.module, list(self.weights), self.to_input(x))
        return float(style_loss(feats, self.grams, self.weights)[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--styles", default=",".join(style_names()))
    ap.add_argument("--out", default="style_extractors.png", help="the montage (PNG)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nets = extractors()
    noise = np.clip(0.5 + 0.1 * np.random.default_rng(0).standard_normal((args.size, args.size, 3)), 0, 1)
    own = {n: [] for n in nets}
    cross = {n: [] for n in nets}
    ms = {n: [] for n in nets}
    rows = []
    print(f"texture synthesis, {args.size} px, {args.steps} steps, {torch.get_num_threads()} thread(s)")
    print("  style     extractor                     own final/first  judged by the others / noise  ms/step")
    for name in args.styles.split(","):
        style = load_style(name)
        judges = {n: Judge(h, style, args.size) for n, h in nets.items()}
        base = {n: j.loss(noise) for n, j in judges.items()}
        row = [image_tensor(style, "cpu", (args.size, args.size))[0].permute(1, 2, 0).numpy()]
        for net_name, handle in nets.items():
            t = time.perf_counter()
            r = api.run("style", handle, None, mode="texture", style=name, size=args.size, steps=args.steps,
                        preview_every=args.steps)
            ms[net_name].append(1000 * (time.perf_counter() - t) / args.steps)
            scores = {j: judges[j].loss(r.image) / base[j] for j in judges if j != net_name}
            gm = math.exp(np.mean(np.log(list(scores.values()))))
            own[net_name].append(r.style_curve[-1] / r.style_curve[0])
            cross[net_name].append(gm)
            print(f"  {name:9s} {net_name:30s} {own[net_name][-1]:14.4f}  {gm:27.3f}  {ms[net_name][-1]:7.0f}",
                  flush=True)
            row.append(r.image)
        rows.append(np.concatenate(row, 1))
    print("\ngeometric mean over the styles (lower is better):")
    for n in nets:
        print(f"  {n:30s} own {math.exp(np.mean(np.log(own[n]))):.4f}   judged by the others "
              f"{math.exp(np.mean(np.log(cross[n]))):.3f}   {np.median(ms[n]):.0f} ms/step")
    from PIL import Image
    Image.fromarray((np.concatenate(rows, 0) * 255 + 0.5).clip(0, 255).astype(np.uint8)).save(args.out)
    print(f"wrote {args.out} (columns: style, {', '.join(nets)})")


if __name__ == "__main__":
    main()
