"""Publication figures: the canvas's layer objects painted with QPainter to PNG, SVG and PDF."""
