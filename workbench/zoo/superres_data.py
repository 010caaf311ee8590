"""What the bundled super-resolvers learn from and are checked on during training.

The high-resolution pool: single shapes (64x64, and 128x128 renders cropped), 128x128 scenes
cropped to 64x64 patches, and the 32x32 digits train split, sampled with flips and quarter
turns; the low-resolution input is made from each patch by ``superres.downsample``. Seeds are
disjoint from every shapes-cnn split; validation uses shapes-cnn's val seeds and the digits val
split.
"""
from __future__ import annotations

import numpy as np
import torch

from workbench.zoo import superres
from workbench.zoo.digits import FRACTIONS, SPLIT_SEED, load_split

PATCH = 64
VAL_SHAPES_SEEDS, VAL_SHAPES = 1_000_000, 200   # shapes-cnn's val split
NOTE = ("The digits are 8x8 scans upsampled bilinearly, so they have little high-frequency detail and "
        "their 4x downsample holds nearly all their information: a pixel-loss net learns to undo it almost "
        "exactly (PSNR about 55 dB against bicubic's 29) and an adversarial loss has nothing to restore. "
        "The shapes' edges, stripes, checks and noise are where super-resolution, and its sharpness / "
        "PSNR trade-off, show.")
POOL = {"items64": 3000, "items128": 500, "scenes128": 1500}


class TrainingData:
    """The HR training pool (shapes renders and digits), sampled with flips and quarter turns."""

    def __init__(self, seed: int):
        first = superres.SHAPES_TRAIN_SEEDS
        self.items64 = superres.to_tensor(superres.shapes_items(first, POOL["items64"]))
        self.big = torch.cat([
            superres.to_tensor(superres.shapes_items(first + 100_000, POOL["items128"], size=128)),
            superres.to_tensor(superres.shapes_scenes(first + 200_000, POOL["scenes128"]))])
        self.digits = superres.to_tensor(load_split("train")[0])
        self.rng = np.random.default_rng(seed)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        if self.rng.random() < 0.5:
            x = x.flip(-1)
        return torch.rot90(x, int(self.rng.integers(4)), dims=(-2, -1))

    def shapes(self, n: int) -> torch.Tensor:
        out = []
        for _ in range(n):
            if self.rng.random() < 0.5:
                out.append(self.items64[self.rng.integers(len(self.items64))])
            else:
                y, x = self.rng.integers(0, 128 - PATCH + 1, 2)
                big = self.big[self.rng.integers(len(self.big))]
                out.append(big[:, y:y + PATCH, x:x + PATCH])
        return self._augment(torch.stack(out))

    def digit_batch(self, n: int) -> torch.Tensor:
        return self._augment(self.digits[self.rng.integers(0, len(self.digits), n)])


def validation_images() -> dict[str, np.ndarray]:
    """What training reports on every 250 steps: shapes-cnn's val seeds and the digits val split."""
    return {"shapes": superres.shapes_items(VAL_SHAPES_SEEDS, VAL_SHAPES), "digits": load_split("val")[0]}


def data_card() -> dict:
    first = superres.SHAPES_TRAIN_SEEDS
    return {
        "high_resolution": {
            "shapes": f"render_shape seeds {first}.. (64x64, {POOL['items64']}) and {first + 100_000}.. "
                      f"(128x128, {POOL['items128']}), render_scene seeds {first + 200_000}.. "
                      f"(128x128, {POOL['scenes128']}); random 64x64 crops, flips, quarter turns",
            "digits": "sklearn digits train split, bilinear 8x8 -> 32x32, gray in all three channels"},
        "low_resolution": "area downsampling by 4 (4x4 block means), rounded to uint8",
        "digits_split": {"seed": SPLIT_SEED, "fractions": list(FRACTIONS), "stratified": True},
        "held_out": {"shapes": f"render_shape seeds {superres.SHAPES_TEST_SEEDS}.. (64x64, "
                               f"{superres.SHAPES_TEST_COUNT}; shapes-cnn's test split)",
                     "digits": "digits test split (270)"},
        "note": NOTE,
    }
