"""The GAN lab's theory views under the main plot: G's gradient norm over training (log axis),
the gradient each loss gives G on the same D as a function of D(G(z)) with the current samples
marked, and D's Lipschitz readout (layer spectral norms, the critic's gradient-norm histogram)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from workbench.core.ganlab.config import LOSS_LABELS
from workbench.figure.ganlab import FAKE_COLOR, G_LOSS_COLOR

CRITIC = (90, 90, 90)      # hinge and both WGANs: one line, their gradient is 1 everywhere
LOSS_COLORS = {"minimax": (200, 60, 40), "nonsaturating": (40, 110, 200), "lsgan": (40, 150, 70),
               "hinge": CRITIC, "wgan-gp": CRITIC, "wgan-clip": CRITIC, "ebgan": (230, 150, 20)}
SHORT_NAMES = {"minimax": "minimax", "nonsaturating": "non-saturating", "lsgan": "least squares",
               "hinge": "hinge", "wgan-gp": "WGAN-GP", "wgan-clip": "WGAN clip", "ebgan": "EBGAN"}


def _key(entries: list[tuple[str, tuple[int, int, int]]]) -> str:
    """A plot title that is its legend (a legend box would hide the curves)."""
    return "&nbsp;&nbsp;".join(f"<span style='color:#{r:02x}{g:02x}{b:02x}'>━ {name}</span>"
                               for name, (r, g, b) in entries)


def note_label(lines: int) -> QLabel:
    """A word-wrapped label of a fixed number of lines. A plain word-wrapped label makes its panel
    height-for-width, and the tab's scroll area then sizes the panel to every plot's preferred
    height, which scrolls the lab off the bottom of the window."""
    label = QLabel()
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHeightForWidth(False)
    policy.setVerticalPolicy(QSizePolicy.Policy.Fixed)
    label.setSizePolicy(policy)
    label.setFixedHeight(lines * label.fontMetrics().lineSpacing() + 4)
    return label


class DecadeAxis(pg.AxisItem):
    """A log axis that labels the decades only (1, 2 and 5 times them within a decade or so):
    over two or three decades pyqtgraph labels every tick from 1 to 9, and the labels overlap."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (Qt naming)
        strings = super().tickStrings(values, scale, spacing)
        if not self.logMode:
            return strings
        lo, hi = sorted(self.range)
        keep = (1,) if hi - lo >= 1.5 else (1, 2, 5)
        mantissas = [round(10 ** (v - np.floor(v + 1e-9)), 6) for v in values]
        return [text if m in keep else "" for text, m in zip(strings, mantissas)]


def _plot(title: str, bottom: str, left: str, log_y: bool = False) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w", axisItems={"left": DecadeAxis("left")} if log_y else None)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setTitle(title, color="k", size="9pt")
    plot.setLabel("bottom", bottom)
    plot.setLabel("left", left)
    if log_y:
        plot.setLogMode(y=True)
        plot.getAxis("left").enableAutoSIPrefix(False)     # "x0.001" on a log axis misreads the decades
    return plot


def gradient_norm_plot() -> tuple[pg.PlotWidget, pg.PlotDataItem]:
    plot = _plot("G's gradient norm |dL_G/dx| per point, median over each batch", "step", "norm", log_y=True)
    return plot, plot.plot(pen=pg.mkPen(*G_LOSS_COLOR, width=1.5))


class SaturationPlot(QWidget):
    """|d loss_G / d D-output| of every loss against D(G(z)), log y, current samples marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        key = _key([("minimax", LOSS_COLORS["minimax"]), ("non-saturating", LOSS_COLORS["nonsaturating"]),
                    ("LSGAN", LOSS_COLORS["lsgan"]), ("hinge, WGAN", CRITIC),
                    ("EBGAN", LOSS_COLORS["ebgan"])])
        self.plot = _plot(key, "D(G(z))  (critic losses, EBGAN's energy: any value)", "|dL_G / d output|", log_y=True)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.enableAutoRange(x=False)
        self.curves = {}
        for name in LOSS_COLORS:       # the f-GANs' outputs are no verdict on [0, 1]
            pen = pg.mkPen(*LOSS_COLORS.get(name, (0, 0, 0)), width=2)
            if name == "lsgan":       # |D - 1| lies on non-saturating's 1 - D(G(z)): dashed over it
                pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
            if name == "ebgan":       # 1 at any energy, on the critics' line: dotted over it
                pen.setStyle(pg.QtCore.Qt.PenStyle.DotLine)
            self.curves[name] = self.plot.plot(pen=pen, name=LOSS_LABELS[name])
        self.samples = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(*FAKE_COLOR, 120))
        self.plot.addItem(self.samples)
        self.readout = note_label(3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)

    def set_curves(self, x: np.ndarray, curves: dict[str, np.ndarray]) -> None:
        for name, values in curves.items():
            if name in self.curves:
                self.curves[name].setData(x, np.maximum(values, 1e-12))

    def set_samples(self, x: np.ndarray, y: np.ndarray, text: str) -> None:
        keep = (x >= 0) & (x <= 1) & np.isfinite(y)
        self.samples.setData(x[keep], np.log10(np.maximum(y[keep], 1e-12)))
        self.readout.setText(text)


class LipschitzPlot(QWidget):
    """Each linear layer's spectral norm (as used, and before spectral normalisation) and the
    histogram of |grad D| on real-fake lines, where WGAN-GP asks for 1."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        used, raw = (40, 110, 200), (200, 120, 40)
        self.layers = _plot(_key([("as used", used), ("before SN", raw)]), "linear layer",
                            "spectral norm")
        self.used_bars = pg.BarGraphItem(x=[], height=[], width=0.35, brush=pg.mkBrush(*used))
        self.raw_bars = pg.BarGraphItem(x=[], height=[], width=0.35, brush=pg.mkBrush(*raw))
        self.layers.addItem(self.used_bars)
        self.layers.addItem(self.raw_bars)
        self.layers.addLine(y=1.0, pen=pg.mkPen(0, 0, 0, 120, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.hist = _plot("|grad D| on real-fake lines", "|grad D|", "points")
        self.hist_item = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=pg.mkBrush(130, 60, 170, 120),
                                         pen=pg.mkPen(130, 60, 170))
        self.hist.addItem(self.hist_item)
        self.hist.addLine(x=1.0, pen=pg.mkPen(0, 0, 0, 120, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.readout = note_label(2)
        row = pg.QtWidgets.QHBoxLayout()
        row.addWidget(self.layers, 1)
        row.addWidget(self.hist, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row, 1)
        layout.addWidget(self.readout)

    def set_readout(self, used: np.ndarray, raw: np.ndarray, edges: np.ndarray, counts: np.ndarray, text: str) -> None:
        i = np.arange(1, len(used) + 1, dtype=np.float64)
        self.layers.getAxis("bottom").setTicks([[(k, str(int(k))) for k in i]])
        self.layers.setXRange(0.5, len(used) + 0.5, padding=0)
        self.layers.setYRange(0, max(1.2, float(np.max(raw, initial=0.0))) * 1.05, padding=0)
        self.used_bars.setOpts(x=i - 0.18, height=used)
        self.raw_bars.setOpts(x=i + 0.18, height=raw)
        self.hist_item.setData(edges, counts)
        self.readout.setText(text)
