"""What the user is looking at, as one Qt-free model every panel reads and writes.

The current image, the model handle, the method registry, the target class, the picked
layer, the selected detection, how attribution maps are displayed and the current result of each view. Observers are plain callbacks, called on the
thread that made the change (the GUI thread in the app); ``workbench.ui.workspace_signals``
turns them into Qt signals. No panel keeps its own copy of the image or the handle.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from workbench.core.attribution.display import DisplayOptions
from workbench.core.class_index import checked_class_index
from workbench.core.renderers import renderer_for
from workbench.core.results import Result

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.handle import ModelHandle
    from workbench.core.registry import Registry

IMAGE, MODEL, REGISTRY, TARGET, LAYER, SELECTION, DISPLAY, RESULT, MASK = (
    "image", "model", "registry", "target", "layer", "selection", "display", "result", "mask")
EVENTS = (IMAGE, MODEL, REGISTRY, TARGET, LAYER, SELECTION, DISPLAY, RESULT, MASK)


class Workspace:
    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.handle: ModelHandle | None = None
        self.registry: Registry | None = None
        self.target: int | None = None          # class index; None: the top prediction
        self.layer = ""                         # the model layer the user picked ("" none)
        self.selection: int | None = None       # index of the selected final detection
        self.display = DisplayOptions()         # how attribution maps are coloured, everywhere
        self.results: dict[str, Result] = {}    # view name -> the result it shows
        self.mask: np.ndarray | None = None     # bool (H, W) at the image's size, True = hole (inpainting)
        self._observers: dict[str, list[Callable[..., None]]] = {e: [] for e in EVENTS}

    # --- observing --------------------------------------------------------------------
    def observe(self, event: str, callback: Callable[..., None]) -> Callable[[], None]:
        """Call ``callback`` on each change of ``event`` (see EVENTS); returns an unsubscribe.

        Callbacks get the new value; ``result`` observers get (view, result)."""
        if event not in self._observers:
            raise ValueError(f"unknown workspace event {event!r}; events: {', '.join(EVENTS)}")
        self._observers[event].append(callback)
        return lambda: self._observers[event].remove(callback) if callback in self._observers[event] else None

    def _emit(self, event: str, *args: Any) -> None:
        for callback in list(self._observers[event]):
            callback(*args)

    # --- changing ---------------------------------------------------------------------
    def set_image(self, image: "np.ndarray", name: str = "") -> None:
        """A new image; every result computed on the previous one is dropped first."""
        self.image, self.image_name = image, name
        if self.mask is not None and self.mask.shape != tuple(image.shape[:2]):
            self.set_mask(None)                 # a painted mask outlives runs and same-size images, not a resize
        self._clear_results()
        self.set_selection(None)
        self._emit(IMAGE, image)

    def set_model(self, handle: "ModelHandle") -> None:
        """A new model; the target goes back to the top prediction and results are dropped."""
        self.handle = handle
        self.layer = ""
        self._clear_results()
        self.set_selection(None)
        self.set_target(None)
        self._emit(MODEL, handle)

    def set_registry(self, registry: "Registry") -> None:
        self.registry = registry
        self._emit(REGISTRY, registry)

    def set_target(self, target: int | None) -> None:
        """The class to explain (None: the top prediction), range-checked against the labels."""
        if target is not None:
            labels = self.handle.labels if self.handle is not None else None
            target = checked_class_index(target, len(labels) if labels else None)
        if target != self.target:
            self.target = target
            self._emit(TARGET, target)

    def set_layer(self, name: str) -> None:
        """The layer picked in the model's layer list; methods with a layer parameter take it."""
        self.layer = name
        self._emit(LAYER, name)

    def set_selection(self, index: int | None) -> None:
        if index != self.selection:
            self.selection = index
            self._emit(SELECTION, index)

    def set_mask(self, mask: "np.ndarray | None") -> None:
        """The painted hole (bool, the image's height and width; None: no mask); a mask of another
        size than the image is refused with a ValueError and changes nothing."""
        if mask is not None:
            from workbench.core.inpaint.masks import checked_mask
            mask = checked_mask(mask, None if self.image is None else self.image.shape)
        self.mask = mask
        self._emit(MASK, mask)

    def set_display(self, options: DisplayOptions) -> None:
        if options != self.display:
            self.display = options
            self._emit(DISPLAY, options)

    def show(self, result: Result, view: str | None = None) -> str:
        """Make ``result`` the current result of its view (the one its renderer names, unless
        ``view`` is given); returns that view's name ("" when no view shows it)."""
        view = renderer_for(result).view if view is None else view
        if view:
            self.results[view] = result
        self._emit(RESULT, view, result)
        return view

    def result(self, view: str) -> Result | None:
        return self.results.get(view)

    def _clear_results(self) -> None:
        views = list(self.results)
        self.results.clear()
        for view in views:
            self._emit(RESULT, view, None)
