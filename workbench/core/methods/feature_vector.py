"""The image's features at one layer pooled to one vector (what the projector lays out), with the
model's prediction. Run over a folder with ``workbench batch``, it is a dataset for the projector."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.core.context import Context
from workbench.core.embedding.features import PENULTIMATE, extract
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.feature_vector import SERIES, FeatureVector


@dataclass
class Params:
    layer: str = field(default="", metadata=param(
        "Layer", choices="layers", help="pooled over space; empty: the input of the last linear layer"))


def run(ctx: Context, p: Params) -> FeatureVector:
    h = ctx.handle
    layer = p.layer or PENULTIMATE
    *_, (_done, feats, logits) = extract(h, ctx.image[None], layer, ctx.device, 1, ctx.cancel.check)
    vector = feats[0]
    predicted, label, score = -1, "", float("nan")
    if logits is not None:
        z = logits[0].astype(np.float64)
        probs = np.exp(z - z.max())
        probs /= probs.sum()
        predicted = int(probs.argmax())
        label, score = (h.labels[predicted] if predicted < len(h.labels) else str(predicted)), float(probs[predicted])
    return FeatureVector(method=METHOD.name, model=h.id, params={**as_dict(p), "layer": layer},
                         x=np.arange(len(vector), dtype=np.float32), series={SERIES: vector}, layer=layer,
                         predicted=predicted, predicted_label=label, score=score,
                         title=f"{h.id} features at {layer}: {len(vector)} values"
                               + (f", predicted {label} ({score:.2f})" if predicted >= 0 else ""))


METHOD = Method(name="feature-vector", kind="features", tasks=("classify",), params=Params, run=run,
                title="Feature vector",
                description="The image's features at one layer pooled to one vector, with the model's prediction "
                            "(a batch of them is a dataset for the projector).")
