"""`clauseflow dev` starts the whole stack, serves a case end to end, and stops cleanly."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.devserver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
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

        base = f"http://127.0.0.1:{api}"
        received = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        case = _http(
            "POST",
            f"{base}/api/contracts/ctr_reference_msa/cases",
            {
                "clause": "termination_for_convenience",
                "facts": {"notice_received_at": received, "given_by": "customer"},
            },
            {"Idempotency-Key": "dev-stack"},
        )
        assert case["state"] == "notice_period_running"
        # The reference contract's monthly SLA review runs beside the new case.
        assert "Monthly review  case case_" in printed
        cases = _http("GET", f"{base}/api/cases")["items"]
        assert sorted(c["clause"] for c in cases) == [
            "monthly_sla_review",
            "termination_for_convenience",
        ]
        for _ in range(100):
            outbox = _http("GET", f"{base}/api/outbox")
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
