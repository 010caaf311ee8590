"""One batch item computed: its image read, the method run on it exactly as ``api.run`` runs it,
and what the store needs back (the npz's bytes, its params and the index row's values). The same
code runs in the batch's own process and in each Ray actor."""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.batch.items import Item, load_item_image
from workbench.core.batch.store import ERROR, OK
from workbench.core.failures import describe_failure

if TYPE_CHECKING:
    from workbench.core.registry import Method


@dataclass
class Outcome:
    item: Item
    status: str
    seconds: float
    worker: str
    error: str = ""
    npz: bytes = b""
    params_json: str = ""
    summary: dict[str, Any] = field(default_factory=dict)

    def row(self, npz_path: str = "") -> dict[str, Any]:
        fixed = {"key": self.item.key, "image": self.item.source, "label": self.item.label, "status": self.status,
                 "error": self.error, "seconds": round(self.seconds, 6), "worker": self.worker, "npz": npz_path}
        return {**fixed, **{(k if k not in fixed else f"result_{k}"): v for k, v in self.summary.items()}}


class ItemRunner:
    """Holds the model; calling it with an item computes that item as ``api.run`` would. A failure (an
    unreadable image, a method's error) is an ``error`` outcome with its message, never an exception;
    Ctrl+C still stops."""

    def __init__(self, method: "Method", model: str, params: dict[str, Any], target: str | None = None,
                 device: str = "cpu", threads: int = 0):
        import torch

        from workbench.core.devices import device_or_cpu
        from workbench.core.sources import load_model
        if threads > 0:
            torch.set_num_threads(threads)
        self.method, self.params = method, dict(params)
        self.device, _notice = device_or_cpu(device)
        self.handle = load_model(model)
        self.handle.to(self.device)
        self.target = self.handle.class_index(target) if target is not None else None
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, item: Item) -> Outcome:
        from workbench.core.runner import context, run_method
        start = time.perf_counter()
        try:
            image = load_item_image(item.source)
            result = run_method(self.method, context(self.handle, image, device=self.device, target=self.target),
                                self.params)
            return Outcome(item, OK, time.perf_counter() - start, self.worker, npz=result.npz_bytes(),
                           params_json=result.params_json(), summary=result.summary())
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            message = str(exc) if isinstance(exc, ValueError) else describe_failure(exc)
            return Outcome(item, ERROR, time.perf_counter() - start, self.worker, error=message)
