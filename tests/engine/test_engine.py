"""The engine through its tickets: results on the GUI thread, latest wins, order, failure, cancel,
OOM fallback."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from PySide6.QtCore import QCoreApplication, QThread
from torch import nn

from workbench.core.context import Partial, Progress
from workbench.core.geometry import Geometry
from workbench.core.handle import ModelHandle, Preprocess
from workbench.core.methods import activations
from workbench.core.registry import Method
from workbench.core.results import ActivationGrid, Heatmap
from workbench.engine import Engine
from workbench.engine import device as devices
from workbench.engine import ticket as T
from workbench.engine.worker import OOM_RAN_ON_CPU, OOM_SMALLER_CHUNKS

TIMEOUT_MS = 2000


@pytest.fixture
def engine(qtbot):
    eng = Engine(device="cpu")
    yield eng
    assert eng.shutdown(TIMEOUT_MS), "worker thread did not stop"


SIGNALS = ("started", "progress", "partial", "done", "failed", "cancelled", "finished")


def record(signal) -> list:
    seen: list = []
    signal.connect(lambda *args: seen.append(args))
    return seen


class Blocker:
    """A job that says when it runs and spins until cancelled (at most two seconds)."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.saw_cancel = False

    def __call__(self, jc):
        self.running.set()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if jc.cancel.is_set():
                self.saw_cancel = True
                jc.check()
            time.sleep(0.002)
        return "blocker finished"


def test_done_delivers_the_result_on_the_gui_thread(engine, qtbot):
    threads = {}

    def job(jc):
        threads["job"] = threading.current_thread()
        return 42

    ticket = engine.submit("k", job)
    ticket.done.connect(lambda result: threads.setdefault("slot", QThread.currentThread()))
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args == [42]
    assert ticket.key == "k" and ticket.state == T.DONE and ticket.result == 42
    assert threads["slot"] is QCoreApplication.instance().thread()
    assert threads["job"] is not threading.main_thread()


def test_latest_wins_for_one_key(engine, qtbot):
    blocker = Blocker()
    ran: list[int] = []
    first = engine.submit("slider", blocker)
    assert blocker.running.wait(1.0)

    def value(i):
        return lambda jc: ran.append(i) or i

    tickets = [engine.submit("slider", value(i)) for i in range(5)]
    done = [record(t.done) for t in [first] + tickets]
    with qtbot.waitSignal(tickets[-1].finished, timeout=TIMEOUT_MS):
        pass
    qtbot.wait(50)  # anything stale would have arrived by now
    assert done == [[], [], [], [], [], [(4,)]]
    assert ran == [4], "superseded queued jobs must be dropped without running"
    assert blocker.saw_cancel, "the superseded running job must see its cancel token set"
    assert [t.state for t in [first] + tickets] == [T.SUPERSEDED] * 5 + [T.DONE]


def test_a_superseded_job_that_ignores_cancel_stays_silent(engine, qtbot):
    started = threading.Event()

    def stubborn(jc):
        started.set()
        time.sleep(0.1)
        jc.progress(0.9, "stale")
        return "stale"

    old = engine.submit("k", stubborn)
    signals = {name: record(getattr(old, name)) for name in SIGNALS}
    assert started.wait(1.0)
    fresh = engine.submit("k", lambda jc: "fresh")
    with qtbot.waitSignal(fresh.done, timeout=TIMEOUT_MS) as sig:
        pass
    qtbot.wait(150)   # the stubborn job has ended by now
    assert sig.args == ["fresh"]
    assert signals == {name: [] for name in SIGNALS}
    assert old.state == T.SUPERSEDED and old.result is None


def test_different_keys_all_complete_in_submission_order(engine, qtbot):
    ran: list[str] = []
    done: list = []
    tickets = [engine.submit(key, lambda jc, key=key: ran.append(key) or key.upper()) for key in "abc"]
    for t in tickets:
        t.done.connect(lambda result, key=t.key: done.append((key, result)))
    with qtbot.waitSignal(tickets[-1].done, timeout=TIMEOUT_MS):
        pass
    assert ran == ["a", "b", "c"]
    assert done == [("a", "A"), ("b", "B"), ("c", "C")]


