"""Which network style transfer reads its features from, when the user names none.

VGG19 or VGG16 (Gatys et al.'s networks) when torchvision's weights for them are in the local torch
hub cache (looked up, never downloaded); otherwise the first bundled extractor that is here. Random
weights serve: Ustyuzhaninov et al. (2016) found that even random shallow multi-scale conv nets
synthesise textures well, and measured here (bench/style_extractors.py, README "Style transfer") a
random multi-scale net transfers texture far better than zoo:shapes-cnn, trained or not, and than
zoo:textures-cnn, whose textures the other nets' Gram matrices cannot tell from noise (it learnt grey
photographs: it keeps edges, not colour).

An extractor is named by a model id, or by ``MULTISCALE``: the random multi-scale net, built here
(``core.style.multiscale``) rather than loaded.
"""
from __future__ import annotations

import threading

VGGS = ("vgg19", "vgg16")
MULTISCALE = "random multi-scale net"
# in order of preference: the first that is here is the default; the others are offered
BUNDLED_EXTRACTORS = (MULTISCALE,)
OTHER_EXTRACTORS = ("zoo:textures-cnn", "zoo:shapes-cnn?weights=none", "zoo:shapes-cnn")
_CACHE_SIZE = 2
_cache: dict[str, object] = {}
_lock = threading.Lock()


def vgg_available() -> str:
    """The id of a VGG whose pretrained weights are in the torch hub cache, or ""."""
    from workbench.core.sources import hub_weights_path
    for name in VGGS:
        if hub_weights_path(name).is_file():
            return f"torchvision:{name}"
    return ""


def bundled_available(name: str) -> bool:
    """Whether an extractor can be had here: the multi-scale net, or a ``zoo:`` model whose weights ship
    (or that asks for random weights)."""
    if name == MULTISCALE:
        return True
    from workbench.zoo.catalogue import ZOO
    model, _, query = name.split(":", 1)[-1].partition("?")
    if not name.startswith("zoo:") or model not in ZOO:
        return False
    return query == "weights=none" or ZOO[model].weights_path().is_file()


def default_extractor() -> str:
    """The extractor style transfer uses when none is given."""
    return vgg_available() or next(m for m in BUNDLED_EXTRACTORS if bundled_available(m))


def extractor_choices() -> list[str]:
    """What a panel offers: the default first, then every other extractor that can be had here."""
    vgg = vgg_available()
    found = [m for m in (vgg, *BUNDLED_EXTRACTORS, *OTHER_EXTRACTORS) if m and (m == vgg or bundled_available(m))]
    return list(dict.fromkeys([default_extractor(), *found]))


def load_extractor(name: str = ""):
    """The extractor ``name`` names (the default when empty), kept for the next run."""
    name = name.strip() or default_extractor()
    with _lock:
        handle = _cache.get(name)
    if handle is None:
        if name == MULTISCALE:
            from workbench.core.style.multiscale import multiscale_extractor
            handle = multiscale_extractor(MULTISCALE)
        else:
            from workbench.core.sources import load_model
            handle = load_model(name)
        with _lock:
            _cache[name] = handle
            while len(_cache) > _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
    return handle


def default_handle():
    """The default extractor, loaded (what the ``style`` method runs on when given no model)."""
    return load_extractor(default_extractor())
