"""What the benchmarks share: a payload key, the dev server, percentiles, memory and CPU
time by process, and the entry point of a worker process."""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

REPO = Path(__file__).resolve().parents[1]
TEMPORAL_CLI = Path(sys.executable).parent / "temporal"
#: The dev server's SQLite pragmas, as `make dev` and the tests run it.
WAL_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]


def use_generated_payload_key() -> str:
    """Sets PAYLOAD_ENCRYPTION_KEYS to a fresh key (before settings are first read)."""
    key = f"bench-{secrets.token_hex(4)}:{base64.b64encode(os.urandom(32)).decode()}"
    os.environ["PAYLOAD_ENCRYPTION_KEYS"] = key
    return key.partition(":")[0]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (psutil is not installed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # the name may hold spaces and parentheses


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) a process and its live descendants have used.

    From /proc/<pid>/stat: utime and stime are its fields 14 and 15, in clock ticks.
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        fields = _stat(p)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])
        todo.extend(children.get(p, []))
    return total / _TICKS


def own_cpu_seconds() -> float:
    """This process's CPU time (user + system, every thread, the SDK's Rust ones too)."""
    t = os.times()
    return t.user + t.system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def search_attribute_args() -> list[str]:
    """``--search-attribute NAME=KIND`` for each of Clauseflow's, for ``start-dev``."""
    from runtime.temporal import SEARCH_ATTRIBUTES  # late: after the bench sets its settings

    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


class DevServer:
    """`temporal server start-dev`, started by this process (its own pid, quiet output).

    In-memory SQLite (no --db-filename) with the WAL pragmas, headless, with
    Clauseflow's search attributes registered; the same server `make dev` runs.
    ``BENCH_SERVER_EXTRA`` adds flags to its command line, to compare a server setting
    (``--dynamic-config-value KEY=VALUE``) within one run of a bench.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        args = [str(TEMPORAL_CLI), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
        args += ["--port", str(self.port), "--http-port", str(free_port())]
        args += ["--metrics-port", str(free_port()), "--log-level", "error", *WAL_PRAGMAS]
        args += search_attribute_args()
        args += os.environ.get("BENCH_SERVER_EXTRA", "").split()
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def connect(self, data_converter: Any) -> Client:
        deadline = time.monotonic() + 60
        while True:
            try:
                return await Client.connect(self.address, data_converter=data_converter)
            except RuntimeError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                await asyncio.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def worker_command(prog: str, description: str, build: Callable[[Client, str], Worker]) -> None:
    """``prog worker --task-queue Q [--address A]``: a worker process for a benchmark.

    Connects with Clauseflow's data converter (encryption on, PAYLOAD_ENCRYPTION_KEYS from
    the environment), as `clauseflow worker` does, and stops cleanly on SIGINT or SIGTERM.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("worker", help="poll a task queue until SIGINT or SIGTERM")
    worker.add_argument("--task-queue", required=True)
    worker.add_argument("--address", default="127.0.0.1:7233", help="Temporal frontend")
    args = parser.parse_args()

    async def serve() -> None:
        from runtime.temporal import data_converter

        client = await Client.connect(args.address, data_converter=data_converter())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with build(client, args.task_queue):
            await stop.wait()

    from workers.procs import end_without_teardown

    # The SDK's threads can abort (SIGABRT) a Python that tears itself down.
    end_without_teardown(lambda: asyncio.run(serve()))
