"""`clauseflow dev` starts the whole stack, serves a case end to end, and stops cleanly."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.devserver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(
    method: str, url: str, body: dict | None = None, headers: dict | None = None, token: str = ""
) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def _dev_env() -> tuple[dict[str, str], dict[str, int]]:
    ports = {"temporal": _free_port(), "ui": _free_port(), "api": _free_port()}
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "TEMPORAL_UI_PORT": str(ports["ui"]),
        "API_PORT": str(ports["api"]),
        "TEMPORAL_TASK_QUEUE": "dev-stack-test",
        # Tests run in parallel: the worker's metrics port must not be the default.
        "WORKER_METRICS_PORT": str(_free_port()),
    }
    for key in ("DATABASE_URL", "SENDGRID_API_KEY", "PAYLOAD_ENCRYPTION_KEYS"):
        env.pop(key, None)
    return env, ports


def _start_dev(tmp_path: Path) -> tuple[subprocess.Popen[bytes], dict[str, int], str]:
    """`clauseflow dev` in ``tmp_path`` on free ports, once it printed "Press Ctrl-C"."""
    env, ports = _dev_env()
    log = open(tmp_path / "dev.log", "w+b")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "dev"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while b"Press Ctrl-C" not in (tmp_path / "dev.log").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("dev stack did not start:\n" + (tmp_path / "dev.log").read_text())
        time.sleep(0.3)
    return proc, ports, (tmp_path / "dev.log").read_text()


def _children(supervisor: int) -> dict[str, int]:
    """The supervisor's running children, by what they are (read from /proc)."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # not a process, or gone
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) != supervisor or fields[0] in ("Z", "X"):
            continue
        line = b" ".join(args).decode()
        for name, mark in (("temporal", "server start-dev"), ("worker", "workers.cli worker")):
            if mark in line:
                found[name] = int(entry.name)
        if "uvicorn" in line:
            found["api"] = int(entry.name)
    return found


def _recorded(tmp_path: Path) -> dict[str, int]:
    """The children's pids as .clauseflow/dev.pid names them."""
    data = json.loads((tmp_path / ".clauseflow" / "dev.pid").read_text())
    return {name: record["pid"] for name, record in data["children"].items()}


def _alive(pid: int) -> bool:
    """Runs (a zombie waiting for a parent that does not reap it holds nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_until(condition: Callable[[], bool], timeout: float, what: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what()
        time.sleep(0.1)


def _open_termination_case(base: str, token: str, key: str) -> dict:
    received = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    return _http(
        "POST",
        f"{base}/api/contracts/ctr_reference_msa/cases",
        {
            "clause": "termination_for_convenience",
            # The Provider's notice: our acknowledgement goes out at once.
            "facts": {"notice_received_at": received, "given_by": "provider"},
        },
        {"Idempotency-Key": key},
        token=token,
    )


def _acknowledgements(base: str, token: str, count: int) -> list[str]:
    """The outbox's acknowledgements once it holds ``count`` of them (or whatever it holds
    after 30 s); the term's own notice to our owner is left out."""
    for _ in range(300):
        outbox = _http("GET", f"{base}/api/outbox", token=token)
        found = [n["notice"] for n in outbox["items"] if n["notice"] != "term_tracked"]
        if len(found) >= count:
            break
        time.sleep(0.1)
    return found


