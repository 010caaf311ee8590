"""Does the UI thread stay responsive while the engine runs a CPU-heavy torch job?

A 10 ms QTimer heartbeat on the UI thread records its lag (actual interval minus 10 ms) while the
worker runs conv forwards on a 1x3x224x224 input for a few seconds. Budget: worst lag <= 20 ms.
The lag is also measured with the UI idle (the machine's own noise) and while the worker
imports torch (warm_up), with its own budget of 20 ms too; --plain-torch-import measures a plain
``import torch`` there instead, to compare. torch threads are the engine's (every core but one);
--torch-threads overrides them to compare.

    python bench/ui_responsiveness.py [--seconds 5] [--device auto] [--torch-threads N] [--plain-torch-import]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from workbench.engine import Engine  # noqa: E402

BUDGET_MS = 20.0
TICK_MS = 10


class Heartbeat:
    """A 10 ms precise timer on the UI thread; ``lags_ms`` holds each interval minus 10 ms."""

    def __init__(self) -> None:
        self.lags_ms: list[float] = []
        self._clock = QElapsedTimer()
        self._last_ns = 0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.lags_ms.clear()
        self._clock.start()
        self._last_ns = self._clock.nsecsElapsed()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return list(self.lags_ms)

    def _tick(self) -> None:
        now = self._clock.nsecsElapsed()
        self.lags_ms.append((now - self._last_ns) / 1e6 - TICK_MS)
        self._last_ns = now


def conv_job(seconds: float, threads: int = 0):
    """Repeated conv forwards: the hot loop is in torch, which releases the GIL."""

    def job(jc):
        import torch
        from torch import nn

        if threads:
            torch.set_num_threads(threads)
        net = nn.Sequential(
            nn.Conv2d(3, 32, 7, stride=2, padding=3), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        ).to(jc.device).eval()
        x = torch.randn(1, 3, 224, 224, device=jc.device)
        forwards, t0 = 0, time.perf_counter()
        with torch.no_grad():
            while (elapsed := time.perf_counter() - t0) < seconds:
                jc.check()
                net(x)
                forwards += 1
                jc.progress(min(elapsed / seconds, 1.0), f"{forwards} forwards")
        return forwards, torch.get_num_threads()

    return job


def wait_for(signal, timeout_ms: int) -> list:
    """Run the event loop until ``signal`` fires; returns its arguments."""
    loop, got = QEventLoop(), []
    signal.connect(lambda *args: (got.extend(args), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    if not got:
        raise TimeoutError(f"no signal within {timeout_ms} ms")
    return got


def measure_idle(heartbeat: Heartbeat, ms: int) -> list[float]:
    loop = QEventLoop()
    heartbeat.start()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    return heartbeat.stop()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(name: str, lags: list[float]) -> str:
    if not lags:
        return f"{name:<28} (over before the first beat)"
    return (f"{name:<28} worst {max(lags):6.2f} ms   p95 {percentile(lags, 95):6.2f} ms   "
            f"p50 {percentile(lags, 50):6.2f} ms   beats {len(lags)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--switch-interval-ms", type=float, default=0.0,
                        help="Python's GIL switch interval; 0: leave it as it is")
    parser.add_argument("--plain-torch-import", action="store_true",
                        help="the worker imports torch as a plain import, holding the interpreter lock")
    args = parser.parse_args(argv)
    if args.plain_torch_import:
        from workbench.engine import worker
        worker.import_torch_sparing_the_ui = lambda: None   # the device choice imports torch plainly
    if args.switch_interval_ms:
        sys.setswitchinterval(args.switch_interval_ms / 1000)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    engine = Engine(device=args.device)
    heartbeat = Heartbeat()
    try:
        idle = measure_idle(heartbeat, int(args.seconds * 1000))

        heartbeat.start()
        engine.warm_up()
        device = wait_for(engine.deviceChanged, 60_000)[0]
        warm = heartbeat.stop()

        heartbeat.start()
        ticket = engine.submit("bench", conv_job(args.seconds, args.torch_threads))
        ticket.failed.connect(lambda msg: print(f"job failed: {msg}", file=sys.stderr))
        forwards, threads = wait_for(ticket.done, int(args.seconds * 1000) + 30_000)[0]
        busy = heartbeat.stop()
    finally:
        engine.shutdown(5000)

    print(f"device {device}, torch threads {threads}, GIL switch interval "
          f"{sys.getswitchinterval() * 1000:g} ms, "
          f"{forwards} forwards of 1x3x224x224 in {args.seconds:g} s, budget {BUDGET_MS:g} ms")
    print(summary("UI idle (noise)", idle))
    print(summary("worker imports torch" + (" (plain)" if args.plain_torch_import else ""), warm))
    print(summary("worker runs the job", busy))
    ok = True
    for what, lags in (("the worker imports torch", warm), ("the job runs", busy)):
        worst = max(lags, default=0.0)
        ok = ok and worst <= BUDGET_MS
        print(f"{'PASS' if worst <= BUDGET_MS else 'FAIL'}: worst lag while {what} {worst:.2f} ms "
              f"= {worst / BUDGET_MS:.2f} x budget")
    del app
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
