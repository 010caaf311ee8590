"""A batch's items computed by Ray actors, each holding the model (one GPU each where the cluster
has GPUs, else its share of the CPUs, with as many torch threads).

Each actor has two items in flight, so it never waits for the driver. An actor that dies is
restarted by Ray and its task retried; an item whose actor is gone for good goes back in the queue
for the others. A local cluster started here is shut down when the run ends, however it ends.
"""
from __future__ import annotations

import logging
import os
from collections import deque
from typing import TYPE_CHECKING, Any, Iterator

from workbench.core.batch.items import Item
from workbench.core.batch.work import ItemRunner, Outcome

if TYPE_CHECKING:
    from workbench.core.registry import Method

IN_FLIGHT = 2          # items queued on each actor
MAX_ATTEMPTS = 3       # an item whose actors keep dying is given up after this many


class _Worker:
    def __init__(self, *args: Any):
        self.runner = ItemRunner(*args)

    def run(self, item: Item) -> Outcome:
        return self.runner(item)


def ray_outcomes(todo: list[Item], method: "Method", model: str, params: dict[str, Any], target: str | None,
                 workers: int, address: str | None, device: str) -> Iterator[Outcome]:
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        _start(ray, workers, address)
    try:
        yield from _run(ray, todo, method, model, params, target, workers, device)
    finally:
        if started:
            ray.shutdown()


def _run(ray, todo, method, model, params, target, workers, device) -> Iterator[Outcome]:
    from ray.exceptions import RayActorError
    resources = ray.cluster_resources()
    gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
    count = workers or gpus or cpus
    share = max(1, cpus // count)
    actor_class = ray.remote(_Worker).options(num_cpus=share, num_gpus=1 if gpus else 0,
                                              max_restarts=2, max_task_retries=2)
    actors = [actor_class.remote(method, model, params, target, "cuda" if gpus else device, share)
              for _ in range(count)]
    queue, attempts = deque(todo), {}
    pending: dict[Any, tuple[Any, Item]] = {}

    def submit(actor) -> None:
        if queue:
            item = queue.popleft()
            attempts[item.key] = attempts.get(item.key, 0) + 1
            pending[actor.run.remote(item)] = (actor, item)

    for actor in actors:
        for _ in range(IN_FLIGHT):
            submit(actor)
    while pending:
        (ref,), _ = ray.wait(list(pending), num_returns=1)
        actor, item = pending.pop(ref)
        try:
            outcome = ray.get(ref)
        except RayActorError as exc:
            actors = [a for a in actors if a is not actor]
            if attempts[item.key] >= MAX_ATTEMPTS or not actors:
                raise RuntimeError(f"Ray workers died computing {item.key}: {exc}") from exc
            queue.appendleft(item)
            for _ in range(IN_FLIGHT):
                submit(actors[0])
            continue
        submit(actor)
        yield outcome


def _start(ray, workers: int, address: str | None) -> None:
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=workers or os.cpu_count() or 1, **quiet)


def require_ray():
    try:
        import ray
    except ImportError:
        raise ValueError('--workers and --address need Ray: pip install -e ".[cluster]" '
                         '(or pip install "ray>=2.9")') from None
    return ray
