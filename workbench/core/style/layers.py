"""Which layers carry style and content: the defaults for an extractor, and the user's
"layer:weight, ..." text read against the extractor's layer names."""
from __future__ import annotations

import math

# Gatys et al.'s layers in torchvision's VGGs: relu1_1 ... relu5_1 for style, relu4_2 for content
VGG_STYLE = {"vgg16": ("features.1", "features.6", "features.11", "features.18", "features.25"),
             "vgg19": ("features.1", "features.6", "features.11", "features.20", "features.29")}
VGG_CONTENT = {"vgg16": "features.20", "vgg19": "features.22"}
ACTIVATIONS = ("ReLU", "LeakyReLU", "GELU", "SiLU", "ReLU6", "ELU", "Hardswish")
MAX_STAGES = 5


def _vgg(handle) -> str:
    name = handle.id.split(":", 1)[-1].split("?", 1)[0]
    return name if handle.id.startswith("torchvision:") and name in VGG_STYLE else ""


def stages(handle) -> list[list[str]]:
    """The extractor's conv layers grouped by the resolution they run at, each named by the activation
    that follows it (the conv itself where none does): [[relu1_1, relu1_2], [relu2_1, ...], ...]."""
    infos = [i for i in handle.layers() if i.output_shape]
    out: list[list[str]] = []
    size = None
    for k, info in enumerate(infos):
        if not info.is_conv or len(info.output_shape) != 4:
            continue
        after = next((j for j in infos[k + 1:k + 4] if j.type in ACTIVATIONS and j.output_shape == info.output_shape),
                     None)
        name = after.name if after is not None else info.name
        if info.output_shape[-2:] != size:
            out.append([])
            size = info.output_shape[-2:]
        out[-1].append(name)
    return out


def default_style_layers(handle) -> dict[str, float]:
    """The first activation of each stage, at most five, weighted alike (Gatys's choice on a VGG)."""
    vgg = _vgg(handle)
    names = VGG_STYLE[vgg] if vgg else tuple(stage[0] for stage in stages(handle)[:MAX_STAGES])
    if not names:
        raise ValueError(f"{handle.id} has no conv layers to take style from; choose another extractor")
    return {name: 1.0 for name in names}


def default_content_layer(handle) -> str:
    """Gatys's relu4_2 on a VGG; on another net the last activation of the stage before the last (a
    small net's last stage sees too little of the image's layout to keep it)."""
    vgg = _vgg(handle)
    if vgg:
        return VGG_CONTENT[vgg]
    found = stages(handle)
    if not found:
        raise ValueError(f"{handle.id} has no conv layers to keep content from; choose another extractor")
    return found[max(0, len(found) - 2)][-1]


def format_weights(weights: dict[str, float]) -> str:
    """{"a": 1.0, "b": 0.5} -> "a:1, b:0.5" (what ``parse_weights`` reads)."""
    return ", ".join(f"{name}:{w:g}" for name, w in weights.items())


def resolve_layer(handle, name: str, what: str = "layer") -> str:
    """A layer's full name from itself or a unique last part of it ("relu1" for "features.relu1")."""
    names = [n for n, _m in handle.module.named_modules() if n]
    if name in names:
        return name
    ends = [n for n in names if n.endswith("." + name)]
    if len(ends) == 1:
        return ends[0]
    if ends:
        raise ValueError(f"{what} {name!r} is ambiguous in {handle.id}: {', '.join(ends[:6])}")
    raise ValueError(f"{what}: no layer {name!r} in {handle.id}; its layers are named like "
                     f"{', '.join(default_style_layers(handle))}")


def parse_weights(text: str, handle) -> dict[str, float]:
    """"conv1:1, conv2:0.5, conv3" -> {full name: weight} (weight 1 when left out); empty text: the defaults."""
    if not text.strip():
        return default_style_layers(handle)
    out: dict[str, float] = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        name, colon, value = (part.strip() for part in item.partition(":"))
        if not name:
            raise ValueError(f"style layers: {item.strip()!r} names no layer; write layer:weight, "
                             f"e.g. {format_weights(default_style_layers(handle))}")
        try:
            weight = float(value) if colon else 1.0
        except ValueError:
            raise ValueError(f"style layers: the weight of {name!r} is {value!r}, not a number") from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"style layers: the weight of {name!r} must be 0 or more, not {value}")
        full = resolve_layer(handle, name, "style layers")
        if full in out:
            raise ValueError(f"style layers: {name!r} is named twice")
        out[full] = weight
    if not any(w > 0 for w in out.values()):
        raise ValueError("style layers: give at least one layer a weight above 0")
    return out
