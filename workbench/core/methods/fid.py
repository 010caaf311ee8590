"""FID, KID and Inception Score of seeded samples against the held-out digits."""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.context import Context, Progress
from workbench.core.methods._generative import MAX_SEED, TASKS, decode, latent_dim, noise, to_latent
from workbench.core.results.scores import Scores
from workbench.core.params import param
from workbench.core.registry import Method


def card_references(model_id: str) -> list[dict]:
    """What a bundled model's card measured: its own samples, and real digits as the floor."""
    if not model_id.startswith("zoo:"):
        return []
    from workbench.zoo import catalogue
    try:
        metrics = catalogue.card(model_id[4:].split("?")[0]).get("metrics", {})
    except (KeyError, OSError, ValueError):   # an unknown name or a missing card: no reference
        return []
    out = []
    if "fid" in metrics:
        out.append({"header": "model card", "detail": f"n={metrics.get('n', '?')}", "values": metrics})
    real = metrics.get("real_train_digits")
    if isinstance(real, dict) and "fid" in real:
        out.append({"header": "real digits", "detail": f"n={real.get('n', '?')}", "values": real})
    return out


@dataclass
class Params:
    n: int = field(default=500, metadata=param("Samples", range=(20, 10000), step=10))
    seed: int = field(default=0, metadata=param("Seed", range=(0, MAX_SEED), step=1))


def run(ctx: Context, p: Params):
    from workbench.zoo import sample_quality
    z = to_latent(ctx, noise(p.n, latent_dim(ctx), p.seed))
    images = yield from decode(ctx, z, chunk=250, share=(0.0, 0.8), what="sampling")
    if images.shape[1:3] != (32, 32):
        raise ValueError(f"these scores use the bundled 32x32 digits classifier; {ctx.handle.id} makes "
                         f"{images.shape[1]}x{images.shape[2]} images")
    yield Progress(0.8, "scoring")
    ctx.cancel.check()
    gray = 0.299 * images[..., 0] + 0.587 * images[..., 1] + 0.114 * images[..., 2]
    values = sample_quality.scores(gray)
    reference = values.pop("reference")
    return Scores(method="fid", model=ctx.handle.id, params={"n": p.n, "seed": p.seed}, input=z,
                  title=f"FID {values['fid']:.2f}, IS {values['is_mean']:.2f} ({p.n} samples vs {reference})",
                  values=values, references=card_references(ctx.handle.id))


METHOD = Method(name="fid", tasks=TASKS, params=Params, run=run, title="Sample quality", needs_image=False,
                kind="metrics",
                description="FID, KID and Inception Score of samples vs held-out digits (digits-cnn features).")
