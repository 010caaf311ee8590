"""Which tokens of a vision transformer are image patches, and where each patch sits."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from torch import nn


@dataclass(frozen=True)
class TokenGrid:
    """``prefix`` tokens (a CLS token, say) come first, then the patches row by row over ``hw``."""
    prefix: int
    hw: tuple[int, int]

    @property
    def patches(self) -> int:
        return self.hw[0] * self.hw[1]

    @property
    def tokens(self) -> int:
        return self.prefix + self.patches

    def patch_token(self, patch: int) -> int:
        return self.prefix + patch

    def parse_patch(self, text: str | int, name: str, centre_ok: bool = False) -> int:
        """A patch index from ``N`` (row-major), ``ROW,COL`` or, where allowed, ``centre``."""
        value = str(text).strip().lower()
        gh, gw = self.hw
        if centre_ok and value in ("centre", "center"):
            return (gh // 2) * gw + gw // 2
        if re.fullmatch(r"\d+\s*,\s*\d+", value):
            r, c = (int(v) for v in value.split(","))
            if not (r < gh and c < gw):
                raise ValueError(f"{name} {text!r}: the patch grid is {gh} rows x {gw} columns "
                                 f"(rows 0-{gh - 1}, columns 0-{gw - 1})")
            return r * gw + c
        if re.fullmatch(r"\d+", value):
            index = int(value)
            if index >= self.patches:
                raise ValueError(f"{name} {text!r}: there are {self.patches} patches (0-{self.patches - 1}, "
                                 f"row by row over {gh} x {gw})")
            return index
        extra = ", centre" if centre_ok else ""
        raise ValueError(f"{name} {text!r}: give a patch index (0-{self.patches - 1}), ROW,COL{extra}")


def token_grid(model: nn.Module, tokens: int, input_hw: tuple[int, int]) -> TokenGrid:
    """The patch grid behind ``tokens`` tokens for an input of ``input_hw`` pixels.

    From the model's ``patch_size`` where it has one (torchvision's ViT); otherwise the largest
    square grid that leaves at most a few tokens in front.
    """
    patch = _patch_size(model)
    if patch is not None:
        ph, pw = patch
        hw = (input_hw[0] // ph, input_hw[1] // pw)
        prefix = tokens - hw[0] * hw[1]
        if prefix < 0:
            raise ValueError(f"the model has {tokens} tokens, fewer than the {hw[0]} x {hw[1]} patches "
                             f"of a {input_hw[0]} x {input_hw[1]} input with {ph} x {pw} patches")
        return TokenGrid(prefix, hw)
    for prefix in range(0, min(tokens, 9)):
        side = math.isqrt(tokens - prefix)
        if side > 0 and side * side == tokens - prefix:
            return TokenGrid(prefix, (side, side))
    raise ValueError(f"cannot tell how {tokens} tokens lie over the image: the model names no patch_size "
                     f"and they are no square grid behind a few leading tokens")


def _patch_size(model: nn.Module) -> tuple[int, int] | None:
    for owner in (model, getattr(model, "patch_embed", None)):
        size = getattr(owner, "patch_size", None)
        if isinstance(size, int):
            return size, size
        if isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, int) for s in size):
            return int(size[0]), int(size[1])
    return None
