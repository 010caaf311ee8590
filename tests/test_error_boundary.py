"""No traceback reaches a user: the CLI prints one line naming what failed and exits 2, Ctrl+C
exits quietly with 130, the API raises ValueError with the same line, and the GUI's console
shows failed jobs and slot errors as one line each."""
import logging
import os
import signal
import subprocess
import sys
import time
import zipfile

import cv2
import numpy as np
import pytest

from workbench import api, cli
from workbench.core import runner, sources


class Odd(BaseException):
    """Neither an Exception nor an exit: what a plugin's method might still raise."""


def cv2_error():
    try:
        cv2.resize(np.zeros((0, 0), np.uint8), (4, 4))
    except cv2.error as exc:
        return exc
    raise AssertionError("cv2 accepted an empty image")


FAILURES = [
    (RuntimeError("CUDA error: device-side assert triggered\nCompile with TORCH_USE_CUDA_DSA"),
     "RuntimeError: CUDA error: device-side assert triggered"),
    (cv2_error(), "error: OpenCV("),
    (IndexError("index 12 is out of bounds for dimension 1 with size 6"), "IndexError: index 12 is out of bounds"),
    (zipfile.BadZipFile("File is not a zip file"), "BadZipFile: File is not a zip file"),
    (SystemExit(3), "it called sys.exit(3)"),
    (Odd("strange"), "Odd: strange"),
]


