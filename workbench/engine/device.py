"""Which torch device the worker runs on, and how to recover when it runs out of memory.

torch is imported inside the functions so that importing this module stays cheap.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")
_NAME = re.compile(r"^(auto|cpu|cuda|mps)(?::(\d+))?$")


def check_name(preference: str) -> str:
    """The normalised device name; a ValueError for anything that is not a device name."""
    name = str(preference).strip().lower()
    match = _NAME.match(name)
    if not match or (match.group(2) is not None and match.group(1) != "cuda"):
        raise ValueError(f"unknown device {preference!r}; choose one of {', '.join(DEVICE_NAMES)} (or cuda:N)")
    return name


def choose_device(preference: str = "auto") -> "torch.device":
    """auto: cuda if available, else mps if available, else cpu. An explicit name must be available."""
    import torch

    name = check_name(preference)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("CUDA is not available here (no NVIDIA GPU or driver, or a CPU-only "
                             "torch build); use the cpu device")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"no GPU {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if name == "mps" and not _mps_available():
        raise ValueError("MPS is not available here (it needs Apple silicon and a torch build with MPS); "
                         "use the cpu device")
    return torch.device(name)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


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
    elif device.type == "mps" and _mps_available():
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
