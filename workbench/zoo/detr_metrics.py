"""Where the bundled DETR's queries look: the share of matched queries whose last-layer
cross-attention (mean of heads) peaks inside the box of the object they were matched to.

Queries are matched to the true objects by the Hungarian matching of training (last decoder
layer); the peak is the token of highest attention, and it is inside when its cell's centre
lies in the object's box.
"""
from __future__ import annotations

import numpy as np
import torch

from workbench.zoo import detection_data as data
from workbench.zoo.detr_loss import match, normalised_targets


@torch.no_grad()
def attention_in_box(model, scenes: list, batch_size: int = 16) -> dict:
    model.eval()
    inside, total = 0, 0
    for i in range(0, len(scenes), batch_size):
        chunk = scenes[i:i + batch_size]
        images, targets = data.as_inputs(chunk, masks=False)
        x = model.batch(images)
        out = model.predict(x)
        attn = model.cross_attention(x)                        # (N, queries, tokens)
        h, w = out.feature_hw
        ih, iw = x.shape[-2:]
        for j, (scene, target) in enumerate(zip(chunk, normalised_targets(targets, (ih, iw)))):
            rows, cols = match(out.logits[-1, j], out.boxes[-1, j], target)
            for q, obj in zip(rows, cols):
                r, c = divmod(int(attn[j, q].argmax()), w)
                cx, cy = (c + 0.5) * iw / w, (r + 0.5) * ih / h
                x0, y0, x1, y1 = scene.boxes[obj]
                inside += int(x0 <= cx <= x1 and y0 <= cy <= y1)
                total += 1
    return {"attention_peak_in_box": round(inside / max(1, total), 4), "matched_queries": total}
