"""What the benchmarks share: a payload key, the dev server, percentiles, memory."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client

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
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        args = [str(TEMPORAL_CLI), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
        args += ["--port", str(self.port), "--http-port", str(free_port())]
        args += ["--metrics-port", str(free_port()), "--log-level", "error", *WAL_PRAGMAS]
        args += search_attribute_args()
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
