"""The guard against tests that hide a date: the suite's second run, a year ahead.

A test written with a literal date that is in the future today passes today and fails
on the first day CI runs after it. ``make test`` runs the suite again with the
application's clock a year ahead (this process's clock and the time-skipping server's),
so such a test fails on the day it is written. Here a test of that kind is written the
way the expired tests were, and run both ways.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine

from tests.clock import AHEAD_VARIABLE
from tests.conftest import REPO
from tests.dates import NY, ny_today

HIDES_A_DATE = """
from temporalio.client import Client

from tests.workflows.helpers import NY, open_case
from workflows.case import AmendDeadlineRequest, CaseWorkflow
import datetime as dt


async def test_the_parties_agree_a_later_effective_date(worker: Client, task_queue: str) -> None:
    received = (dt.datetime.now(NY) - dt.timedelta(days=2)).replace(microsecond=0)
    handle = await open_case(
        worker, task_queue, "termination_for_convenience",
        {{"notice_received_at": received.isoformat(), "given_by": "customer"}},
    )
    # The literal: in the future on the day this test was written.
    agreed = dt.datetime.fromisoformat("{agreed}T12:00:00-05:00")
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("effective_date", agreed, "agreed in writing", "alice", False),
    )
    assert next(d for d in view.deadlines if d.name == "effective_date").due_at == agreed
"""


def _machine_today() -> dt.date:
    if time_machine.escape_hatch.is_travelling():
        return time_machine.escape_hatch.datetime.datetime.now(NY).date()
    return ny_today()


def _run(test_file: Path, ahead_days: int | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != AHEAD_VARIABLE}
    if ahead_days is not None:
        env[AHEAD_VARIABLE] = str(ahead_days)
    return subprocess.run(
        # The suite's own settings and fixtures, for a test file outside the tree.
        [
            *(sys.executable, "-m", "pytest", "-c", str(REPO / "pyproject.toml")),
            *("-p", "tests.conftest", "-q", "-p", "no:cacheprovider", str(test_file)),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.timeout(300)
def test_a_test_that_hides_a_date_passes_today_and_fails_a_year_ahead(tmp_path: Path) -> None:
    # Written as the expired tests were: a date some months ahead of the day it was written
    # (the machine's day: this test may itself run in the pass a year ahead).
    agreed = _machine_today() + dt.timedelta(days=200)
    test_file = tmp_path / "test_hides_a_date.py"
    test_file.write_text(HIDES_A_DATE.format(agreed=agreed.isoformat()))

    today = _run(test_file, None)
    assert today.returncode == 0, today.stdout + today.stderr

    later = _run(test_file, 365)
    assert later.returncode == 1, later.stdout + later.stderr
    assert "1 failed" in later.stdout
    # It fails for the reason the date hid: a year on, the agreed date is in the past.
    assert "is not in the future" in later.stdout
