"""LiveRun: only the current run's signals get through, and a run that ended is let go."""
from PySide6.QtCore import QObject, Signal

from workbench.ui.live_run import LiveRun


class FakeTicket(QObject):
    partial = Signal(object)
    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self):
        super().__init__()
        self.cancels = 0

    def cancel(self):
        self.cancels += 1


def record(live):
    seen = []
    live.partial.connect(lambda r: seen.append(("partial", r)))
    live.progress.connect(lambda f, t: seen.append(("progress", f)))
    live.done.connect(lambda r: seen.append(("done", r)))
    live.failed.connect(lambda t: seen.append(("failed", t)))
    live.cancelled.connect(lambda: seen.append(("cancelled",)))
    live.ended.connect(lambda: seen.append(("ended",)))
    return seen


def test_a_newer_run_silences_the_one_before(qtbot):
    live = LiveRun()
    seen = record(live)
    first, second = FakeTicket(), FakeTicket()
    live.start(first)
    first.partial.emit("a")
    live.start(second)
    first.partial.emit("stale")
    first.done.emit("stale")
    second.partial.emit("b")
    second.progress.emit(0.5, "")
    assert live.partials == 1 and live.running
    second.done.emit("B")
    assert seen == [("partial", "a"), ("partial", "b"), ("progress", 0.5), ("done", "B"), ("ended",)]
    assert not live.running and live.partials == 1


def test_stop_asks_the_run_to_cancel_and_clear_drops_what_it_still_sends(qtbot):
    live = LiveRun()
    seen = record(live)
    ticket = live.start(FakeTicket())
    live.stop()
    assert ticket.cancels == 1 and live.running        # still running until it says it stopped
    ticket.cancelled.emit()
    assert seen == [("cancelled",), ("ended",)] and not live.running
    other = live.start(FakeTicket())
    live.clear()
    other.failed.emit("late")
    assert other.cancels == 1 and seen == [("cancelled",), ("ended",)] and not live.running
