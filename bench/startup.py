"""Time from launching `python -m workbench` to its window being visible (budget: 1.5 s).

Each run starts a fresh process with WORKBENCH_REPORT_STARTUP=1, which makes the window print
"window-visible SECONDS torch-imported BOOL" once it is first exposed and painted, and quit.
The wall time is taken here, from just before the launch to the moment that line arrives.
For scale, the same is measured for a bare window (PySide6 + pyqtgraph, nothing of ours): the
floor this machine sets, whatever the app does.

    python bench/startup.py [--runs 5] [--budget 1.5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


APP = [sys.executable, "-m", "workbench"]
BARE = [sys.executable, "-c", """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
import pyqtgraph as pg
from workbench.app import seconds_since_process_start
app = QApplication([])
window = QMainWindow()
window.setCentralWidget(pg.GraphicsLayoutWidget())
class FirstExpose(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Expose and obj.isExposed():
            obj.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print("window-visible", seconds_since_process_start(),
                                                "torch-imported", "torch" in sys.modules, flush=True), app.quit()))
        return False
window.show()
first = FirstExpose()
window.windowHandle().installEventFilter(first)
app.exec()
"""]


def launch_once(command: list[str], env: dict[str, str], timeout: float) -> tuple[float, float, bool]:
    """(wall seconds until the window reported, seconds the process itself measured, torch imported)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("window-visible"):
                wall = time.perf_counter() - t0
                _, inside, _, torch_flag = line.split()
                proc.wait(timeout=timeout)
                return wall, float(inside), torch_flag == "True"
        proc.wait(timeout=timeout)
        raise RuntimeError(f"the window never reported (exit {proc.returncode}):\n{proc.stderr.read()[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--budget", type=float, default=1.5, help="seconds")
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "WORKBENCH_REPORT_STARTUP": "1",
               "WORKBENCH_SETTINGS": str(Path(tmp) / "settings.ini")}
        env.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
        launch_once(APP, env, args.timeout)  # warm the file cache; not counted
        runs, bare = [], []
        for _ in range(args.runs):  # interleaved, so both see the same machine load
            runs.append(launch_once(APP, env, args.timeout))
            bare.append(launch_once(BARE, env, args.timeout)[0])

    walls = [r[0] for r in runs]
    inside = [r[1] for r in runs]
    torch_before = any(r[2] for r in runs)
    median, worst = statistics.median(walls), max(walls)
    print(f"platform          {env['QT_QPA_PLATFORM']}")
    print(f"runs              {len(runs)}: " + ", ".join(f"{w:.3f}" for w in walls) + " s")
    print(f"window visible    median {median:.3f} s, max {worst:.3f} s (launch to report)")
    print(f"in-process        median {statistics.median(inside):.3f} s (process start to report)")
    print(f"bare window       median {statistics.median(bare):.3f} s; app/bare "
          f"{median / statistics.median(bare):.2f}")
    print(f"torch before show {torch_before}")
    print(f"budget            {args.budget:.2f} s; median/budget {median / args.budget:.2f}, "
          f"max/budget {worst / args.budget:.2f}")
    ok = median <= args.budget and not torch_before
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
