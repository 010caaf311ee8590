"""The Detection panel's layers on the shared canvas, kept by role ("detections", "masks", ...).

A redraw updates in place the layers whose drawing changed, swaps them when the roles changed,
and leaves the layers of other panels (the Region panel's grid) where they are.
"""
from __future__ import annotations

from typing import Any

from workbench.core.detection.view import ViewLayers


class DetectionOverlay:
    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.ids: dict[str, int] = {}        # role -> id of the canvas layer drawing it
        self.shown: ViewLayers | None = None  # what the layers draw now

    def on_canvas(self) -> bool:
        """Whether the layers last put on the canvas are all still there (another result shown
        on the canvas replaces them)."""
        on_canvas = {l.id for l in self.canvas.layers()}
        return self.shown is not None and all(self.ids.get(r) in on_canvas for r in self.shown.roles)

    def layers(self) -> list:
        """Our layers as on the canvas, in drawing order (empty when they are gone)."""
        ours = set(self.ids.values()) if self.on_canvas() else set()
        return [l for l in self.canvas.layers() if l.id in ours]

    def apply(self, built: ViewLayers) -> None:
        """Draw ``built``: in place when the same roles are on the canvas, by swapping our layers
        when the roles changed, and over every other overlay for a new result (nothing shown)."""
        with self.canvas.labels_placed_once():
            self._apply(built)

    def _apply(self, built: ViewLayers) -> None:
        previous, ours = self.shown, self.on_canvas()
        self.shown = built
        if ours and previous.roles == built.roles:
            for i, (role, layer, key, old_key) in enumerate(zip(built.roles, built.layers, built.keys, previous.keys)):
                old = self.canvas.layer(self.ids[role])
                if key == old_key:
                    built.layers[i] = old
                    continue
                layer.id, layer.visible = old.id, old.visible
                self.canvas.update_layer(layer)
            return
        if ours:   # the same result under other options
            for lid in self.ids.values():
                self.canvas.remove_layer(lid)
            for layer in built.layers:
                self.canvas.add_layer(layer)
        else:
            self.canvas.replace_overlays(built.layers)
        self.ids = {role: layer.id for role, layer in zip(built.roles, built.layers)}

    def clear(self, remove: bool = True) -> None:
        """Forget our layers, taking them off the canvas unless ``remove`` is False (a new result
        is coming, which replaces every overlay); the next ``apply`` starts afresh."""
        if remove and self.on_canvas():
            for lid in self.ids.values():
                self.canvas.remove_layer(lid)
        self.ids, self.shown = {}, None

    def select(self, row: int | None) -> None:
        """Highlight box ``row`` of the detections layer (None: no highlight)."""
        lid = self.ids.get("detections")
        on_canvas = lid is not None and any(l.id == lid for l in self.canvas.layers())
        want = (lid, row) if on_canvas and row is not None else None
        if self.canvas.selected_box() != want:
            self.canvas.select_box(*(want or (None,)))
