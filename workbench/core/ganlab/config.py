"""The GAN lab's settings and the names the panel offers: plain data, no torch."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# the losses' names as the panel lists them (losses.py builds its table from these)
LOSS_LABELS: dict[str, str] = {
    "minimax": "Minimax (original)",
    "nonsaturating": "Non-saturating",
    "lsgan": "Least squares",
    "hinge": "Hinge",
    "wgan-gp": "WGAN-GP",
    "wgan-clip": "WGAN, clipping",
    # f-GAN with the named f-divergence (fgan.py)
    "fgan-kl": "f-GAN: KL",
    "fgan-reverse-kl": "f-GAN: reverse KL",
    "fgan-js": "f-GAN: Jensen-Shannon",
    "fgan-pearson": "f-GAN: Pearson chi2",
    "fgan-hellinger": "f-GAN: Hellinger",
    "fgan-tv": "f-GAN: total variation",
    # EBGAN: D an auto-encoder, its reconstruction error an energy, with a margin (losses.ebgan)
    "ebgan": "EBGAN (auto-encoder D)",
}


@dataclass(frozen=True)
class LabConfig:
    distribution: str = "ring"
    points: tuple[tuple[float, float], ...] = ()      # for distribution "drawn"
    loss: str = "nonsaturating"
    spectral_norm: bool = True
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    latent_dim: int = 4
    hidden: int = 64
    depth: int = 2
    batch: int = 128
    seed: int = 0
    margin: float = 1.0          # EBGAN's margin m: D pushes fake energies up to m, no further
    pull_away: bool = False      # EBGAN: add the pulling-away term on the encoder's codes to G's loss

    def replace(self, **changes: Any) -> "LabConfig":
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["points"] = [list(p) for p in self.points]
        return out
