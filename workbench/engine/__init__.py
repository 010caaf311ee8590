"""The worker: jobs, latest-wins, progress, cancel, device (QtCore only; torch loads lazily)."""
from workbench.engine.device import choose_device
from workbench.engine.engine import Engine
from workbench.engine.jobs import JobContext

__all__ = ["Engine", "JobContext", "choose_device"]
