"""Run a method to completion: one path shared by the engine, the CLI and the API."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from workbench.core import params as P
from workbench.core.context import CancelToken, Context, Partial, Progress
from workbench.core.registry import Method
from workbench.core.results import Result


def make_params(method: Method, values: dict[str, Any] | None) -> Any:
    return P.build(method.params, values)


def run_method(method: Method, ctx: Context, values: dict[str, Any] | None = None,
               on_progress: Callable[[Progress], None] | None = None,
               on_partial: Callable[[Result], None] | None = None) -> Result:
    """Build the params, run the method (plain or generator) and return its final Result.

    Every input is checked before the method starts: the model's task, the image, the params and
    the target class (one of the model's classes; see ``targets.check_target``).
    """
    if not method.applies_to(ctx.handle.task):
        raise ValueError(f"method {method.name!r} does not apply to a {ctx.handle.task} model "
                         f"(it applies to: {', '.join(method.tasks)})")
    if not method.accepts_model(ctx.handle.task, ctx.handle.module):
        raise ValueError(f"method {method.name!r} needs {method.accepts_what or 'another kind of model'}; "
                         f"{ctx.handle.id} is a {type(ctx.handle.module).__name__}")
    if method.needs_image and ctx.image is None:
        raise ValueError(f"method {method.name!r} needs an image; open one first")
    params = make_params(method, values)
    ctx.handle.module.eval()
    from workbench.core.targets import check_target  # torch loads with the first run, not on import
    ctx.target = check_target(ctx.handle, ctx.target)
    out = method.run(ctx, params)
    if not method.is_generator():
        return _check(method, out)
    final = None
    try:
        while True:
            ctx.cancel.check()
            item = next(out)
            if isinstance(item, Progress):
                if on_progress:
                    on_progress(item)
            elif isinstance(item, Partial):
                final = item.result
                if on_partial:
                    on_partial(item.result)
            elif isinstance(item, Result):
                final = item
                if on_partial:
                    on_partial(item)
    except StopIteration as stop:
        if stop.value is not None:
            final = stop.value
    finally:
        out.close()
    return _check(method, final)


def _check(method: Method, result: Any) -> Result:
    if not isinstance(result, Result):
        raise TypeError(f"method {method.name!r} returned {type(result).__name__}, not a Result")
    return result


def context(handle, image: np.ndarray | None, device: Any = "cpu", target: int | None = None,
            cancel: CancelToken | None = None, chunk_scale: float = 1.0) -> Context:
    return Context(handle=handle, image=image, device=device, target=target, cancel=cancel or CancelToken(),
                   chunk_scale=chunk_scale)
