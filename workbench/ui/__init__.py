"""Widgets: the window, the canvas and its layers, docks, forms and export dialogs."""
