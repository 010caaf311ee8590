"""Which torch device the worker runs on (names and availability: core.devices), and how to
recover when it runs out of memory.

torch is imported inside the functions so that importing this module stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.devices import DEVICE_NAMES, check_name, choose_device, mps_available

if TYPE_CHECKING:
    import torch

__all__ = ["DEVICE_NAMES", "check_name", "choose_device", "is_out_of_memory", "free_memory",
           "spare_a_core_for_the_ui"]


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the errors torch raises when a GPU (CUDA or MPS) runs out of memory."""
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_memory(device: "torch.device") -> None:
    """Give the allocator's cached blocks back so a retry starts from a clean slate."""
    import gc

    import torch

    gc.collect()
    if device.type == "cuda" and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device.type == "mps" and mps_available():
        torch.mps.empty_cache()


def spare_a_core_for_the_ui() -> int | None:
    """Let torch's CPU work use every core but one, so the UI thread never queues behind it.

    Returns the thread count it replaced, to restore later; None when it changed nothing (a
    single core, or OMP_NUM_THREADS / MKL_NUM_THREADS chosen by the user).
    """
    import os

    import torch

    if os.environ.get("OMP_NUM_THREADS") or os.environ.get("MKL_NUM_THREADS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    before = torch.get_num_threads()
    wanted = min(before, max(1, cores - 1))
    if wanted == before:
        return None
    torch.set_num_threads(wanted)
    return before
