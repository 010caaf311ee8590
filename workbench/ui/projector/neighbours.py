"""The chosen image beside its k nearest neighbours in feature space and in pixel space."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from workbench.core.results.embedding import Embedding
from workbench.ui.projector.scatter import thumbnail_pixmap

TILE = 48
ROWS = {"features": "feature space", "pixels": "pixel space"}


class _Tile(QLabel):
    clicked = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.index = -1
        self.setFixedSize(TILE + 4, TILE + 4)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if self.index >= 0:
            self.clicked.emit(self.index)


class NeighbourStrips(QWidget):
    """Row 0: the chosen image; then one row per space, nearest first; a same-label neighbour is framed
    green, another label red. Clicking a neighbour chooses it."""
    chosen = Signal(int)

    def __init__(self, k: int = 8, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.k = k
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(2)
        self.heading = QLabel("Click a point to see its nearest neighbours")
        self.heading.setWordWrap(True)
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grid.addWidget(self.heading, 0, 0, 1, k + 1)
        self.query = _Tile()
        grid.addWidget(self.query, 1, 0, 2, 1)
        self.tiles: dict[str, list[_Tile]] = {}
        for row, space in enumerate(ROWS):
            tiles = [_Tile() for _ in range(k)]
            for col, tile in enumerate(tiles):
                tile.clicked.connect(self.chosen.emit)
                grid.addWidget(tile, 1 + row, 1 + col)
            self.tiles[space] = tiles
        self.neighbours: dict[str, np.ndarray] = {}

    def show_point(self, embedding: Embedding | None, index: int | None) -> dict[str, np.ndarray]:
        self.neighbours = {}
        for tiles in [*self.tiles.values(), [self.query]]:
            for t in tiles:
                t.clear()
                t.index = -1
                t.setStyleSheet("")
        if embedding is None or index is None:
            self.heading.setText("Click a point to see its nearest neighbours")
            return {}
        label = embedding.labels[index]
        self.query.setPixmap(thumbnail_pixmap(embedding.thumbnails[index], TILE))
        self.query.setStyleSheet("border: 2px solid black")
        self.query.setToolTip(embedding.name_of(index))
        share = {}
        for space, tiles in self.tiles.items():
            nb = embedding.neighbours(index, self.k, space)
            self.neighbours[space] = nb
            for tile, j in zip(tiles, nb):
                tile.index = int(j)
                tile.setPixmap(thumbnail_pixmap(embedding.thumbnails[j], TILE))
                same = label >= 0 and embedding.labels[j] == label
                tile.setStyleSheet(f"border: 2px solid {'#2a2' if same else '#c33'}")
                tile.setToolTip(f"{ROWS[space]}: {embedding.name_of(int(j))}")
            share[space] = float(np.mean(embedding.labels[nb] == label)) if label >= 0 else float("nan")
        words = " · ".join(f"{ROWS[s]}: {100 * v:.0f}% same label" for s, v in share.items() if not np.isnan(v))
        self.heading.setText(f"{embedding.name_of(index)}. Nearest {self.k}, top row feature space, bottom pixel "
                             f"space{': ' + words if words else ''}")
        return self.neighbours
