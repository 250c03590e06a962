"""Under every fault of the chaos run, no notice is lost or sent twice and every case ends.

``bench/chaos/`` with small numbers (``make chaos`` runs it with 200+ cases): a dozen
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

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.api.common.v1 import ActivityType
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse

import bench.chaos
from bench.chaos import LogKeeper, Workers, settle_all
from tests.conftest import REPO

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


@pytest.mark.devserver
@pytest.mark.timeout(600)
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
    # Nothing ended that the run did not end (a crash leaves its log in logs_kept).
    assert s["unexpected_exits"] == [], (s["unexpected_exits"], s["logs_kept"])


class _Case:
    """A case whose send_notice is pending for its first ``busy_for`` describes.

    As in the real thing, the notice's row is stored 'sent' before the activity returns,
    and the workflow lists the notice only once it has returned.
    """

    id = "case_chaos_0000"

    def __init__(self, busy_for: int) -> None:
        self.busy_for, self.describes, self.history = busy_for, 0, 10
        self.notices: list[str] = []

    async def describe(self) -> Any:
        self.describes += 1
        busy = self.describes <= self.busy_for
        if not busy and not self.notices:  # the activity returned
            self.notices.append("acknowledgement:started")
            self.history += 3
        pending = [PendingActivityInfo(activity_type=ActivityType(name="send_notice"), attempt=2)]
        raw = DescribeWorkflowExecutionResponse(pending_activities=pending if busy else [])
        return SimpleNamespace(raw_description=raw, history_length=self.history)

    async def query(self) -> Any:
        return SimpleNamespace(notices=list(self.notices))


def _judge(case: _Case, seconds: float = 10.0) -> Any:
    async def judged() -> Any:
        return await settle_all(
            [case], lambda h: h.query(), lambda: "rows", time.monotonic() + seconds, 0.01
        )

    return asyncio.run(judged())


def test_a_case_is_judged_only_once_none_of_its_activities_is_pending() -> None:
    case = _Case(busy_for=3)
    judged = _judge(case)
    view, desc = judged.cases[case.id]
    # Judged mid-send, the stored notice would have been called stray.
    assert view.notices == ["acknowledgement:started"] and judged.rows == "rows"
    assert case.describes > 3 and not desc.raw_description.pending_activities


def test_a_case_still_busy_when_judged_is_reported_with_what_is_pending() -> None:
    case = _Case(busy_for=10**9)
    judged = _judge(case, seconds=0.2)
    assert str(judged.cases[case.id]) == "still pending when judged: send_notice (attempt 2)"


def test_the_log_of_a_worker_that_ends_unexpectedly_is_kept_with_its_telling_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_spawn = bench.chaos.spawn

    def aborting(cmd: list[str], log: Any, **kw: Any) -> subprocess.Popen[bytes]:
        # A worker that aborts the way the SDK's threads could make one abort.
        return real_spawn([sys.executable, "-c", "import os; os.abort()"], log, **kw)

    monkeypatch.setattr(bench.chaos, "spawn", aborting)
    keeper = LogKeeper(tmp_path / "kept")
    workers = Workers(1, dict(os.environ), tmp_path, keeper)
    workers.ensure()
    first = workers.slots[0]
    assert first is not None
    first.proc.wait(timeout=30)
    workers.ensure()  # notices the exit, keeps the log, starts another
    workers.stop()
    assert workers.exits[-6] >= 1
    assert keeper.notes[0].startswith("worker-0.log: exit -6: SIGABRT after ")
    assert keeper.notes[0].endswith("; Fatal Python error: Aborted")  # faulthandler's line
    assert "Fatal Python error: Aborted" in (tmp_path / "kept" / "worker-0.log").read_text()
