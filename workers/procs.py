"""Child processes that never outlive their parent, and who holds a port (Linux, /proc).

Used by `clauseflow dev` and the chaos run. Each child runs in its own process group
(so a terminal's Ctrl-C reaches only the parent, which stops the children in order),
and gets SIGKILL from the kernel when its parent dies, even by ``kill -9``
(``PR_SET_PDEATHSIG``). The kernel sends that signal when the *thread* that forked the
child ends, so children are started from the main thread only.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

PR_SET_PDEATHSIG = 1
_TCP_LISTEN = "0A"


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` after which the child gets ``sig`` once this process dies."""
    if threading.current_thread() is not threading.main_thread():
        # The signal would fire when this thread ends, not when the process does.
        raise RuntimeError("start children from the main thread")
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def spawn(
    cmd: Sequence[str],
    log: IO[bytes] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> subprocess.Popen[bytes]:
    """Starts ``cmd`` in its own process group, writing to ``log``; it dies with us.

    Output goes to a file (or nowhere): a child writing to a pipe nobody reads stops.
    """
    out: IO[bytes] | int = log if log is not None else subprocess.DEVNULL
    return subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        process_group=0,
        preexec_fn=die_with_parent(),
    )


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Sends ``sig`` to the child's process group (the child and anything it started)."""
    if proc.poll() is None:  # not reaped yet, so its pid (the group id) is still its own
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)


def stop(
    procs: Sequence[subprocess.Popen[bytes]],
    sig: int = signal.SIGTERM,
    timeout: float = 15.0,
    on_kill: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> None:
    """Asks each child to stop with ``sig``, and SIGKILLs whatever is left after ``timeout``."""
    for proc in procs:
        signal_group(proc, sig)
    end = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            if on_kill is not None:
                on_kill(proc)
            signal_group(proc, signal.SIGKILL)
            proc.wait()


def end_without_teardown(main: Callable[[], object]) -> NoReturn:
    """Runs ``main``, then ends the process at once, skipping the interpreter's teardown.

    A process that used a Temporal client can abort with SIGABRT ("Fatal Python error:
    PyGILState_Release ... Python runtime state: finalizing") when the SDK's Rust threads
    reach into a Python that is tearing itself down (temporalio/sdk-python#300). The exit
    code and the traceback are what the interpreter would have given.
    """
    code = 0
    try:
        main()
    except SystemExit as stop:
        if isinstance(stop.code, int) or stop.code is None:
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def exit_description(code: int | None) -> str:
    """``-9`` as ``-9: SIGKILL``; ``1`` as ``1``."""
    if code is not None and code < 0:
        with_name = f"{code}"
        try:
            return f"{with_name}: {signal.Signals(-code).name}"
        except ValueError:
            return with_name
    return str(code)


# -- what a pid is ---------------------------------------------------------------------


def cmdline(pid: int) -> list[str] | None:
    """The process's arguments, or None if it is gone or not ours to read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a] or None


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot): a pid plus this names one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces and parentheses
    if fields[0] in ("Z", "X"):  # a zombie holds nothing and runs nothing
        return None
    return int(fields[19])


def parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    return start_ticks(pid) is not None


def show(pid: int, limit: int = 160) -> str:
    """``pid 123 (temporal server start-dev ...)`` for a message."""
    args = cmdline(pid)
    text = " ".join(args) if args else "command line not readable"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"pid {pid} ({text})"


@dataclasses.dataclass(frozen=True)
class ProcessRecord:
    """A process we started, as written to a pid file: enough to know it again later."""

    name: str
    pid: int
    start: int
    cmdline: list[str]

    @classmethod
    def of(cls, name: str, pid: int) -> ProcessRecord:
        return cls(name, pid, start_ticks(pid) or 0, cmdline(pid) or [])

    def running(self) -> bool:
        """The same process still runs: pid, start time and command line all match."""
        return start_ticks(self.pid) == self.start and cmdline(self.pid) == self.cmdline


class PidFile:
    """``{"supervisor": record, "children": {name: record}}``, rewritten on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> tuple[ProcessRecord | None, list[ProcessRecord]]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
            supervisor = data.get("supervisor")
            return (
                ProcessRecord(**supervisor) if supervisor else None,
                [ProcessRecord(**r) for r in data.get("children", {}).values()],
            )
        except (OSError, ValueError, TypeError):
            return None, []

    def write(self, supervisor: ProcessRecord, children: Sequence[ProcessRecord]) -> None:
        data = {
            "supervisor": dataclasses.asdict(supervisor),
            "children": {r.name: dataclasses.asdict(r) for r in children},
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.path)  # a reader never sees half a file

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


# -- who holds a port ------------------------------------------------------------------


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == _TCP_LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def port_holders(port: int) -> list[int]:
    """The pids listening on TCP ``port`` that this user can see (others' are hidden)."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return []
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    found.append(int(entry.name))
                    break
            except OSError:
                continue
    return sorted(found)