def test_failure_is_a_message_and_the_engine_keeps_working(engine, qtbot, caplog):
    def broken(jc):
        raise ValueError("bad input\nsecond line")

    with caplog.at_level(logging.ERROR):
        ticket = engine.submit("k", broken)
        finished = record(ticket.finished)
        with qtbot.waitSignal(ticket.failed, timeout=TIMEOUT_MS) as sig:
            pass
    assert sig.args == ["ValueError: bad input"]
    assert ticket.state == T.FAILED and ticket.error == "ValueError: bad input" and finished == [()]
    assert any(r.exc_info and r.exc_info[0] is ValueError for r in caplog.records), "traceback not logged"
    again = engine.submit("k", lambda jc: "fine")
    with qtbot.waitSignal(again.done, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args == ["fine"]


class Escape(BaseException):
    """Not an Exception: what a job must never let reach the worker loop or a Qt slot."""


@pytest.mark.parametrize("error", [Escape("out of the job"), SystemExit(3)])
def test_a_base_exception_becomes_failed_and_the_engine_keeps_working(engine, qtbot, error):
    def escapes(jc):
        raise error

    ticket = engine.submit("k", escapes)
    with qtbot.waitSignal(ticket.failed, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args[0].startswith(type(error).__name__)
    assert ticket.state == T.FAILED
    again = engine.submit("k", lambda jc: "still working")
    with qtbot.waitSignal(again.done, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args == ["still working"]
    qtbot.waitUntil(lambda: not engine.is_busy, timeout=TIMEOUT_MS)


def test_cancel_stops_a_cooperative_job(engine, qtbot):
    blocker = Blocker()
    ticket = engine.submit("k", blocker)
    events: list[str] = []
    for name in SIGNALS:
        getattr(ticket, name).connect(lambda *_, name=name: events.append(name))
    qtbot.waitUntil(lambda: ticket.state == T.RUNNING, timeout=TIMEOUT_MS)
    assert events == ["started"]
    with qtbot.waitSignal(ticket.finished, timeout=TIMEOUT_MS):
        engine.cancel("k")
    assert blocker.saw_cancel
    assert events == ["started", "cancelled", "finished"]
    assert ticket.state == T.CANCELLED
    qtbot.waitUntil(lambda: not engine.is_busy, timeout=TIMEOUT_MS)


def test_cancel_all_drops_queued_jobs_without_running_them(engine, qtbot):
    blocker, ran = Blocker(), []
    a = engine.submit("a", blocker)
    b = engine.submit("b", lambda jc: ran.append("b"))
    cancelled = [record(a.cancelled), record(b.cancelled)]
    assert blocker.running.wait(1.0)
    engine.cancel()
    qtbot.waitUntil(lambda: all(cancelled), timeout=TIMEOUT_MS)
    assert cancelled == [[()], [()]]
    assert (a.state, b.state) == (T.CANCELLED, T.CANCELLED)
    assert ran == []


def test_progress_and_partial_arrive_in_order_before_done(engine, qtbot):
    events: list = []

    def steps(jc):
        jc.progress(0.25, "a")
        jc.partial("p1")
        jc.progress(0.5, "b")
        jc.partial("p2")
        return "r"

    ticket = engine.submit("k", steps)
    ticket.progress.connect(lambda f, m: events.append(("progress", f, m)))
    ticket.partial.connect(lambda r: events.append(("partial", r)))
    ticket.done.connect(lambda r: events.append(("done", r)))
    ticket.finished.connect(lambda: events.append(("finished",)))
    with qtbot.waitSignal(ticket.finished, timeout=TIMEOUT_MS):
        pass
    assert events == [("progress", 0.25, "a"), ("partial", "p1"), ("progress", 0.5, "b"),
                      ("partial", "p2"), ("done", "r"), ("finished",)]


def test_busy_changes_once_each_way(engine, qtbot):
    busy = record(engine.busyChanged)
    engine.submit("a", lambda jc: 1)
    b = engine.submit("b", lambda jc: 2)
    with qtbot.waitSignal(b.done, timeout=TIMEOUT_MS):
        pass
    assert busy == [(True,), (False,)]
    assert not engine.is_busy


def test_a_quiet_job_is_announced_right_before_its_first_signal(engine, qtbot):
    from workbench.engine import worker as W

    sent: list[str] = []
    events: list = []
    engine._worker.event.connect(lambda job_id, kind, payload: sent.append(kind))

    def watch(ticket):
        ticket.started.connect(lambda: events.append(("started", ticket.key)))
        ticket.progress.connect(lambda f, m: events.append(("progress", ticket.key, f)))
        ticket.done.connect(lambda r: events.append(("done", ticket.key, r)))
        return ticket

    watch(engine.submit("a", lambda jc: "A", quiet=True))
    b = watch(engine.submit("b", lambda jc: jc.progress(0.5) or "B", quiet=True))
    with qtbot.waitSignal(b.done, timeout=TIMEOUT_MS):
        pass
    assert events == [("started", "a"), ("done", "a", "A"),
                      ("started", "b"), ("progress", "b", 0.5), ("done", "b", "B")]
    assert W.STARTED not in sent, "the worker must not announce a quiet job"

    events.clear()
    c = watch(engine.submit("c", lambda jc: "C"))
    with qtbot.waitSignal(c.done, timeout=TIMEOUT_MS):
        pass
    assert events == [("started", "c"), ("done", "c", "C")]
    assert engine._unannounced == set() and not engine.is_busy


def test_a_superseded_quiet_job_stays_silent_and_latest_still_wins(engine, qtbot):
    blocker = Blocker()
    tickets = [engine.submit("slider", blocker, quiet=True)]
    assert blocker.running.wait(1.0)
    tickets += [engine.submit("slider", lambda jc, i=i: i, quiet=True) for i in range(4)]
    started = [record(t.started) for t in tickets]
    done = [record(t.done) for t in tickets]
    with qtbot.waitSignal(tickets[-1].finished, timeout=TIMEOUT_MS):
        pass
    qtbot.wait(50)
    assert blocker.saw_cancel
    assert started == [[], [], [], [], [()]] and done == [[], [], [], [], [(3,)]]
    assert engine._unannounced == set()


def test_cancelling_a_quiet_job_says_cancelled_and_nothing_else(engine, qtbot):
    blocker = Blocker()
    ticket = engine.submit("k", blocker, quiet=True)
    events: list[str] = []
    for name in SIGNALS:
        getattr(ticket, name).connect(lambda *_, name=name: events.append(name))
    assert blocker.running.wait(1.0)
    with qtbot.waitSignal(ticket.cancelled, timeout=TIMEOUT_MS):
        engine.cancel("k")
    qtbot.waitUntil(lambda: not engine.is_busy, timeout=TIMEOUT_MS)
    assert events == ["cancelled", "finished"]
    assert engine._unannounced == set()


def fake_gpu(monkeypatch):
    monkeypatch.setattr(devices, "choose_device", lambda preference="auto": torch.device("cuda"))


def test_gpu_out_of_memory_retries_smaller_chunks_then_cpu(qtbot, monkeypatch):
    fake_gpu(monkeypatch)
    engine = Engine(device="cuda")
    attempts = []

    def greedy(jc):
        attempts.append((jc.device.type, jc.chunk_scale))
        if jc.device.type != "cpu":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        return "ok on cpu"

    notes = record(engine.note)
    try:
        ticket = engine.submit("k", greedy)
        with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
            pass
    finally:
        assert engine.shutdown(TIMEOUT_MS)
    assert sig.args == ["ok on cpu"]
    assert attempts == [("cuda", 1.0), ("cuda", 0.5), ("cpu", 1.0)]
    assert (OOM_SMALLER_CHUNKS,) in notes and notes[-1] == (OOM_RAN_ON_CPU,)


def test_gpu_out_of_memory_goes_straight_to_cpu_for_a_job_without_chunks(qtbot, monkeypatch):
    fake_gpu(monkeypatch)
    engine = Engine(device="cuda")
    devices_seen = []

    def plain(jc):
        devices_seen.append(jc.device.type)
        if jc.device.type != "cpu":
            raise RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)")
        return 7

    notes = record(engine.note)
    try:
        ticket = engine.submit("k", plain)
        with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
            pass
    finally:
        assert engine.shutdown(TIMEOUT_MS)
    assert sig.args == [7]
    assert devices_seen == ["cuda", "cpu"]
    assert notes == [(OOM_RAN_ON_CPU,)]


def test_importing_and_constructing_the_engine_does_not_import_torch():
    code = ("import sys\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "app = QCoreApplication([])\n"
            "from workbench.engine import Engine\n"
            "engine = Engine()\n"
            "print('torch' in sys.modules)\n"
            "assert engine.shutdown(1000)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_warm_up_resolves_the_device_in_the_background(engine, qtbot):
    with qtbot.waitSignal(engine.deviceChanged, timeout=TIMEOUT_MS) as sig:
        engine.warm_up()
    assert sig.args == ["cpu"]
    assert engine.device_name == "cpu"


def test_choose_device_honours_explicit_names_and_refuses_unknown_ones():
    assert devices.choose_device("cpu") == torch.device("cpu")
    assert devices.choose_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError, match="unknown device"):
        devices.choose_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            devices.choose_device("cuda")


def test_an_unavailable_device_falls_back_to_cpu_with_a_note(qtbot, monkeypatch):
    def no_gpu(preference="auto"):
        if preference != "cpu":
            raise ValueError("CUDA is not available here")
        return torch.device("cpu")

    monkeypatch.setattr(devices, "choose_device", no_gpu)
    engine = Engine(device="cuda")
    notes = record(engine.note)
    try:
        with qtbot.waitSignal(engine.deviceChanged, timeout=TIMEOUT_MS) as sig:
            engine.warm_up()
    finally:
        assert engine.shutdown(TIMEOUT_MS)
    assert sig.args == ["cpu"]
    assert notes == [("CUDA is not available here; using the CPU",)]


def test_jobs_leave_a_core_for_the_ui_and_shutdown_restores_the_threads(qtbot, monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    cores = len(os.sched_getaffinity(0))
    engine = Engine(device="cpu")
    try:
        ticket = engine.submit("k", lambda jc: torch.get_num_threads())
        with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
            pass
    finally:
        assert engine.shutdown(TIMEOUT_MS)
    assert sig.args[0] == min(before, max(1, cores - 1))
    assert torch.get_num_threads() == before


def test_an_explicit_omp_num_threads_is_left_alone(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    before = torch.get_num_threads()
    assert devices.spare_a_core_for_the_ui() is None
    assert torch.get_num_threads() == before


def test_shutdown_stops_a_running_job_and_refuses_new_ones(qtbot):
    engine = Engine(device="cpu")
    blocker = Blocker()
    engine.submit("k", blocker)
    assert blocker.running.wait(1.0)
    t0 = time.monotonic()
    assert engine.shutdown(TIMEOUT_MS)
    assert time.monotonic() - t0 < 0.5 and blocker.saw_cancel
    with pytest.raises(RuntimeError, match="shut down"):
        engine.submit("k", lambda jc: None)


def tiny_handle() -> ModelHandle:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, padding=1))
    return ModelHandle(id="tiny", module=net, task="classify", preprocess=Preprocess(Geometry((16, 16))))


def test_run_method_delivers_activations(engine, qtbot):
    handle = tiny_handle()
    image = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    ticket = engine.run_method("act", activations.METHOD, handle, image, {"layer": "0"})
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
        pass
    grid = sig.args[0]
    assert ticket.key == "act" and isinstance(grid, ActivationGrid)
    with torch.no_grad():
        expected = handle.module[0](handle.preprocess(image))[0].numpy()
    np.testing.assert_allclose(grid.tiles, expected, rtol=1e-5, atol=1e-6)
    assert grid.layer == "0" and grid.image_hw == (20, 24)


def counting_run(ctx, p):
    for i in range(3):
        yield Progress((i + 1) / 3, f"step {i + 1}")
        yield Partial(Heatmap(heatmap=np.full((2, 2), i, np.float32)))
    return Heatmap(heatmap=np.full((2, 2), 9, np.float32))


@dataclass
class NoParams:
    pass


COUNTING = Method(name="counting", tasks=("classify",), params=NoParams, run=counting_run, needs_image=False)


def test_run_method_forwards_progress_and_partials(engine, qtbot):
    ticket = engine.run_method("count", COUNTING, tiny_handle(), None, {})
    progress, partial = record(ticket.progress), record(ticket.partial)
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
        pass
    assert progress == [(1 / 3, "step 1"), (2 / 3, "step 2"), (1.0, "step 3")]
    assert [float(r.heatmap[0, 0]) for (r,) in partial] == [0.0, 1.0, 2.0]
    assert float(sig.args[0].heatmap[0, 0]) == 9.0


def test_run_method_reports_a_method_that_does_not_apply(engine, qtbot):
    handle = tiny_handle()
    handle.task = "generate"
    ticket = engine.run_method("act", activations.METHOD, handle, np.zeros((8, 8, 3), np.uint8), {})
    with qtbot.waitSignal(ticket.failed, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args[0].startswith("ValueError: method 'activations' does not apply to a generate model")
