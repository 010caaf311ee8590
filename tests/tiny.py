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
