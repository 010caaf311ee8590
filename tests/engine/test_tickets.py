"""Tickets: each job's own signals, superseded tickets, cancel through the ticket, what a job may be."""
from __future__ import annotations

import functools
import threading
import time

import pytest

from workbench.engine import Engine
from workbench.engine import ticket as T

TIMEOUT_MS = 2000
SIGNALS = ("started", "progress", "partial", "done", "failed", "cancelled", "finished")


@pytest.fixture
def engine(qtbot):
    eng = Engine(device="cpu")
    yield eng
    assert eng.shutdown(TIMEOUT_MS), "worker thread did not stop"


def watch(ticket) -> list:
    """Every signal of the ticket, in order, as (name, *args)."""
    seen: list = []
    for name in SIGNALS:
        getattr(ticket, name).connect(lambda *args, name=name: seen.append((name, *args)))
    return seen


def wait_until_running(qtbot, ticket) -> None:
    qtbot.waitUntil(lambda: ticket.state == T.RUNNING, timeout=TIMEOUT_MS)


class Gate:
    """A job that reports, then waits until the test opens the gate (or it is cancelled)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.open = threading.Event()
        self.running = threading.Event()

    def __call__(self, jc):
        self.running.set()
        jc.progress(0.5, f"{self.tag} half")
        jc.partial(f"{self.tag} partial")
        while not self.open.wait(0.002):
            jc.check()
        return f"{self.tag} result"


def test_each_ticket_gets_only_its_own_jobs_signals(engine, qtbot):
    gate_a, gate_b = Gate("a"), Gate("b")
    a, b = engine.submit("a", gate_a), engine.submit("b", gate_b)
    seen_a, seen_b = watch(a), watch(b)
    assert gate_a.running.wait(1.0)
    qtbot.waitUntil(lambda: len(seen_a) == 3, timeout=TIMEOUT_MS)
    assert seen_b == [], "b is queued behind a: nothing of a's may reach b's ticket"
    gate_a.open.set()
    gate_b.open.set()
    with qtbot.waitSignal(b.finished, timeout=TIMEOUT_MS):
        pass
    assert seen_a == [("started",), ("progress", 0.5, "a half"), ("partial", "a partial"),
                      ("done", "a result"), ("finished",)]
    assert seen_b == [("started",), ("progress", 0.5, "b half"), ("partial", "b partial"),
                      ("done", "b result"), ("finished",)]
    assert (a.state, a.result, b.state, b.result) == (T.DONE, "a result", T.DONE, "b result")


def test_a_superseded_ticket_stays_quiet(engine, qtbot):
    gate = Gate("old")
    old = engine.submit("k", gate)
    seen_old = watch(old)
    qtbot.waitUntil(lambda: len(seen_old) == 3, timeout=TIMEOUT_MS)   # started, progress, partial
    queued = engine.submit("k", lambda jc: "queued")
    new = engine.submit("k", lambda jc: "new")
    seen_queued, seen_new = watch(queued), watch(new)
    assert (old.state, queued.state) == (T.SUPERSEDED, T.SUPERSEDED) and old.ended
    with qtbot.waitSignal(new.finished, timeout=TIMEOUT_MS):
        pass
    qtbot.wait(50)
    assert [s[0] for s in seen_old] == ["started", "progress", "partial"], \
        "after the newer job arrived, nothing more for the old ticket"
    assert seen_queued == []
    assert seen_new == [("started",), ("done", "new"), ("finished",)]
    assert old.state == T.SUPERSEDED and old.result is None and new.state == T.DONE


def test_ticket_cancel_gives_cancelled_then_finished(engine, qtbot):
    gate = Gate("g")
    ticket = engine.submit("k", gate)
    seen = watch(ticket)
    wait_until_running(qtbot, ticket)
    with qtbot.waitSignal(ticket.finished, timeout=TIMEOUT_MS):
        ticket.cancel()
    assert [s[0] for s in seen] == ["started", "progress", "partial", "cancelled", "finished"]
    assert ticket.state == T.CANCELLED and ticket.result is None
    ticket.cancel()   # an ended ticket: nothing more happens
    qtbot.wait(20)
    assert [s[0] for s in seen][-1] == "finished" and len(seen) == 5
    qtbot.waitUntil(lambda: not engine.is_busy, timeout=TIMEOUT_MS)


def test_cancelling_a_queued_ticket_never_runs_its_job(engine, qtbot):
    gate, ran = Gate("first"), []
    first = engine.submit("first", gate)
    queued = engine.submit("second", lambda jc: ran.append("second"))
    seen_first, seen_queued = watch(first), watch(queued)
    assert gate.running.wait(1.0)
    queued.cancel()
    assert seen_queued == [("cancelled",), ("finished",)] and queued.state == T.CANCELLED
    gate.open.set()
    with qtbot.waitSignal(first.done, timeout=TIMEOUT_MS):
        pass
    qtbot.waitUntil(lambda: not engine.is_busy, timeout=TIMEOUT_MS)
    assert ran == [] and seen_first[-1] == ("finished",)


def test_cancelling_a_superseded_ticket_leaves_the_newer_job_alone(engine, qtbot):
    gate = Gate("old")
    old = engine.submit("k", gate)
    assert gate.running.wait(1.0)
    new = engine.submit("k", lambda jc: time.sleep(0.05) or "new")
    seen_new = watch(new)
    old.cancel()
    with qtbot.waitSignal(new.finished, timeout=TIMEOUT_MS):
        pass
    assert seen_new == [("started",), ("done", "new"), ("finished",)]


def test_submit_announces_each_ticket(engine, qtbot):
    announced: list = []
    engine.submitted.connect(announced.append)
    a = engine.submit("a", lambda jc: 1)
    b = engine.run_method("b", *method_args())
    assert announced == [a, b] and [t.key for t in announced] == ["a", "b"]
    assert a.state in (T.PENDING, T.RUNNING, T.DONE)
    with qtbot.waitSignal(b.finished, timeout=10000):
        pass


def method_args():
    from tests.tiny import builtin_registry, picture, tiny_handle
    return builtin_registry().get("activations"), tiny_handle(), picture(), {"layer": "conv1"}


def test_args_and_kwargs_reach_the_job_function(engine, qtbot):
    calls = []

    def job(jc, first, second, *, scale=1, offset=0):
        calls.append((jc.device.type, first, second, scale, offset))
        return (first + second) * scale + offset

    ticket = engine.submit("k", job, 2, 3, scale=10, offset=1)
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args == [51] and calls == [("cpu", 2, 3, 10, 1)]


def ui_function(jc):
    return "computed in the UI"


def test_a_job_function_written_in_the_ui_is_refused(engine, qtbot, monkeypatch):
    announced = []
    engine.submitted.connect(announced.append)
    monkeypatch.setattr(ui_function, "__module__", "workbench.ui.fake")
    with pytest.raises(TypeError, match=r"workbench\.ui\.fake\.ui_function is defined in the UI"):
        engine.submit("k", ui_function)
    with pytest.raises(TypeError, match="defined in the UI"):
        engine.submit("k", functools.partial(ui_function), quiet=True)
    monkeypatch.setattr(ui_function, "__module__", "workbench.ui")
    with pytest.raises(TypeError):
        engine.submit("k", ui_function)
    assert announced == [] and not engine.is_busy, "a refused job is never queued"

    monkeypatch.setattr(ui_function, "__module__", "workbench.uikit")   # not the ui package
    ticket = engine.submit("k", ui_function)
    with qtbot.waitSignal(ticket.done, timeout=TIMEOUT_MS) as sig:
        pass
    assert sig.args == ["computed in the UI"]


def test_a_job_running_at_shutdown_ends_cancelled_so_no_slot_submits_to_a_closed_engine(qtbot):
    engine = Engine(device="cpu")
    started = threading.Event()

    def slow(jc):
        started.set()
        time.sleep(0.3)
        return "late"

    ticket = engine.submit("k", slow)
    done = []
    ticket.done.connect(done.append)
    assert started.wait(30)
    with qtbot.waitSignal(ticket.cancelled, timeout=30000):
        engine.shutdown(10000)
    assert done == [] and ticket.state == "cancelled"