@pytest.mark.timeout(240)
def test_dev_stack_runs_a_case_restarts_a_killed_worker_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    proc, ports, printed = _start_dev(tmp_path)
    api, ui, temporal = ports["api"], ports["ui"], ports["temporal"]
    try:
        assert f"http://127.0.0.1:{api}/docs" in printed and f"http://127.0.0.1:{ui}" in printed
        assert f"http://127.0.0.1:{api}/console" in printed

        base = f"http://127.0.0.1:{api}"
        token = _printed(printed, r"export CLAUSEFLOW_TOKEN=(cf_\S+)")
        _check_the_printed_credentials(base, printed, token, tmp_path)
        case = _open_termination_case(base, token, "dev-stack")
        assert case["state"] == "notice_period_running"
        # The reference contract's monthly SLA review and its term (which start with the
        # contract) run beside the new case.
        assert "Standing cases  case case_" in printed
        cases = _http("GET", f"{base}/api/cases", token=token)["items"]
        assert sorted(c["clause"] for c in cases) == [
            "monthly_sla_review",
            "term_expiry",
            "termination_for_convenience",
        ]
        assert _acknowledgements(base, token, 1) == ["acknowledgement"]
        assert (tmp_path / ".clauseflow" / "temporal.db").exists()
        assert (tmp_path / ".clauseflow" / "clauseflow.db").exists()
        # Payloads are encrypted with a development key made on first start, owner-only.
        key_file = tmp_path / ".clauseflow" / "payload.key"
        keys = [ln for ln in key_file.read_text().splitlines() if ln and not ln.startswith("#")]
        assert len(keys) == 1 and keys[0].startswith("dev-")
        assert key_file.stat().st_mode & 0o777 == 0o600

        # kill -9 of the worker: the supervisor says so and starts another; the API and
        # Temporal stay up, and the new worker serves a new case.
        before = _children(proc.pid)
        assert sorted(before) == ["api", "temporal", "worker"]
        os.kill(before["worker"], signal.SIGKILL)
        _wait_until(
            lambda: _children(proc.pid).get("worker", before["worker"]) != before["worker"],
            20,
            lambda: "no new worker within 20 s:\n" + (tmp_path / "dev.log").read_text(),
        )
        after = _children(proc.pid)
        assert after["api"] == before["api"] and after["temporal"] == before["temporal"]
        assert _recorded(tmp_path) == after and proc.poll() is None
        assert _port_open(temporal) and _http("GET", f"{base}/api/me", token=token)["role"]
        printed = (tmp_path / "dev.log").read_text()
        assert (
            "worker exited (-9: SIGKILL); restarting it (restart 1), "
            "see .clauseflow/logs/worker.log"
        ) in printed
        assert f"worker restarted (pid {after['worker']})" in printed
        second = _open_termination_case(base, token, "dev-stack-after-the-kill")
        assert second["state"] == "notice_period_running"
        assert _acknowledgements(base, token, 2) == ["acknowledgement", "acknowledgement"]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0
    assert "Stopped." in (tmp_path / "dev.log").read_text()
    for port in (temporal, api):
        assert not _port_open(port), f"port {port} still open after Ctrl-C"
    assert not (tmp_path / ".clauseflow" / "dev.pid").exists()


@pytest.mark.timeout(180)
def test_killing_the_dev_supervisor_leaves_no_child_behind(tmp_path: Path) -> None:
    proc, ports, _ = _start_dev(tmp_path)
    children = _children(proc.pid)
    assert sorted(children) == ["api", "temporal", "worker"]
    proc.kill()
    proc.wait()
    try:
        _wait_until(
            lambda: not any(_alive(pid) for pid in children.values()),
            15,
            lambda: f"children outlived the supervisor: {_still(children)}",
        )
        _wait_until(
            lambda: not any(_port_open(p) for p in ports.values()),
            15,
            lambda: f"ports still held: {[p for p in ports.values() if _port_open(p)]}",
        )
    finally:  # never leave them to the next test
        for pid in children.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _still(children: dict[str, int]) -> dict[str, int]:
    return {name: pid for name, pid in children.items() if _alive(pid)}


def _printed(printed: str, pattern: str) -> str:
    found = re.search(pattern, printed)
    assert found, f"{pattern!r} not in:\n{printed}"
    return found.group(1)


def _check_the_printed_credentials(base: str, printed: str, token: str, tmp_path: Path) -> None:
    """The printed token works (and the API refuses a call without it), the printed
    password signs in to the console, and both are kept owner-only for the next start."""
    email = _printed(printed, r"Sign in as\s+(\S+)")
    password = _printed(printed, r"Password\s+(\S+)")
    assert email == "admin@localhost"
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/api/cases").status_code == 401
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.text
        assert me.json()["role"] == "admin"

        form = client.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert form.status_code == 200 and csrf, form.text
        signed_in = client.post(
            "/console/login",
            data={"email": email, "password": password, "csrf_token": csrf.group(1), "next": ""},
        )
        assert signed_in.status_code == 303, signed_in.text
        assert "clauseflow_session" in client.cookies
        me = client.get("/api/me")  # the session cookie alone
        assert me.status_code == 200 and me.json()["name"] == email and me.json()["via_session"]
    saved = tmp_path / ".clauseflow" / "dev-credentials.json"
    assert json.loads(saved.read_text()) == {"email": email, "password": password, "token": token}
    assert saved.stat().st_mode & 0o777 == 0o600


@pytest.mark.timeout(60)
def test_dev_refuses_to_start_naming_the_process_that_holds_its_port(tmp_path: Path) -> None:
    env, ports = _dev_env()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys, time; s = socket.socket(); "
            "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('up', flush=True); "
            "time.sleep(600)",
            str(ports["api"]),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "up\n"
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli", "dev"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=50,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"port {ports['api']} (API) is held by pid {holder.pid} (" in done.stderr
        assert f"`kill {holder.pid}` if it is yours" in done.stderr
        # Nothing was started, and the other process was left alone.
        assert not _port_open(ports["temporal"]) and holder.poll() is None
    finally:
        holder.kill()
        holder.wait()
