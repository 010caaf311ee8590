"""How R-FCN's training starts: from the bundled Faster R-CNN, whose backbone and RPN it keeps.

Named by the shapes-rfcn recipe (``Recipe.init``); apart from ``zoo.rfcn`` so that the model's
module, which the catalogue imports, does not import the catalogue back.
"""
from __future__ import annotations

from workbench.zoo.rfcn import RFCN


def start_from_faster_rcnn(model: RFCN) -> None:
    """Copy the bundled Faster R-CNN's backbone and RPN into ``model`` (before its head is trained)."""
    from workbench.zoo import catalogue
    state = catalogue.get("shapes-fasterrcnn").load().state_dict()
    shared = {k: v for k, v in state.items() if k.startswith(("backbone.", "rpn."))}
    missing = [k for k in model.state_dict() if k.startswith(("backbone.", "rpn.")) and k not in shared]
    if missing:
        raise ValueError(f"the Faster R-CNN's weights lack {missing[:3]}")
    model.load_state_dict(shared, strict=False)
