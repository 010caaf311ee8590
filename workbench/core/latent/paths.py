"""Latent-space geometry (numpy only): paths between latents, principal directions, grids.

The implementation lives in ``workbench.zoo.latent``, on the ground floor, where the bundled
autoencoders' training also uses it; this module is where core's methods find it.
"""
from __future__ import annotations

from workbench.zoo.latent import (SPACINGS, grid_values, lerp, manifold_grid, principal_directions,
                                  slerp)

__all__ = ["SPACINGS", "grid_values", "lerp", "manifold_grid", "principal_directions", "slerp"]
