"""A live tab's loss curves per step on a log scale, under its preview: the curves hold the losses'
log10, so the tab labels the left axis in losses (``setTicks``) as its figure does."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

HEIGHT = 170


class LossPlot(pg.PlotWidget):
    def __init__(self, step_label: str, legend_offset: tuple[int, int], legend_columns: int = 1) -> None:
        super().__init__()
        self.setFixedHeight(HEIGHT)
        self.setLabel("bottom", step_label)
        self.setLabel("left", "loss (log)")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.setMouseEnabled(False, False)
        self.addLegend(offset=legend_offset, colCount=legend_columns)

    def add_loss(self, name: str, colour: tuple[int, int, int]) -> Any:
        """An empty curve named in the legend."""
        return self.plot([], [], pen=pg.mkPen(colour, width=2), name=name)

    @staticmethod
    def show_losses(curves: list[tuple[Any, Any]]) -> list[float]:
        """Each (curve, losses): loss i drawn at step i + 1, as its log10; the log10s drawn, of all."""
        logs: list[float] = []
        for line, values in curves:
            v = np.asarray(values, np.float64)
            keep = np.isfinite(v) & (v > 0)          # no zero on a log scale (a loss that starts at 0)
            line.setData(np.arange(1, len(v) + 1)[keep], np.log10(v[keep]))
            logs += list(np.log10(v[keep]))
        return logs
