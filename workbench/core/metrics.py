"""Sample-quality metrics on feature arrays: FID, KID and Inception Score (numpy, float64).

The implementation lives in ``workbench.zoo.metrics``, on the ground floor, where the bundled
generators' training also measures its samples; this module is where core, the API and plugins
find it.
"""
from __future__ import annotations

from workbench.zoo.metrics import fid, inception_score, kid

__all__ = ["fid", "inception_score", "kid"]
