"""Manifold pane: choose two latent dimensions, a size and a span; the decoded grid shows in a
GridView, and clicking a tile picks its latent."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from workbench.core.results import ImageGrid
from workbench.ui.grid_view import GridView


class ManifoldPane(QWidget):
    buildRequested = Signal()
    latentPicked = Signal(object)        # the latent (d,) of a clicked tile

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.dim_x, self.dim_y = QComboBox(), QComboBox()
        for box in (self.dim_x, self.dim_y):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.grid_n = QSpinBox()
        self.grid_n.setRange(2, 24)
        self.grid_n.setValue(10)
        self.span = QDoubleSpinBox()
        self.span.setRange(0.5, 4.0)
        self.span.setSingleStep(0.5)
        self.span.setValue(2.0)
        self.span.setSuffix(" σ")
        self.span.setToolTip("x and y run from -span to +span prior standard deviations about the prior's "
                             "mean, evenly spaced in prior probability")
        self.build_button = QPushButton("Build")
        self.build_button.setToolTip("Decode the grid; the other dimensions keep the current latent's values")
        self.grid_view = GridView()
        self.grid_view.title.setWordWrap(True)   # a long tile name wraps instead of widening the pane
        self.effects = np.zeros(0)
        # two short rows rather than one long one: the pane fits beside the sliders at the default size
        dims, size = QHBoxLayout(), QHBoxLayout()
        for row, pairs in ((dims, (("x", self.dim_x), ("y", self.dim_y))),
                           (size, (("n", self.grid_n), ("span ±", self.span)))):
            for text, widget in pairs:
                row.addWidget(QLabel(text))
                row.addWidget(widget)
        size.addWidget(self.build_button)
        for row in (dims, size):
            row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(dims)
        layout.addLayout(size)
        layout.addWidget(self.grid_view, 1)
        self.build_button.clicked.connect(self.buildRequested)
        self.grid_view.tileClicked.connect(self._on_tile_clicked)

    def set_effects(self, effects: np.ndarray) -> None:
        """One entry per latent dimension, labelled with how much it changes the image; x and y
        start on the two that change it most."""
        self.effects = np.asarray(effects)
        names = [f"z{i}  (Δ {e:.3f})" for i, e in enumerate(effects)]
        order = np.argsort(-np.asarray(effects), kind="stable")
        for box, index in ((self.dim_x, order[0]), (self.dim_y, order[min(1, len(order) - 1)])):
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.setCurrentIndex(int(index))
            box.setToolTip("Δ: mean change of a pixel (0-1) when this dimension moves from -1 to +1 "
                           "standard deviation at the prior's mean")
            box.blockSignals(False)
        self.grid_view.clear()

    def dims(self) -> tuple[int, int]:
        return self.dim_x.currentIndex(), self.dim_y.currentIndex()

    def set_grid(self, grid: ImageGrid) -> None:
        self.grid_view.set_grid(grid)

    def _on_tile_clicked(self, index: int) -> None:
        grid = self.grid_view.grid()
        if grid is not None and "latents" in grid.extra:
            self.latentPicked.emit(np.asarray(grid.extra["latents"][index]))
