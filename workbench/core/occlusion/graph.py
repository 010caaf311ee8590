"""A model as a list of steps, from its torch.fx graph.

Every step computes out of place (in-place ops in the model would overwrite cached clean
activations). An eval-mode BatchNorm right after a conv is folded into the conv, and a ReLU
that is the only reader of a conv or of an add is applied in place by that step; the folded
and fused steps become aliases of the step that now computes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch.fx as fx
from torch import nn

from workbench.core.occlusion import ops

INPUT, STATIC, ALIAS, SPATIAL, POINTWISE, WHOLE, OUTPUT = (
    "input", "static", "alias", "spatial", "pointwise", "whole", "output")


@dataclass
class Step:
    name: str
    kind: str
    call: Callable[..., Any] | None = None
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    spatial: ops.SpatialOp | None = None
    source: str = ""                                  # ALIAS / OUTPUT: the step whose value this is
    dynamic: list[str] = field(default_factory=list)  # inputs that depend on the image


def steps_of(model: nn.Module, channels_last: bool = True, fast: bool = True) -> list[Step]:
    gm = fx.symbolic_trace(model)
    nodes = list(gm.graph.nodes)
    if sum(n.op == "placeholder" for n in nodes) != 1:
        raise ValueError("expected a model with exactly one input")
    folded = _bn_after_conv(gm, nodes)
    relu_of = _fusable_relus(gm, nodes, folded)
    fused = {producer for producer, _ in relu_of.values()}
    aliases = {bn.name: conv for conv, bn in folded.items()}
    aliases.update({relu: reader for relu, (_, reader) in relu_of.items()})
    steps = []
    for n in nodes:
        if n.name in aliases:
            steps.append(Step(n.name, ALIAS, source=aliases[n.name]))
        elif n.op == "placeholder":
            steps.append(Step(n.name, INPUT))
        elif n.op == "get_attr":
            value = _fetch(gm, n.target)
            steps.append(Step(n.name, STATIC, call=lambda v=value: v))
        elif n.op == "output":
            if not isinstance(n.args[0], fx.Node):
                raise ValueError("the model must return one tensor of scores")
            steps.append(Step(n.name, OUTPUT, source=n.args[0].name))
        elif n.op == "call_module":
            bn = gm.get_submodule(folded[n.name].target) if n.name in folded else None
            steps.append(_module_step(gm.get_submodule(n.target), n, bn, n.name in fused, channels_last, fast))
        else:
            steps.append(_call_step(n, n.name in fused))
    return steps


def _call_step(n: fx.Node, relu: bool) -> Step:
    if n.op == "call_function":
        target, kwargs = ops.out_of_place_function(n.target, dict(n.kwargs))
        pointwise = target in ops.POINTWISE_FUNCTIONS or ops.is_channel_cat(target, n.args, kwargs)
    else:
        name = ops.out_of_place_method(n.target)
        target, kwargs, pointwise = _method(name), dict(n.kwargs), name in ops.POINTWISE_METHODS
    return Step(n.name, POINTWISE if pointwise else WHOLE, ops.then_relu(target) if relu else target,
                n.args, kwargs)


def _module_step(module: nn.Module, n: fx.Node, bn: nn.Module | None, relu: bool,
                 channels_last: bool, fast: bool) -> Step:
    args, kwargs = n.args, dict(n.kwargs)
    op = None
    if isinstance(module, nn.Conv2d):
        op = ops.conv_op(module, bn, channels_last, relu, fast)
    elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        op = ops.pool_op(module)
    elif ops.pointwise_module(module):
        return Step(n.name, POINTWISE, ops.out_of_place_module(module), args, kwargs)
    if op is not None and len(args) == 1 and not kwargs:
        return Step(n.name, SPATIAL, op.full, args, kwargs, spatial=op)
    # a BatchNorm is only folded into a conv that conv_op accepts, so here at most a ReLU is fused
    call = ops.out_of_place_module(module)
    return Step(n.name, WHOLE, ops.then_relu(call) if relu else call, args, kwargs)


def _fetch(gm: fx.GraphModule, target: str) -> Any:
    obj: Any = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _method(name: str) -> Callable[..., Any]:
    def call(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)
    return call


def _bn_after_conv(gm: fx.GraphModule, nodes: list[fx.Node]) -> dict[str, fx.Node]:
    """conv node name -> the eval BatchNorm node that is its only reader (to be folded in)."""
    out = {}
    for n in nodes:
        if n.op == "call_module" and isinstance(gm.get_submodule(n.target), nn.Conv2d):
            conv = gm.get_submodule(n.target)
            users = list(n.users)
            if (conv.padding_mode == "zeros" and len(n.args) == 1 and not n.kwargs and len(users) == 1
                    and users[0].op == "call_module" and len(users[0].args) == 1
                    and ops.foldable_bn(gm.get_submodule(users[0].target))):
                out[n.name] = users[0]
    return out


def _is_relu(gm: fx.GraphModule, n: fx.Node) -> bool:
    if len(n.args) != 1 or not isinstance(n.args[0], fx.Node) or set(n.kwargs) - {"inplace"}:
        return False
    if n.op == "call_module":
        return type(gm.get_submodule(n.target)) is nn.ReLU
    if n.op == "call_function":
        return n.target in ops.RELU_FUNCTIONS
    return n.op == "call_method" and n.target in ("relu", "relu_")


def _fusable_relus(gm: fx.GraphModule, nodes: list[fx.Node],
                   folded: dict[str, fx.Node]) -> dict[str, tuple[str, str]]:
    """relu node name -> (the step that will apply it, the node it reads), where that node has
    no other reader and is a conv (maybe through its folded BatchNorm) or an add/sub/mul."""
    conv_of_bn = {bn.name: conv for conv, bn in folded.items()}
    out = {}
    for n in nodes:
        if not _is_relu(gm, n):
            continue
        a = n.args[0]
        if len(a.users) != 1:
            continue
        producer = conv_of_bn.get(a.name)
        if producer is None and a.op == "call_module" and isinstance(gm.get_submodule(a.target), nn.Conv2d):
            producer = a.name if len(a.args) == 1 and not a.kwargs else None
        if producer is None and a.op == "call_function" and ops.out_of_place_function(a.target, {})[0] in ops.ARITHMETIC:
            producer = a.name
        if producer is not None:
            out[n.name] = (producer, a.name)
    return out
