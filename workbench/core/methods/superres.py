"""4x super-resolution by a bundled (or the user's) super-resolution model, beside bicubic.

mode=compare (default): the image is the truth; its 4x area downsample is enlarged again and
every upscale is scored against it (PSNR, SSIM). mode=upscale: the image itself is enlarged 4x.
A gray image comes out gray (see ``core.superres.upscale``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from workbench.core.context import Context
from workbench.core.params import param
from workbench.core.registry import Method
from workbench.core.results.superres import SuperResolution
from workbench.core.superres.upscale import MODES, SCALE, bicubic, is_gray, prepare, scores, super_resolve


@dataclass
class Params:
    mode: str = field(default="compare", metadata=param(
        "Mode", choices=MODES, help="compare: shrink the image 4x, enlarge it again and score against it; "
                                    "upscale: enlarge the image itself 4x"))


def upscale_image(handle, image, mode: str, device="cpu") -> SuperResolution:
    """bicubic and ``handle``'s 4x upscale of ``image`` in ``mode``, scored when there is a truth."""
    low, truth = prepare(image, mode)
    upscales = [bicubic(low), super_resolve(handle.module, low, device)]
    psnr, ssim = scores(truth, upscales)
    return SuperResolution(method=METHOD.name, model=handle.id, params={"mode": mode},
                           input=low, low=low, bicubic=upscales[0], sr=upscales[1][None],
                           models=[handle.id], original=truth, psnr=psnr, ssim=ssim, mode=mode,
                           scale=SCALE, gray=is_gray(low),
                           title=f"{handle.id.removeprefix('zoo:').split('?')[0]}: {SCALE}x super-resolution")


def run(ctx: Context, p: Params) -> SuperResolution:
    return upscale_image(ctx.handle, ctx.image, p.mode, ctx.device)


METHOD = Method(name="superres", kind="generative", tasks=("superres",), params=Params, run=run,
                title="Super-resolution",
                description="4x super-resolution beside bicubic; in compare mode scored against the image "
                            "(PSNR, SSIM)",
                default_model=lambda: "zoo:sr-gan")
