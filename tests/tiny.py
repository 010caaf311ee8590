"""A tiny classifier handle for tests that must not depend on bundled weights."""
import torch
from torch import nn

from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess


class TinyNet(nn.Module):
    def __init__(self, classes: int = 3):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.act1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1, stride=2)
        self.act2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, classes)

    def forward(self, x):
        x = self.act2(self.conv2(self.act1(self.conv1(x))))
        return self.fc(self.pool(x).flatten(1))


def tiny_handle(size: int = 16, seed: int = 0) -> ModelHandle:
    torch.manual_seed(seed)
    return ModelHandle(id="test:tiny", module=TinyNet().eval(), task="classify",
                       preprocess=Preprocess(Geometry((size, size))), labels=["a", "b", "c"])


def picture(h: int = 24, w: int = 32, seed: int = 0):
    """A random RGB uint8 image."""
    import numpy as np
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def builtin_registry():
    """A registry with the built-in methods only (no plugins)."""
    from workbench.core.methods import builtin_methods
    from workbench.core.registry import Registry
    reg = Registry()
    for m in builtin_methods():
        reg.add(m)
    return reg
