"""Batch runs on a local Ray cluster (the [cluster] extra, which CI installs): the same npz as the plain
loop, a run killed half-way and resumed with every item computed once, nothing left running."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq

from workbench.core.batch import store as S
from workbench.plugins import default_registry
from workbench.core.batch.run import run_batch as run_named

MODEL = "zoo:shapes-cnn"


def run_batch(method, *args, **kwargs):
    return run_named(default_registry().get(method), *args, **kwargs)


def npz_arrays(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "params"}


def test_two_ray_workers_give_what_the_plain_loop_gives(tmp_path):
    import ray  # noqa: F401  (the [cluster] extra: a missing Ray fails here, it does not skip)
    images = "dataset:shapes:40"
    ray_table = run_batch("saliency", MODEL, images, tmp_path / "ray", workers=2)
    plain_table = run_batch("saliency", MODEL, images, tmp_path / "plain")
    ray_rows, plain_rows = ray_table.to_pylist(), plain_table.to_pylist()
    assert len(ray_rows) == 40 and all(r["status"] == "ok" for r in ray_rows)
    assert len({r["worker"] for r in ray_rows}) == 2            # both actors took items
    assert {r["worker"] for r in plain_rows} == {next(iter({r["worker"] for r in plain_rows}))}
    for a, b in zip(ray_rows, plain_rows):
        assert a["key"] == b["key"] and a["target"] == b["target"]
        left, right = npz_arrays(tmp_path / "ray" / a["npz"]), npz_arrays(tmp_path / "plain" / b["npz"])
        assert set(left) == set(right)
        for name in left:
            np.testing.assert_allclose(left[name], right[name], rtol=1e-4, atol=1e-6)


def _journal_keys(out):
    path = out / S.JOURNAL
    if not path.is_file():
        return []
    keys = []
    for line in path.read_text().splitlines():
        try:
            keys.append(json.loads(line)["key"])
        except ValueError:
            pass
    return keys


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _ray_workers():
    return [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and _cmdline(int(pid)).startswith(b"ray::_Worker")]


def _group_alive(pgid):
    alive = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.getpgid(int(pid)) == pgid:
                    alive.append(int(pid))
            except OSError:
                pass
    return alive


def test_a_killed_run_resumes_and_computes_every_item_once(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "workbench", "batch", "occlusion", "--model", MODEL, "--images",
               "dataset:shapes:40", "--out", str(out), "--workers", "2", "--set", "window=8", "--set", "stride=4", "-q"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    while len(_journal_keys(out)) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    actors = _ray_workers()          # Ray starts its workers in sessions of their own
    assert len(actors) == 2, actors
    os.kill(actors[0], signal.SIGKILL)            # one worker dies: Ray restarts it and retries its items
    while len(_journal_keys(out)) < 12 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGKILL)           # the driver, its Ray cluster and its workers: a lost node
    proc.wait()
    before = {k: os.stat(out / "items" / f"{k}.npz").st_mtime_ns for k in _journal_keys(out)}
    assert 12 <= len(before) < 40
    again = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    stdout, stderr = again.communicate(timeout=400)
    assert again.returncode == 0, stderr
    assert f"40 done, 0 failed: {out}/index.parquet" in stdout
    keys = _journal_keys(out)
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 40      # each item recorded exactly once
    assert all(os.stat(out / "items" / f"{k}.npz").st_mtime_ns == t for k, t in before.items())
    index = pq.read_table(out / S.INDEX)
    assert index.num_rows == 40 and set(index.column("status").to_pylist()) == {"ok"}
    deadline = time.monotonic() + 30
    while (_group_alive(proc.pid) or _group_alive(again.pid) or _ray_workers()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _group_alive(proc.pid) == [] and _group_alive(again.pid) == []   # no Ray process outlives its run
    assert _ray_workers() == []


RAY_CLI = [sys.executable, "-c", "import sys; from ray.scripts.scripts import main; sys.argv[0] = 'ray'; main()"]


def test_address_joins_a_running_cluster_and_leaves_it_running(tmp_path):
    started = subprocess.run([*RAY_CLI, "start", "--head", "--port", "6391", "--num-cpus", "2",
                              "--disable-usage-stats", "--include-dashboard", "false"],
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        out = tmp_path / "joined"
        run = subprocess.run([sys.executable, "-m", "workbench", "batch", "saliency", "--model", MODEL, "--images",
                              "dataset:shapes:6", "--out", str(out), "--address", "auto", "-q"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("6 done, 0 failed")
        rows = pq.read_table(out / S.INDEX).to_pylist()
        assert len(rows) == 6 and len({r["worker"] for r in rows}) == 2      # one actor per CPU of the cluster
        servers = [pid for pid in os.listdir("/proc") if pid.isdigit()
                   and b"gcs_server" in _cmdline(int(pid)) and b"6391" in _cmdline(int(pid))]
        assert servers                                                     # the cluster it joined is still up
    finally:
        subprocess.run([*RAY_CLI, "stop", "--force"], capture_output=True, timeout=120)
