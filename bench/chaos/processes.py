"""The processes the run starts and watches: the restartable dev server, the worker
subprocesses (restarted when they die), the throwaway database, and the logs kept of
every process that ended unexpectedly."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

from bench._common import REPO, TEMPORAL_CLI, WAL_PRAGMAS, free_port, search_attribute_args
from bench.chaos.calls import stop_if_cancelled
from workers.procs import exit_description, stop


class DevServer:
    """``temporal server start-dev`` on a persistent file; restartable on the same ports."""

    def __init__(self, workdir: Path, keeper: LogKeeper) -> None:
        self.db = workdir / "temporal.db"
        self.log = workdir / "temporal.log"
        self.keeper = keeper
        self.port, self.http_port, self.metrics_port = free_port(), free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        cmd = [
            str(TEMPORAL_CLI),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db),
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http-port",
            str(self.http_port),
            "--metrics-port",
            str(self.metrics_port),
            "--headless",
            *WAL_PRAGMAS,
            "--log-level",
            "warn",
            *search_attribute_args(),
        ]
        with self.log.open("ab") as log:
            self.proc = _spawn(cmd, log)  # dies with the run, even on kill -9
        self.started = time.monotonic()

    def check(self) -> None:
        """Keeps the log of a server that ended on its own (we restart it, never kill it)."""
        if self.proc is not None and self.proc.poll() is not None:
            took = time.monotonic() - self.started
            self.keeper.keep(self.log, f"exit {exit_description(self.proc.returncode)}", took)
            self.proc = None

    def stop(self) -> None:
        self.check()
        if self.proc is not None:
            stop([self.proc], signal.SIGTERM, 20)
        self.proc = None

    async def wait_ready(self, converter: Any, timeout: float = 60) -> Client:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                self.check()
                raise RuntimeError(f"the dev server exited: {self.log.read_text()[-2000:]}")
            try:
                client = await Client.connect(
                    self.address, data_converter=converter, runtime=_quiet_runtime()
                )
                await client.workflow_service.get_system_info(GetSystemInfoRequest())
                return client
            except Exception:
                stop_if_cancelled()
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)


@functools.lru_cache(maxsize=1)
def _quiet_runtime() -> Runtime:
    """The runner's Temporal runtime: its client's retries during a restart are expected."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )


class LogKeeper:
    """Copies logs out of the run's temporary folder (deleted at the end) into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.notes: list[str] = []

    def keep(self, log: Path, what: str, after: float) -> None:
        """Keeps ``log`` of a process that ended unexpectedly, with a line on why."""
        self._copy([log])
        self.notes.append(f"{log.name}: {what} after {after:.0f} s; {_telling_line(log)}")

    def keep_text(self, name: str, text: str) -> None:
        """Keeps ``text`` (a case's history, say) as ``name`` beside the logs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_text(text)

    def keep_all(self, workdir: Path) -> None:
        self._copy(workdir.glob("*.log"))

    def _copy(self, logs: Iterable[Path]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for log in logs:
            with contextlib.suppress(OSError):  # a log can be missing; the others still count
                shutil.copy2(log, self.folder / log.name)


def _telling_line(log: Path) -> str:
    """The line of a log that says most about how the process ended."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    fatal = [ln for ln in lines if ln.startswith(("Fatal Python error", "thread '"))]
    line = (fatal or lines or ["(empty log)"])[-1 if not fatal else 0]
    return line if len(line) <= 300 else line[:297] + "..."


@dataclass
class _Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float
    killed: bool = False


class Workers:
    """Worker subprocesses; each is stopped or killed by its own pid, and kept running.

    An exit the run did not cause (anything but its own SIGKILL, or a clean stop at the
    end) is counted, and the worker's log is kept.
    """

    def __init__(self, count: int, env: dict[str, str], logs: Path, keeper: LogKeeper) -> None:
        # A crash leaves the Python stacks of every thread in the log (faulthandler).
        self.env, self.logs = dict(env, PYTHONFAULTHANDLER="1"), logs
        self.keeper = keeper
        self.slots: list[_Worker | None] = [None] * count
        self.started = 0
        self.exits: Counter[int] = Counter()

    def _start(self, slot: int) -> None:
        env = dict(self.env, WORKER_METRICS_PORT=str(free_port()))
        path = self.logs / f"worker-{self.started}.log"
        with path.open("wb") as log:
            proc = _spawn([sys.executable, "-m", "workers.cli", "worker"], log, env=env, cwd=REPO)
        self.slots[slot] = _Worker(proc, path, time.monotonic())
        self.started += 1

    def _ended(self, worker: _Worker, stopping: bool = False) -> None:
        code = worker.proc.returncode
        # At the end, SIGTERM ends a worker still starting before it handles the signal.
        if (worker.killed and code == -signal.SIGKILL) or (stopping and code in (0, -15)):
            return
        self.exits[code] += 1
        took = time.monotonic() - worker.started
        self.keeper.keep(worker.log, f"exit {exit_description(code)}", took)

    def ensure(self) -> None:
        """Starts every slot that has no live worker (a killed or crashed one)."""
        for i, worker in enumerate(self.slots):
            if worker is None or worker.proc.poll() is not None:
                if worker is not None:
                    self._ended(worker)
                self._start(i)

    def kill(self, rng: random.Random) -> None:
        live = [w for w in self.slots if w is not None and w.proc.poll() is None]
        if live:
            victim = rng.choice(live)
            victim.killed = True
            os.kill(victim.proc.pid, signal.SIGKILL)
            victim.proc.wait()

    def stop(self) -> None:
        workers = [w for w in self.slots if w is not None]
        stop([w.proc for w in workers], signal.SIGTERM, 15)
        for worker in workers:
            self._ended(worker, stopping=True)
        self.slots = [None] * len(self.slots)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    from tests.databases import temporary_postgres_database

    with temporary_postgres_database() as url:
        yield url


async def supervise(
    server: DevServer, workers: Workers, paused: Callable[[], bool], done: asyncio.Event
) -> None:
    """Notes the dev server's own exits and restarts dead workers, until ``done``."""
    while not done.is_set():
        # Not while the server is down on purpose: a worker started then
        # fails to connect and exits 1, which is no news.
        if not paused():
            server.check()
            workers.ensure()
        await asyncio.sleep(0.5)


def _spawn(cmd: list[str], log: IO[bytes], **kw: Any) -> subprocess.Popen[bytes]:
    """``workers.procs.spawn``, looked up on the package at each call: a test replaces
    ``bench.chaos.spawn`` to start a worker that aborts (tests/integration/test_chaos.py)."""
    import bench.chaos

    return bench.chaos.spawn(cmd, log, **kw)
