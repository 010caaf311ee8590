"""Text that fits a width without being cut: word wrapping and the largest font that fits.

Figures never elide a label: a title or tile label that is too wide wraps onto more lines,
at a smaller size if need be.
"""
from __future__ import annotations

from PySide6.QtGui import QFont, QFontMetricsF

MIN_FONT_PX = 6


def font(px: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(max(MIN_FONT_PX, round(px)))
    f.setBold(bold)
    return f


def wrap(text: str, fm: QFontMetricsF, width: float) -> list[str]:
    """``text`` in lines no wider than ``width``: broken at spaces, and inside a word only when
    the word alone is wider than ``width``."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if fm.horizontalAdvance(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        while fm.horizontalAdvance(word) > width and len(word) > 1:
            cut = max(1, next((k for k in range(len(word), 0, -1) if fm.horizontalAdvance(word[:k]) <= width), 1))
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line or not lines:
        lines.append(line)
    return lines


def fit(texts: list[str], width: float, px_max: float, px_min: float, max_lines: int = 2,
        bold: bool = False) -> tuple[QFont, list[list[str]]]:
    """The largest font from ``px_max`` down to ``px_min`` at which every text wraps into at most
    ``max_lines`` lines of ``width``, with each text's lines. When even ``px_min`` needs more
    lines, it is used with as many lines as the texts need: nothing is cut."""
    px_max, px_min = max(px_max, MIN_FONT_PX), max(min(px_min, px_max), MIN_FONT_PX)
    px = float(round(px_max))
    while True:
        f = font(px, bold)
        fm = QFontMetricsF(f)
        wrapped = [wrap(t, fm, width) for t in texts]
        if px <= px_min or all(len(w) <= max_lines for w in wrapped):
            return f, wrapped
        px = max(float(round(px_min)), px - 1)
