"""An R-FCN vote over the image: the assembled position-sensitive map, the region's bins with what
each one pooled, and the region."""
from __future__ import annotations

from workbench.core import canvas_layers as CL
from workbench.core.results.position_sensitive import PositionSensitiveVote

BIN_COLOR = (255, 255, 255)
BOX_COLOR = (20, 20, 20)


def vote_layers(result: PositionSensitiveVote) -> list[CL.Layer]:
    texts = [f"{s:+.2f}" for s in result.bin_scores]   # the bins sit where their (i, j) says
    return [*CL.heatmap_layers(result),
            CL.BoxesLayer(name="R-FCN bins", boxes=result.bins, texts=texts, colors=[BIN_COLOR], line_width=1.0),
            CL.BoxesLayer(name="R-FCN region", boxes=result.box.reshape(1, 4),
                          texts=[f"{result.label_name}: vote {result.vote:+.2f}"], colors=[BOX_COLOR],
                          line_width=2.0)]
