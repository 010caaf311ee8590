import torch
from torch import nn

from workbench.zoo.nets import ARCHITECTURES, DigitsCNN, ShapesCNN


def test_shapes_cnn_shapes_and_names():
    m = ShapesCNN().eval()
    assert m(torch.zeros(2, 3, 64, 64)).shape == (2, 6)
    names = dict(m.named_modules())
    for i in range(1, 5):
        assert isinstance(names[f"features.conv{i}"], nn.Conv2d)
        assert isinstance(names[f"features.bn{i}"], nn.BatchNorm2d)
    assert [names[f"features.conv{i}"].out_channels for i in range(1, 5)] == [16, 32, 64, 128]
    assert isinstance(names["fc"], nn.Linear)


def test_digits_cnn_shapes_and_names():
    m = DigitsCNN().eval()
    assert m(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    names = dict(m.named_modules())
    assert [names[f"features.conv{i}"].in_channels for i in range(1, 4)] == [1, 16, 32]


def test_no_inplace_operations():
    for cls in ARCHITECTURES.values():
        for mod in cls().modules():
            assert not getattr(mod, "inplace", False), mod


def test_gradients_reach_the_input():
    for m, x in ((ShapesCNN(), torch.randn(2, 3, 64, 64)), (DigitsCNN(), torch.randn(2, 1, 32, 32))):
        m.eval()
        x.requires_grad_(True)
        m(x)[:, 1].sum().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0

