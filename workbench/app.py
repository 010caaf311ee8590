"""Entry point: a CLI subcommand, or the GUI (window first; torch and models load after it shows)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from typing import Callable, Sequence

REPORT_ENV = "WORKBENCH_REPORT_STARTUP"
DEBUG_ENV = "WORKBENCH_DEBUG"      # tracebacks on the console, for developers
DEMO_MODEL = "zoo:shapes-cnn"
DEMO_SAMPLE = "shapes-0"
DEMO_METHOD = "activations"


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        from workbench import cli
        if cli.is_cli(argv):
            sys.exit(cli.main(argv))
        sys.exit(run_gui(argv))
    except KeyboardInterrupt:      # Ctrl+C before a command's own handling began
        sys.exit(130)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="workbench", description="CV Workbench: explore computer-vision models. "
                                "Subcommands models, methods, run and train work without a window.")
    p.add_argument("image", nargs="?", help="an image to open (a path or sample:NAME)")
    p.add_argument("--demo", action="store_true", help="open a bundled model and sample and show a result")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    return p


def run_gui(argv: Sequence[str]) -> int:
    args = _parser().parse_args(argv)
    # numpy and OpenCV before Qt: PySide6 reads the source of every module imported after it,
    # looking for feature switches, which costs these two large packages ~0.1 s of start-up
    import cv2  # noqa: F401
    import numpy  # noqa: F401
    from PySide6.QtCore import QTimer
    import pyqtgraph as pg

    from workbench.qt_app import application

    pg.setConfigOptions(imageAxisOrder="row-major")
    app = application()

    from workbench.engine import Engine
    from workbench.ui.window import MainWindow

    console_logging()
    engine = Engine(device=args.device)
    window = MainWindow(engine)
    install_excepthook(window.status.show_error)
    started: list[object] = []   # holds the Demo, which must live as long as the window

    def start_once() -> None:
        if not started:
            started.append(start(window, args))

    if os.environ.get(REPORT_ENV):
        window.firstShown.connect(lambda: _report_and_quit(app))
    else:
        window.firstShown.connect(start_once)
        # if the platform never exposes the window (some headless setups), start anyway
        QTimer.singleShot(1500, start_once)
    window.show()
    return app.exec()


def debugging() -> bool:
    return bool(os.environ.get(DEBUG_ENV))


def error_line(exc: BaseException) -> str:
    from workbench.engine.worker import one_line
    return one_line(exc)


class OneLineFormatter(logging.Formatter):
    """A log record as one line: its message and, for a failure, the exception's first line; the
    traceback only while debugging (the window shows the user a notice of its own)."""

    def format(self, record: logging.LogRecord) -> str:
        if debugging():
            return super().format(record)
        line = f"workbench: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            line += f": {error_line(record.exc_info[1])}"
        return line


def console_logging() -> logging.Handler:
    """The workbench's warnings and errors on stderr, one line each (``OneLineFormatter``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(OneLineFormatter("%(name)s: %(message)s"))
    logging.getLogger("workbench").addHandler(handler)
    return handler


def install_excepthook(notify: Callable[[str], None] | None = None) -> Callable:
    """An exception that escapes a Qt slot becomes one line on stderr and a notice in the window
    (its traceback only while debugging); returns the hook it replaced."""
    previous = sys.excepthook

    def hook(kind: type, exc: BaseException, tb: object) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return previous(kind, exc, tb)
        if debugging():
            traceback.print_exception(kind, exc, tb)
        else:
            print(f"workbench: unexpected error: {error_line(exc)} (WORKBENCH_DEBUG=1 shows where)",
                  file=sys.stderr)
        if notify is not None:
            try:
                notify(f"Unexpected error: {error_line(exc)}")
            except Exception:  # the window may be closing; the console line is enough
                pass

    sys.excepthook = hook
    return previous


def start(window, args: argparse.Namespace) -> "Demo | None":
    """The work that waits for the window: the worker, the method registry, the model catalogue."""
    window.engine.warm_up()
    window.panel("methodDock").load_registry()
    demo = Demo(window) if args.demo else None   # its model loads before the slower catalogue
    window.panel("modelDock").refresh_catalogue()
    if args.image and not args.demo:
        if args.image.lower().startswith("sample:"):
            window.images.open_sample(args.image.split(":", 1)[1])
        else:
            window.images.open_path(args.image)
    return demo


class Demo:
    """Bundled model + sample image -> activations of the last conv layer, channel 0 on the image."""

    def __init__(self, window) -> None:
        self.window = window
        self.workspace = window.workspace
        self._ran = False
        self.workspace.registryChanged.connect(self._maybe_run)
        self.workspace.modelChanged.connect(self._maybe_run)
        self.workspace.imageChanged.connect(self._maybe_run)
        self.workspace.view("grid").changed.connect(self._on_grid)
        window.images.open_sample(DEMO_SAMPLE)
        window.panel("modelDock").load(DEMO_MODEL)

    def _maybe_run(self, *_: object) -> None:
        ws = self.workspace
        if self._ran or ws.handle is None or ws.registry is None or ws.image is None:
            return
        self._ran = True
        methods = self.window.panel("methodDock")
        methods.select_method(DEMO_METHOD)
        convs = ws.handle.conv_layers()
        if convs:
            methods.form.set_values({"layer": convs[-1]})
        methods.request_run()

    def _on_grid(self, result: object) -> None:
        if result is not None and hasattr(result, "channel_heatmap"):
            self.workspace.view("grid").changed.disconnect(self._on_grid)
            self.window.panel("gridTab").show_channel(0)


def _report_and_quit(app) -> None:
    print(f"window-visible {seconds_since_process_start():.3f} torch-imported {'torch' in sys.modules}",
          flush=True)
    app.quit()


def seconds_since_process_start() -> float:
    """Wall time since this process was created (from /proc where there is one)."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _IMPORTED_AT


_IMPORTED_AT = time.perf_counter()
