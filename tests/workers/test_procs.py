"""workers/procs.py: children that die with their parent, who holds a port, and a
process end that skips the interpreter's teardown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.workers.helpers import SLEEPER, wait_until
from workers.procs import alive, port_holders, show


def test_children_die_with_their_parent_even_on_kill_9() -> None:
    # A parent that starts a child the way the supervisor does, then is SIGKILLed.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from workers.procs import spawn; "
            f"p = spawn({SLEEPER!r}); print(p.pid, flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert alive(child) and os.getpgid(child) == child  # its own process group
    parent.kill()
    parent.wait()
    try:
        assert wait_until(lambda: not alive(child), 10), show(child)
    finally:  # never leave it running
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_the_listener_of_a_port_is_found_by_pid() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert os.getpid() in port_holders(port)
    assert port_holders(port) == []


@pytest.mark.parametrize(
    ("main", "code", "printed"),
    [
        ("pass", 0, ""),
        ("raise SystemExit(3)", 3, ""),
        ("raise SystemExit('no keys')", 1, "no keys"),
        ("raise RuntimeError('Failed client connect')", 1, "RuntimeError: Failed client connect"),
    ],
)
def test_a_process_ended_without_teardown_keeps_its_exit_code_and_traceback(
    main: str, code: int, printed: str
) -> None:
    script = (
        "from workers.procs import end_without_teardown\n"
        f"def main():\n    {main}\n"
        "end_without_teardown(main)\n"
        "print('not reached')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == code, done.stderr
    assert printed in done.stderr and "not reached" not in done.stdout
