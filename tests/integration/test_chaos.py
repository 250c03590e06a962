"""Under every fault of the chaos run, no notice is lost or sent twice and every case ends.

``bench/chaos.py`` with small numbers (``make chaos`` runs it with 200+ cases): a dozen
cases over every clause on a real dev server, worker subprocesses, a throwaway
PostgreSQL database and the SendGrid mock, while a worker is SIGKILLed, the dev server
restarts on its file, the database refuses connections, SendGrid refuses ~30% of
requests and answers some after the send activity has timed out. Faults are placed by
the number of requests the mock has seen and the mock's answers are scripted from a
fixed seed, so the run is the same every time up to scheduling.

The runner is a subprocess: it owns its environment (DATABASE_URL, the workers' settings)
and cleans up everything it started.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.devserver, pytest.mark.timeout(600)]

FAULTS = [
    "worker SIGKILL",
    "Temporal restart",
    "database outage",
    "SendGrid 429/500",
    "SendGrid slow",
]


def run_chaos(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    out = tmp_path / "summary.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.chaos", "--json", str(out), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=570,
    )
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def test_no_notice_is_lost_or_duplicated_under_every_fault(tmp_path: Path) -> None:
    proc, s = run_chaos(
        tmp_path,
        *("--cases", "12", "--seed", "11", "--kills", "2", "--server-restarts", "1"),
        *("--db-outages", "1", "--db-down", "3", "--slow-rate", "0.1", "--timeout", "540"),
        # A killed worker's records are retried after 5 s, not 30; sends wait at most 8 s
        # between attempts, not 10 minutes: the same faults, less waiting.
        *("--record-timeout", "5", "--notice-retry-max", "8"),
    )
    report = proc.stdout[-4000:]
    assert proc.returncode == 0, report + proc.stderr[-3000:]
    for fault in FAULTS:
        assert s["faults"].get(fault, 0) >= 1, (fault, report)
    assert s["cases"] == s["at_end_state"] == 12, report
    assert s["notices_expected"] >= 12 and s["notices_sent"] == s["notices_expected"], report
    assert s["duplicated"] == s["lost"] == s["stray"] == s["mismatches"] == [], report
    assert "RESULT: OK" in report
