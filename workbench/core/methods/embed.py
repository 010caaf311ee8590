"""Embedding projector: a dataset's features at one layer laid out in 2-D (PCA, t-SNE, UMAP).

Features are pooled over space (a conv layer) or tokens; ``layer`` empty reads the input of the
last linear layer, what the classifier itself sees. t-SNE is openTSNE's, shown as it converges.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from workbench.core.batch.features import batch_dataset
from workbench.core.context import Context, Partial, Progress
from workbench.core.embedding import dataset as D
from workbench.core.embedding import project as P
from workbench.core.embedding.features import PENULTIMATE, extract
from workbench.core.embedding.neighbours import label_agreement
from workbench.core.params import as_dict, param
from workbench.core.registry import Method
from workbench.core.results.embedding import Embedding

FEATURES_SHARE = 0.3     # of the progress bar, for the forward passes


@dataclass
class Params:
    dataset: str = field(default="digits", metadata=param(
        "Dataset", choices=D.DATASETS, help="digits: scikit-learn's 1,797; shapes: the shapes world from the "
                                            "shapes-cnn test seeds on; folder: the images under Folder; batch: "
                                            "the vectors of a `workbench batch feature-vector` run in Folder"))
    folder: str = field(default="", metadata=param(
        "Folder", help="dataset folder: subfolders name the labels; dataset batch: the batch's folder"))
    count: int = field(default=0, metadata=param(
        "Images", range=(0, 1_000_000), step=500, at_minimum="all", help="how many (shapes: 0 gives 2,000)"))
    layer: str = field(default="", metadata=param(
        "Layer", choices="layers", help="pooled over space; empty: the input of the last linear layer"))
    projection: str = field(default="tsne", metadata=param(
        "Projection", choices=P.PROJECTIONS, help="umap only when umap-learn is installed"))
    perplexity: float = field(default=30.0, metadata=param("Perplexity", range=(2.0, 500.0), step=5.0))
    k: int = field(default=10, metadata=param(
        "Neighbours", range=(1, 100), step=1, help="k of the label agreement score"))
    threads: int = field(default=1, metadata=param(
        "Threads", range=(0, 256), step=1, at_minimum="all",
        help="for t-SNE; more than one pays only on many points and idle cores (openTSNE starts them per step)"))
    seed: int = field(default=0, metadata=param("Seed", range=(0, 2 ** 31 - 1), step=1))


def run(ctx: Context, p: Params) -> Iterator[Progress | Partial]:
    if p.projection == "umap":
        P.require_umap()           # before the forward passes, not after
    h = ctx.handle
    data = batch_dataset(p.folder, p.count) if p.dataset == "batch" else D.load_dataset(p.dataset, p.count, p.folder)
    if data.features is not None:       # a batch computed them
        layer, feats = data.layer, data.features
        predictions = data.predictions
    else:
        layer = p.layer or PENULTIMATE
        yield Progress(0.0, f"{len(data)} {data.name} images: features at {layer}")
        feats = logits = None
        for done, feats, logits in extract(h, data.images, layer, ctx.device, ctx.batch(256), ctx.cancel.check):
            yield Progress(FEATURES_SHARE * done / len(data), f"features: {done}/{len(data)} images")
        predictions = logits.argmax(1).astype(np.int64) if logits is not None else np.full(len(data), -1, np.int64)
    side = 32 if len(data) <= 20_000 else 16      # 100,000 thumbnails at 32x32 would take 300 MB
    base = dict(method="embed", model=h.id, params={**as_dict(p), "layer": layer}, features=feats,
                labels=data.labels, predictions=predictions, ids=np.asarray(data.ids, np.int64),
                thumbnails=D.thumbnails(data.images, side), label_names=data.label_names,
                class_names=list(h.labels), layer=layer, projection=p.projection, dataset=data.name,
                paths=data.paths or [])
    labelled = data.labels >= 0
    agreement = (label_agreement(feats[labelled], data.labels[labelled], p.k) if labelled.sum() > p.k
                 else float("nan"))
    title = f"{P.PROJECTION_NAMES[p.projection]} of {h.id} {layer} over {len(data)} {data.name} images"
    if p.projection == "pca":
        points, share = P.pca(feats)
        title += f" ({100 * share.sum():.0f}% of the variance)"
    elif p.projection == "umap":
        yield Progress(FEATURES_SHARE, "UMAP")
        points = P.umap(feats, seed=p.seed)
    else:
        threads = p.threads or os.cpu_count() or 1
        points = None
        for frac, points in P.tsne(feats, p.perplexity, p.seed, threads, ctx.cancel.check):
            yield Progress(FEATURES_SHARE + (1 - FEATURES_SHARE) * frac, f"t-SNE: {100 * frac:.0f}%")
            if frac < 1:
                yield Partial(Embedding(**base, points=points, agreement=agreement, title=title, finished=False))
    return Embedding(**base, points=points, agreement=agreement, title=title)


METHOD = Method(name="embed", kind="features", tasks=("classify",), params=Params, run=run,
                title="Embedding projector", needs_image=False,
                description="A dataset's features at one layer laid out in 2-D by PCA, t-SNE or UMAP, "
                            "with nearest neighbours in feature and pixel space.")
