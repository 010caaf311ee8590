"""Per-step D and G losses in a growing buffer, read back thinned for plotting; and the
divergences measured along a run."""
from __future__ import annotations

import numpy as np

MAX_PLOT_POINTS = 2000
DIVERGENCES = ("kl", "js", "tv", "modes_covered")


class LossHistory:
    """D loss, G loss and G's median gradient norm per step (NaN where not measured)."""

    def __init__(self) -> None:
        self._data = np.empty((1024, 3), np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, d_loss: float, g_loss: float, g_grad: float = np.nan) -> None:
        if self._n == len(self._data):
            self._data = np.concatenate([self._data, np.empty_like(self._data)])
        self._data[self._n] = d_loss, g_loss, g_grad
        self._n += 1

    def _blocks(self, max_points: int) -> tuple[np.ndarray, np.ndarray]:
        block = max(1, -(-self._n // max_points))
        usable = self._n // block * block
        steps = np.arange(usable // block) * block + (block + 1) / 2   # each block's mean step, from 1
        return steps, self._data[:usable].reshape(-1, block, 3)

    def series(self, max_points: int = MAX_PLOT_POINTS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(step numbers, D losses, G losses); longer histories are averaged over equal blocks of
        steps so at most ``max_points`` remain (the last partial block is dropped)."""
        steps, blocks = self._blocks(max_points)
        means = blocks[:, :, :2].mean(1)
        return steps, means[:, 0].copy(), means[:, 1].copy()

    def grad_series(self, max_points: int = MAX_PLOT_POINTS) -> tuple[np.ndarray, np.ndarray]:
        """(step numbers, G's median per-point gradient norm); long histories thinned by the
        geometric mean of each block, as the norms span decades and are drawn on a log axis."""
        steps, blocks = self._blocks(max_points)
        with np.errstate(divide="ignore"):
            logs = np.log(np.maximum(blocks[:, :, 2], 1e-30))
        return steps, np.exp(logs.mean(1))


class DivergenceHistory:
    """The divergences and mode coverage measured during a run, one row per measured step."""

    def __init__(self) -> None:
        self._rows: list[tuple[int, float, float, float, float]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        self._rows.clear()

    def record(self, step: int, kl: float, js: float, tv: float, modes_covered: int | None) -> None:
        """A measurement at ``step``; a second one at the same step replaces the first."""
        row = (int(step), float(kl), float(js), float(tv), np.nan if modes_covered is None else float(modes_covered))
        if self._rows and self._rows[-1][0] == row[0]:
            self._rows[-1] = row
        else:
            self._rows.append(row)

    def series(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """(steps, {"kl", "js", "tv", "modes_covered": values}); NaN coverage where there are no modes."""
        data = np.asarray(self._rows, np.float64).reshape(-1, 5)
        return data[:, 0].astype(np.int64), {k: data[:, i + 1].copy() for i, k in enumerate(DIVERGENCES)}
