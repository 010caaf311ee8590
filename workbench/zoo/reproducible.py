"""What every bundled model's training run shares: seeding and a progress log on stderr."""
from __future__ import annotations

import sys
from contextlib import contextmanager

import torch

TRAIN_THREADS = 2


def log_to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@contextmanager
def reproducible(seed: int, threads: int = TRAIN_THREADS):
    """Seed torch, pin the thread count and turn deterministic algorithms on, then restore."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)
