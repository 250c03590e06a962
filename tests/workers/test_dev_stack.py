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


@pytest.mark.timeout(180)
def test_dev_stack_runs_a_case_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    temporal, ui, api = _free_port(), _free_port(), _free_port()
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal}",
        "TEMPORAL_UI_PORT": str(ui),
        "API_PORT": str(api),
        "TEMPORAL_TASK_QUEUE": "dev-stack-test",
        # Tests run in parallel: the worker's metrics port must not be the default.
        "WORKER_METRICS_PORT": str(_free_port()),
    }
    for key in ("DATABASE_URL", "SENDGRID_API_KEY", "PAYLOAD_ENCRYPTION_KEYS"):
        env.pop(key, None)
    log = open(tmp_path / "dev.log", "w+b")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "dev"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while b"Press Ctrl-C" not in (tmp_path / "dev.log").read_bytes():
            assert proc.poll() is None, (tmp_path / "dev.log").read_text()
            assert time.monotonic() < deadline, "dev stack did not start"
            time.sleep(0.3)
        printed = (tmp_path / "dev.log").read_text()
        assert f"http://127.0.0.1:{api}/docs" in printed and f"http://127.0.0.1:{ui}" in printed
        assert f"http://127.0.0.1:{api}/console" in printed

        base = f"http://127.0.0.1:{api}"
        token = _printed(printed, r"export CLAUSEFLOW_TOKEN=(cf_\S+)")
        _check_the_printed_credentials(base, printed, token, tmp_path)
        received = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        case = _http(
            "POST",
            f"{base}/api/contracts/ctr_reference_msa/cases",
            {
                "clause": "termination_for_convenience",
                "facts": {"notice_received_at": received, "given_by": "customer"},
            },
            {"Idempotency-Key": "dev-stack"},
            token=token,
        )
        assert case["state"] == "notice_period_running"
        # The reference contract's monthly SLA review runs beside the new case.
        assert "Monthly review  case case_" in printed
        cases = _http("GET", f"{base}/api/cases", token=token)["items"]
        assert sorted(c["clause"] for c in cases) == [
            "monthly_sla_review",
            "termination_for_convenience",
        ]
        for _ in range(100):
            outbox = _http("GET", f"{base}/api/outbox", token=token)
            if outbox["total"]:
                break
            time.sleep(0.1)
        assert [n["notice"] for n in outbox["items"]] == ["acknowledgement"]
        assert (tmp_path / ".clauseflow" / "temporal.db").exists()
        assert (tmp_path / ".clauseflow" / "clauseflow.db").exists()
        # Payloads are encrypted with a development key made on first start, owner-only.
        key_file = tmp_path / ".clauseflow" / "payload.key"
        keys = [ln for ln in key_file.read_text().splitlines() if ln and not ln.startswith("#")]
        assert len(keys) == 1 and keys[0].startswith("dev-")
        assert key_file.stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0
    assert "Stopped." in (tmp_path / "dev.log").read_text()
    for port in (temporal, api):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open after Ctrl-C"


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
