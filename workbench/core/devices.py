"""Device names: which are valid, which are here, and the CPU when the one asked for is not.

torch is imported inside the functions so that importing this module stays cheap.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

DEVICE_NAMES = ("auto", "cpu", "cuda", "mps")
_NAME = re.compile(r"^(auto|cpu|cuda|mps)(?::(\d+))?$")


class DeviceFallbackWarning(UserWarning):
    """The device asked for is not on this machine, so the work runs on the CPU."""


def check_name(preference: Any) -> str:
    """The normalised device name (a string or a torch.device); a ValueError for anything else."""
    name = str(preference).strip().lower()
    match = _NAME.match(name)
    if not match or (match.group(2) is not None and match.group(1) != "cuda"):
        raise ValueError(f"unknown device {str(preference)!r}; choose one of {', '.join(DEVICE_NAMES)} "
                         f"(or cuda:N)")
    return name


def choose_device(preference: Any = "auto") -> "torch.device":
    """auto: cuda if available, else mps if available, else cpu. An explicit name must be available."""
    import torch

    name = check_name(preference)
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if mps_available() else torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("CUDA is not available here (no NVIDIA GPU or driver, or a CPU-only "
                             "torch build)")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"no GPU {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if name == "mps" and not mps_available():
        raise ValueError("MPS is not available here (it needs Apple silicon and a torch build with MPS)")
    return torch.device(name)


def device_or_cpu(preference: Any = "auto") -> tuple["torch.device", str | None]:
    """The device asked for, or the CPU with a notice saying why when it is not on this machine.

    An unknown name is still a ValueError: a typo must not quietly run on the CPU.
    """
    import torch

    check_name(preference)
    try:
        return choose_device(preference), None
    except ValueError as exc:
        return torch.device("cpu"), f"device {str(preference)!r} is not available: {exc}; running on the CPU"


def mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
