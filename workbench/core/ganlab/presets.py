"""One-click scenarios for the GAN lab, and the settings it warns about (plain data, no torch).

Each preset is a LabConfig and a step count that show one lesson; ``pair`` names the preset that
shows the other side of it. The outcomes quoted in the descriptions were measured on the ring
(seed 0) and are checked by tests/core/test_ganlab_presets.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from workbench.core.ganlab.config import LabConfig


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    config: LabConfig
    steps: int
    description: str
    pair: str = ""


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("mode-collapse", "Mode collapse", LabConfig(spectral_norm=False, lr_d=2e-4, lr_g=5e-3), 2500,
           "A generator 25x faster than an unnormalised discriminator chases D's current favourite spot: "
           "at most 2 of the 8 modes wherever measured, steps 150 to 2500 (seed 0).", pair="mode-collapse-cured"),
    Preset("mode-collapse-cured", "Mode collapse, cured", LabConfig(), 2500,
           "Equal learning rates and spectral norm on D (the lab's default): all 8 modes by step 2500.",
           pair="mode-collapse"),
    Preset("vanishing-gradients", "Vanishing gradients",
           LabConfig(loss="minimax", lr_d=1e-3, lr_g=1e-5, spectral_norm=False, batch=64), 300,
           "A generator too slow to keep up lets D reject its samples with confidence, and the minimax "
           "loss then gives G almost no gradient (median 3.5e-6 per point at step 300). On the same D the "
           "non-saturating loss gives 3.4: see the 'Same D, all losses' tab.", pair="non-saturating"),
    Preset("non-saturating", "Non-saturating cure",
           LabConfig(loss="nonsaturating", lr_d=1e-3, lr_g=1e-5, spectral_norm=False, batch=64), 300,
           "The vanishing-gradients setting with the non-saturating loss -log D(G(z)): its gradient "
           "grows, rather than vanishes, as D rejects the fakes.", pair="vanishing-gradients"),
    Preset("wgan-clip", "WGAN, clipping", LabConfig(loss="wgan-clip", spectral_norm=False), 750,
           "Every critic weight clipped to +-0.01: the critic's Lipschitz constant falls to about 1e-3 "
           "and below, and no mode is found (0 of 8 at steps 750 and 1500).", pair="wgan-gp"),
    Preset("wgan-gp", "WGAN-GP", LabConfig(loss="wgan-gp", spectral_norm=False), 750,
           "The gradient penalty holds the critic's slope near 1 on real-fake lines (the Lipschitz "
           "tab's histogram): 8 of 8 modes at step 750.", pair="wgan-clip"),
    Preset("spectral-norm-on", "Spectral norm on", LabConfig(spectral_norm=True), 600,
           "The default setting: every layer's largest singular value is held at 1, so D's slope is at "
           "most 1 (the Lipschitz tab reads out each layer before and after normalisation).",
           pair="spectral-norm-off"),
    Preset("spectral-norm-off", "Spectral norm off", LabConfig(spectral_norm=False), 600,
           "The same without spectral norm: the layers' norms grow freely and D's slope with them.",
           pair="spectral-norm-on"),
    Preset("ebgan", "EBGAN", LabConfig(loss="ebgan", spectral_norm=False, margin=2.0), 2500,
           "D is an auto-encoder; its reconstruction error is an energy, pushed down on real points and "
           "up to the margin m = 2 on generated ones, and G descends it: 8 of 8 modes at step 2500 "
           "(seeds 0-2; seed 3: 7 of 8). The readout's 1 - L_D/m is a lower bound on TV, tight at the "
           "best D."),
)}


def get(name: str) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name]


# the losses whose critic spectral norm breaks (see warnings): choosing one turns spectral norm off
SPECTRAL_NORM_OFF = ("wgan-gp", "wgan-clip", "ebgan")


def default_spectral_norm(loss: str) -> bool:
    """Whether spectral norm on D should start on for ``loss``."""
    return loss not in SPECTRAL_NORM_OFF


def warnings(config: LabConfig) -> list[str]:
    """Plain-words warnings for settings known to fail (measured on the ring)."""
    out = []
    if config.loss == "wgan-gp" and config.spectral_norm:
        out.append("WGAN-GP with spectral norm on D is known to diverge here (0-1 of 8 modes): spectral "
                   "norm caps D's slope at 1 while the penalty asks for exactly 1 on every real-fake line, "
                   "which leaves the critic almost linear. Turn spectral norm off for WGAN-GP.")
    if config.loss == "wgan-clip" and config.spectral_norm:
        out.append("Weight clipping and spectral norm both limit D's slope; together the critic is left "
                   "with almost no gradient. Turn spectral norm off for WGAN with clipping.")
    if config.loss == "ebgan" and config.spectral_norm:
        out.append("EBGAN with spectral norm on its auto-encoder does not train here (0-2 of 8 modes at "
                   "step 2500): with every layer's slope capped the energy cannot climb to the margin "
                   "between real and generated points that lie close together. Turn spectral norm off for EBGAN.")
    if not config.spectral_norm and config.lr_g >= 5 * config.lr_d and config.loss in ("nonsaturating", "minimax"):
        out.append("G learns much faster than an unnormalised D: expect mode collapse.")
    return out
