"""Figures laid out at scale 1 and painted through a scaled painter: a PNG at scale 2 is the same
picture twice as wide; SVG and PDF are painted at scale 1 and keep curves and text as vectors."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtGui import QPainter

from workbench.figure.render import check_format, ensure_gui_app, write_figure


def paint_scale(path: str | Path, scale: float) -> float:
    """The factor the figure at ``path`` is painted at (``scale`` for a PNG, else 1), after checking
    the format and the scale."""
    check_format(path)
    if not scale > 0:
        raise ValueError(f"the scale must be positive, not {scale}")
    ensure_gui_app()
    return scale if Path(path).suffix.lower() == ".png" else 1.0


def write_scaled(path: str | Path, size: tuple[float, float], s: float, paint: Callable[[QPainter], None],
                 title: str, smooth_pixmaps: bool | None = None) -> Path:
    """The figure of ``size`` at scale 1, painted antialiased at ``s`` (``paint_scale``) and written.
    ``smooth_pixmaps``: set QPainter's SmoothPixmapTransform hint (None: the device's default)."""
    w, h = size

    def scaled(painter: QPainter) -> None:
        painter.scale(s, s)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if smooth_pixmaps is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth_pixmaps)
        paint(painter)

    return write_figure(path, (w * s, h * s), scaled, title)
