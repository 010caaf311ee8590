"""Engine jobs of the Super-res tab: bicubic, the pixel-loss and the GAN model side by side on the
workspace's image. The bundled pair is loaded in the job and kept, so the tab compares them whatever
model is loaded; a super-resolution model of the user's, loaded in the workspace, joins them."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from workbench.core.results.superres import SuperResolution
from workbench.core.superres.upscale import SCALE, bicubic, is_gray, prepare, scores, super_resolve

BUNDLED = ("zoo:sr-pixel", "zoo:sr-gan")


@lru_cache(maxsize=4)
def _bundled(model_id: str) -> Any:
    from workbench.core.sources import load_model
    return load_model(model_id)


def compare_upscales(jc: Any, image: np.ndarray, mode: str, extra: Any = None) -> SuperResolution:
    """bicubic, ``sr-pixel``, ``sr-gan`` (and ``extra``, a loaded super-resolution handle not among
    them) on ``image`` in ``mode``, each scored against the image in compare mode."""
    low, truth = prepare(image, mode)
    handles = [_bundled(model_id) for model_id in BUNDLED]
    if extra is not None and extra.id not in BUNDLED:
        handles.append(extra)
    device = getattr(jc, "device", "cpu")
    upscales = [bicubic(low)]
    for handle in handles:
        if jc is not None:
            jc.check()
        handle.to(device)
        upscales.append(super_resolve(handle.module, low, device))
    psnr, ssim = scores(truth, upscales)
    return SuperResolution(method="superres", model=",".join(h.id for h in handles), params={"mode": mode},
                           input=low, low=low, bicubic=upscales[0], sr=np.stack(upscales[1:]),
                           models=[h.id for h in handles], original=truth, psnr=psnr, ssim=ssim, mode=mode,
                           scale=SCALE, gray=is_gray(low),
                           title=f"{SCALE}x super-resolution: bicubic, pixel loss, GAN")


def card_summary(jc: Any = None) -> str:
    """The bundled pair's held-out comparison from their cards, in one line per method."""
    from workbench.zoo.catalogue import card
    try:
        shapes = card("sr-gan")["metrics"]["held_out"]["shapes"]
    except (FileNotFoundError, KeyError):
        return ""
    rows = [f"{name} PSNR {row['psnr']:.2f} dB, SSIM {row['ssim']:.3f}, FID {row['fid']:.2f}"
            for name, row in shapes.items() if isinstance(row, dict)]
    return f"On {shapes['n']} held-out shapes (model cards): " + " · ".join(rows)
