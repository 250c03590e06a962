"""The `clauseflow dev` supervisor's parts, on small stand-in processes (no Temporal):
restarts and their limit, and leftovers of an earlier run (stopped only when provably
ours, otherwise named and left alone)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.workers.helpers import SLEEPER, wait_until
from workers import dev
from workers.procs import PidFile, ProcessRecord, alive, parent_pid


@pytest.fixture
def sleeper() -> object:
    proc = subprocess.Popen(SLEEPER)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _stack(tmp_path: Path) -> dev.Stack:
    return dev.Stack(tmp_path, PidFile(tmp_path / "dev.pid"), dict(os.environ))


def test_a_dead_worker_is_restarted_with_a_line_saying_so(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    worker = stack.start("worker", SLEEPER)
    assert worker.proc is not None
    first = worker.proc.pid
    os.kill(first, signal.SIGKILL)
    worker.proc.wait()
    said: list[str] = []
    assert stack.check(said.append) is None
    assert said == [
        f"worker exited (-9: SIGKILL); restarting it (restart 1), see {tmp_path}/worker.log"
    ]
    assert wait_until(lambda: stack.check(said.append) is None and worker.proc.pid != first)
    assert said[-1] == f"worker restarted (pid {worker.proc.pid})" and alive(worker.proc.pid)
    # The pid file names the new worker, for the next start and for people.
    _, children = PidFile(tmp_path / "dev.pid").read()
    assert [(c.name, c.pid) for c in children] == [("worker", worker.proc.pid)]
    stack.stop_all()
    assert worker.proc.poll() is not None and not (tmp_path / "dev.pid").exists()


def test_a_worker_that_keeps_dying_stops_everything_after_a_few_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dev, "RESTART_DELAY", 0.01)
    stack = _stack(tmp_path)
    temporal = stack.start("temporal", SLEEPER, essential=True)
    worker = stack.start("worker", [sys.executable, "-c", "raise SystemExit(3)"])
    said: list[str] = []
    fatal = None
    end = time.monotonic() + 60
    while fatal is None and time.monotonic() < end:
        fatal = stack.check(said.append)
        time.sleep(0.02)
    restarting = [line for line in said if "restarting it" in line]
    assert len(restarting) == dev.RESTART_LIMIT == worker.restarts
    assert restarting[0].startswith("worker exited (3); restarting it (restart 1)")
    assert fatal is not None and fatal.startswith("worker exited (3) again, after 5 restarts")
    assert "stopping everything" in fatal and str(tmp_path / "worker.log") in fatal
    stack.stop_all()
    assert temporal.proc is not None and temporal.proc.poll() is not None


def test_temporal_dying_stops_everything_instead_of_restarting(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    temporal = stack.start("temporal", SLEEPER, essential=True)
    worker = stack.start("worker", SLEEPER)
    assert temporal.proc is not None and worker.proc is not None
    temporal.proc.kill()
    temporal.proc.wait()
    said: list[str] = []
    fatal = stack.check(said.append)
    assert said == [] and fatal is not None
    assert fatal.startswith("temporal exited (-9: SIGKILL); stopping everything")
    stack.stop_all()
    assert worker.proc.poll() is not None


def test_a_leftover_of_this_folders_earlier_run_is_named_and_stopped(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    pid_file = PidFile(tmp_path / "dev.pid")
    pid_file.write(
        ProcessRecord.of("supervisor", gone.pid), [ProcessRecord.of("worker", sleeper.pid)]
    )
    dev.clear_the_way(pid_file, [])
    assert sleeper.wait(timeout=15) == -signal.SIGTERM
    out = capsys.readouterr().out
    assert f"Stopping the worker an earlier `make dev` left running (pid {sleeper.pid} (" in out
    assert not pid_file.path.exists()


def test_a_pid_file_entry_whose_process_is_not_the_same_is_left_alone(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    # The pid was reused by another program: same pid, other command line.
    record = ProcessRecord.of("worker", sleeper.pid)
    pid_file = PidFile(tmp_path / "dev.pid")
    pid_file.write(
        ProcessRecord("supervisor", 1, 0, []),
        [ProcessRecord("worker", record.pid, record.start, ["python", "-m", "workers.cli"])],
    )
    dev.clear_the_way(pid_file, [])
    assert sleeper.poll() is None


def test_a_second_dev_in_the_same_folder_is_refused_naming_the_first(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pid_file = PidFile(tmp_path / "dev.pid")
    pid_file.write(ProcessRecord.of("supervisor", sleeper.pid), [])
    with pytest.raises(SystemExit) as refused:
        dev.clear_the_way(pid_file, [])
    assert f"already running in this folder (pid {sleeper.pid} (" in str(refused.value)
    assert f"`kill {sleeper.pid}`" in str(refused.value)
    assert sleeper.poll() is None


def test_a_port_held_by_someone_else_is_reported_with_its_pid_and_left_alone(
    tmp_path: Path,
) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
            "print(s.getsockname()[1], flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        port = int(holder.stdout.readline())
        with pytest.raises(SystemExit) as refused:
            dev.clear_the_way(PidFile(tmp_path / "dev.pid"), [("API", "127.0.0.1", port)])
        message = str(refused.value)
        assert f"port {port} (API) is held by pid {holder.pid} ({sys.executable} -c" in message
        assert f"`kill {holder.pid}` if it is yours" in message
        assert holder.poll() is None
    finally:
        holder.kill()
        holder.wait()


def test_a_port_held_by_another_folders_dev_names_that_dev_to_stop(tmp_path: Path) -> None:
    # A stand-in `clauseflow dev` (by its command line) whose child listens on a port.
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "clauseflow").write_text(
        "import subprocess, sys\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import socket, time; "
        's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); '
        "print(s.getsockname()[1], flush=True); time.sleep(600)'])\n"
        "child.wait()\n"
    )
    dev_proc = subprocess.Popen(
        [sys.executable, str(other / "clauseflow"), "dev"], cwd=other, stdout=subprocess.PIPE
    )
    try:
        assert dev_proc.stdout is not None
        port = int(dev_proc.stdout.readline())
        with pytest.raises(SystemExit) as refused:
            dev.clear_the_way(PidFile(tmp_path / "dev.pid"), [("Temporal", "127.0.0.1", port)])
        assert (
            f"It belongs to the `clauseflow dev` (pid {dev_proc.pid}) running in {other}: "
            f"stop that one (Ctrl-C in its terminal, or `kill {dev_proc.pid}`)."
        ) in str(refused.value)
    finally:
        for pid in [*_children_of(dev_proc.pid), dev_proc.pid]:
            os.kill(pid, signal.SIGKILL)
        dev_proc.wait()


def _children_of(pid: int) -> list[int]:
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and parent_pid(int(p.name)) == pid
    ]