def run_cli(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def failing_method(monkeypatch):
    def fail_with(error):
        def run_method(*_args, **_kwargs):
            raise error
        monkeypatch.setattr(runner, "run_method", run_method)
    return fail_with


@pytest.mark.parametrize("error, says", FAILURES, ids=[type(e).__name__ for e, _ in FAILURES])
def test_any_failure_in_a_method_is_one_line_naming_the_method_model_and_parameters(
        capsys, failing_method, error, says):
    failing_method(error)
    code, out, err = run_cli(capsys, "run", "activations", "--model", "zoo:shapes-cnn", "--image",
                             "sample:shapes-0", "--set", "layer=features.conv1", "--target", "2")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("workbench run: activations on zoo:shapes-cnn failed (target='2', layer='features.conv1'): ")
    assert says in err


@pytest.mark.parametrize("error, says", FAILURES[:4], ids=[type(e).__name__ for e, _ in FAILURES[:4]])
def test_the_api_raises_a_value_error_with_the_same_line_and_keeps_the_cause(failing_method, error, says):
    failing_method(error)
    with pytest.raises(ValueError, match="^activations on zoo:shapes-cnn failed: ") as info:
        api.run("activations", "zoo:shapes-cnn", "sample:shapes-0")
    assert says in str(info.value) and "\n" not in str(info.value)
    assert info.value.__cause__ is error


def test_a_model_that_fails_to_load_names_the_model(capsys, monkeypatch, tmp_path):
    def broken(model_id, trust_pickle=False):
        raise zipfile.BadZipFile("File is not a zip file")
    monkeypatch.setattr(sources, "load_model", broken)
    code, _out, err = run_cli(capsys, "run", "filters", "--model", f"file:{tmp_path / 'm.pt'}")
    assert code == 2 and "Traceback" not in err
    assert err == f"workbench run: cannot load model 'file:{tmp_path / 'm.pt'}': BadZipFile: File is not a zip file\n"
    with pytest.raises(ValueError, match="cannot load model 'zoo:x': BadZipFile"):
        api.load_model("zoo:x")


def test_clean_errors_pass_through_the_api_unchanged():
    with pytest.raises(KeyError, match="no method 'nope'"):
        api.run("nope", "zoo:shapes-cnn", "sample:shapes-0")
    with pytest.raises(ValueError, match="^unknown sample"):
        api.load_image("sample:nothing-here")


def test_a_figure_that_fails_to_draw_names_the_file_and_writes_nothing(capsys, monkeypatch, tmp_path):
    from workbench.figure import render

    def painter_fails(*_args, **_kwargs):
        raise RuntimeError("QPainter::begin: Paint device returned engine == 0")
    monkeypatch.setattr(render, "export_result", painter_fails)
    out = tmp_path / "f.png"
    code, _out, err = run_cli(capsys, "run", "filters", "--model", "zoo:shapes-cnn", "--out", str(out))
    assert code == 2 and err == f"workbench run: cannot write {out}: RuntimeError: QPainter::begin: " \
                                "Paint device returned engine == 0\n"
    assert os.listdir(tmp_path) == []


def test_workbench_debug_shows_the_traceback_instead(capsys, failing_method, monkeypatch):
    failing_method(IndexError("deep inside"))
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    with pytest.raises(ValueError) as info:
        cli.main(["run", "filters", "--model", "zoo:shapes-cnn"])
    assert isinstance(info.value.__cause__, IndexError)


def test_ctrl_c_exits_quietly_with_130(capsys, failing_method):
    failing_method(KeyboardInterrupt())
    code, out, err = run_cli(capsys, "run", "filters", "--model", "zoo:shapes-cnn")
    assert (code, out, err) == (130, "", "")


def test_ctrl_c_on_a_running_process_exits_quietly_with_130(tmp_path):
    """A lab run of ten million steps cannot finish first; the signal comes once the process has spent
    seconds of CPU, so imports are over and it is training (Python itself dies silently on a Ctrl+C in
    its first milliseconds, and once it has finalised)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "workbench", "ganlab", "--steps", "10000000",
                             "--npz", str(tmp_path / "lab.npz")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while _cpu_seconds(proc.pid) < 6.0 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip() == ""
    assert os.listdir(tmp_path) == []


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (Linux's /proc; elsewhere, the wall clock stands in)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        if os.path.isdir("/proc"):
            return 0.0
        time.sleep(6.0)
        return 6.0


def test_a_failed_job_is_one_line_on_the_gui_console(qtbot, capfd, monkeypatch):
    from workbench.app import console_logging
    from workbench.core import jobs
    from workbench.engine import Engine
    monkeypatch.delenv("WORKBENCH_DEBUG", raising=False)
    handler = console_logging()
    engine = Engine(device="cpu")
    try:
        ticket = engine.submit("model", jobs.load_model, "zoo:no-such-model", False)
        with qtbot.waitSignal(ticket.failed, timeout=30000) as failed:
            pass
    finally:
        engine.shutdown(10000)
        logging.getLogger("workbench").removeHandler(handler)
    err = capfd.readouterr().err
    assert "no-such-model" in failed.args[0]                       # the notice the window shows
    lines = [line for line in err.splitlines() if "no-such-model" in line]
    assert len(lines) == 1 and lines[0].startswith("workbench: job 'model' failed: ")
    assert "Traceback" not in err


def test_the_gui_console_shows_the_traceback_while_debugging(capsys, monkeypatch):
    from workbench.app import OneLineFormatter
    record = _record_of(ValueError("bad\nsecond line"))
    monkeypatch.delenv("WORKBENCH_DEBUG", raising=False)
    assert OneLineFormatter().format(record) == "workbench: job 'k' failed: ValueError: bad"
    monkeypatch.setenv("WORKBENCH_DEBUG", "1")
    assert "Traceback (most recent call last)" in OneLineFormatter().format(record)


def _record_of(exc):
    try:
        raise exc
    except ValueError:
        return logging.LogRecord("workbench.engine.worker", logging.ERROR, __file__, 1, "job %r failed",
                                 ("k",), sys.exc_info())


def test_an_error_in_a_slot_is_one_line_and_a_notice(capsys, monkeypatch):
    from workbench.app import install_excepthook
    monkeypatch.delenv("WORKBENCH_DEBUG", raising=False)
    notices = []
    previous = install_excepthook(notices.append)
    try:
        try:
            raise IndexError("list index out of range")
        except IndexError:
            sys.excepthook(*sys.exc_info())
    finally:
        sys.excepthook = previous
    err = capsys.readouterr().err
    assert err == "workbench: unexpected error: IndexError: list index out of range (WORKBENCH_DEBUG=1 shows where)\n"
    assert notices == ["Unexpected error: IndexError: list index out of range"]


def test_a_warning_is_one_line_without_file_and_line(capsys, monkeypatch):
    import warnings

    from workbench.core.results import Result

    def run_method(*_args, **_kwargs):
        warnings.warn("device 'cuda' is not available\nrunning on the CPU", UserWarning)
        warnings.warn("`torch.jit.load` is deprecated", FutureWarning)
        return Result(method="filters")
    monkeypatch.setattr(runner, "run_method", run_method)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    code, _out, err = run_cli(capsys, "run", "filters", "--model", "zoo:shapes-cnn")
    assert code == 0
    assert err == ("workbench run: note: device 'cuda' is not available\n"
                   "workbench run: note: `torch.jit.load` is deprecated\n")
