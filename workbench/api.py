"""The public surface for scripts, notebooks and plugins (stable)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import numpy as np

from workbench.core.context import Cancelled, Progress
from workbench.core.metrics import fid, inception_score, kid
from workbench.core.results import Result

__all__ = ["load_model", "load_image", "run", "batch", "fid", "kid", "inception_score"]


def load_model(model_id: str, *, trust_pickle: bool = False):
    """A ModelHandle for ``zoo:NAME``, ``torchvision:NAME[?weights=...]`` or ``file:PATH``."""
    from workbench.core.sources import load_model as _load
    with _clean_errors(f"cannot load model {model_id!r}"):
        return _load(model_id, trust_pickle=trust_pickle)


def load_image(path: str) -> np.ndarray:
    """An RGB uint8 HxWx3 array from a path or ``sample:NAME``."""
    from workbench.core.samples import resolve_image
    with _clean_errors(f"cannot read image {str(path)!r}"):
        return resolve_image(str(path))


def run(method: str, model: Any = None, image: np.ndarray | str | None = None, target: int | str | None = None,
        device: str = "cpu", on_progress: Callable[[Progress], None] | None = None,
        params: dict[str, Any] | None = None, **kwargs: Any) -> Result:
    """Run a method by name on a model (handle or id) and an image (array, path or sample:NAME).
    A method that names a default model (style transfer's extractor) runs on it when ``model`` is None.

    The method's parameters come as keywords, or as ``params`` for one whose name a keyword here
    takes (activation maximisation's ``target``: ``params={"target": "channel:5"}``).

    A device that is not on this machine (``cuda`` without a GPU) runs on the CPU and says so with
    a ``core.devices.DeviceFallbackWarning``; an unknown device name is a ValueError.
    """
    import warnings

    from workbench.core.devices import DeviceFallbackWarning, device_or_cpu
    from workbench.core.runner import context, run_method
    from workbench.plugins import default_registry
    chosen, notice = device_or_cpu(device)
    method_obj = default_registry().get(method)
    if model is None:
        if method_obj.default_model is None:
            raise ValueError(f"method {method!r} needs a model: zoo:NAME, torchvision:NAME or file:PATH")
        model = method_obj.default_model()
    handle = load_model(model) if isinstance(model, str) else model
    if isinstance(image, str):
        image = load_image(image)
    if notice:
        warnings.warn(notice, DeviceFallbackWarning, stacklevel=2)
    handle.to(chosen)
    index = handle.class_index(target) if target is not None else None
    params = {**(params or {}), **kwargs}
    with _clean_errors(f"{method} on {handle.id} failed", {"target": target, **params}):
        return run_method(method_obj, context(handle, image, device=chosen, target=index), params,
                          on_progress=on_progress)


def batch(method: str, model: str, images: str, out: str | None = None, *, workers: int = 0,
          address: str | None = None, target: int | str | None = None, device: str = "cpu",
          on_progress: Callable[[Any], None] | None = None, **params: Any):
    """Run ``method`` over every image of ``images`` (a folder, a glob, or ``dataset:digits`` /
    ``dataset:shapes[:N]``) as ``workbench batch`` does; the index as a pyarrow Table (``.to_pandas()``
    where pandas is installed), whose ``npz`` column is each result's path under ``out``: the batch
    folder (a new temporary one when None); give the same one again to resume.
    ``workers`` > 0 runs on a local Ray cluster; ``address`` joins a running one."""
    import tempfile

    from workbench.core.batch.run import run_batch
    from workbench.plugins import default_registry
    method_obj = default_registry().get(method)
    out = out or tempfile.mkdtemp(prefix="workbench-batch-")
    with _clean_errors(f"batch {method} on {model} over {images}", params):
        return run_batch(method_obj, model, images, out, params, target=None if target is None else str(target),
                         workers=workers, address=address, device=device, on_progress=on_progress)


# what the workbench raises for bad input, with messages that name the file or parameter at fault
CLEAN_ERRORS = (ValueError, KeyError, OSError, Cancelled)


@contextmanager
def _clean_errors(what: str, given: dict[str, Any] | None = None) -> Iterator[None]:
    """Any other exception (a torch RuntimeError, cv2.error, IndexError, a damaged zip, even
    SystemExit from a plugin's method; Ctrl+C aside) becomes a ValueError that says ``what`` failed, with the
    parameters given, and keeps the original as its cause."""
    try:
        yield
    except (KeyboardInterrupt, *CLEAN_ERRORS):
        raise
    except BaseException as exc:
        from workbench.plugins import describe_failure
        shown = ", ".join(f"{k}={v!r}" for k, v in (given or {}).items() if v is not None)
        raise ValueError(f"{what}{f' ({shown})' if shown else ''}: {describe_failure(exc)}") from exc
