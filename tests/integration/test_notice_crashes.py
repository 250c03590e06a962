"""Killing the worker at any step of sending a notice sends no duplicate and loses no notice.

For each crash point in ``activities.notices.send_notice`` a real worker process
(``python -m workers.cli worker``) on the real Temporal dev server dies there
(``CLAUSEFLOW_CRASH_AT``, exit 137 as after ``kill -9``) while sending a case's
acknowledgement through the SendGrid mock; a second worker, without the fault, takes
the case over. Exactly one request reaches SendGrid for the notice, the notice ends
``sent`` with SendGrid's message id, and the case is not escalated.

Temporal learns that a worker died when the activity attempt's start-to-close timeout
expires; it then retries the attempt on another worker. These cases are started with a
short notice timeout (``CaseInput.notice_timeout_seconds``) so that the real timeout,
not a shortcut, hands the notice to the second worker within seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from activities.faults import CRASH_AT_ENV
from activities.notices import notice_id_for
from tests.conftest import REPO, TEST_PAYLOAD_KEYS
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401  (the sendgrid_mock fixture)
from tests.support.sendgrid_mock import MAIL_SEND, SendGridMock
from tests.workflows.helpers import case_row, eventually, notices, seed_reference_contract
from tests.workflows.helpers import start_case as start_case_workflow
from workers.procs import spawn
from workflows.case import CaseWorkflow

pytestmark = pytest.mark.devserver

#: Each crash point, and how many messages SendGrid has accepted when the worker dies there.
CRASH_POINTS = {
    "before_notice_row": 0,
    "after_notice_row": 0,
    "after_sendgrid_accepted": 1,
    "after_notice_recorded": 1,
}
ACK_KEY = "acknowledgement:started"


class Workers:
    """Worker processes started by one test; each is stopped by its own pid."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, list[subprocess.Popen[bytes]]()

    def start(self, crash_at: str | None) -> subprocess.Popen[bytes]:
        env = dict(self.env)
        env.pop(CRASH_AT_ENV, None)
        # Tests run in parallel: each worker's metrics port must be its own.
        env["WORKER_METRICS_PORT"] = str(_free_port())
        if crash_at:
            env[CRASH_AT_ENV] = crash_at
        log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
        proc = spawn([sys.executable, "-m", "workers.cli", "worker"], log, env=env, cwd=REPO)
        self.procs.append(proc)
        return proc

    def output(self) -> str:
        return "\n".join(p.read_text()[-3000:] for p in sorted(self.logs.glob("worker-*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workers(
    dev_env: WorkflowEnvironment, db_url: str, sendgrid_mock: SendGridMock, tmp_path: Path
) -> Iterator[Workers]:
    env = dict(os.environ)
    env.update(
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        TEMPORAL_TASK_QUEUE=f"crash-{uuid.uuid4().hex[:8]}",
        DATABASE_URL=db_url,
        SENDGRID_API_KEY=sendgrid_mock.api_key,
        SENDGRID_HOST=sendgrid_mock.url,
        PAYLOAD_ENCRYPTION_KEYS=TEST_PAYLOAD_KEYS,
    )
    w = Workers(env, tmp_path)
    yield w
    w.stop()


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
async def test_a_worker_killed_while_sending_a_notice_sends_it_exactly_once(
    crash_at: str,
    dev_env: WorkflowEnvironment,
    workers: Workers,
    sendgrid_mock: SendGridMock,
) -> None:
    seed_reference_contract()
    received = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    first = workers.start(crash_at=crash_at)
    handle = await start_case_workflow(
        dev_env.client,
        workers.env["TEMPORAL_TASK_QUEUE"],
        "termination_for_convenience",
        {"notice_received_at": received.strftime("%Y-%m-%dT%H:%M:%SZ"), "given_by": "customer"},
        notice_timeout_seconds=3,
    )
    try:
        code = await asyncio.to_thread(first.wait, 30)
        assert code == 137, workers.output()
        notice_id = notice_id_for(handle.id, ACK_KEY)
        assert len(sendgrid_mock.accepted_for(notice_id)) == CRASH_POINTS[crash_at]

        workers.start(crash_at=None)

        async def acknowledged() -> bool:
            view = await handle.query(CaseWorkflow.case)
            return ACK_KEY in view.notices

        for _ in range(300):
            if await acknowledged():
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"the case never recorded its notice\n{workers.output()}")

        [row] = await eventually(lambda: notices(handle.id))
        mail_sends = [r for r in sendgrid_mock.requests if r.path == MAIL_SEND]
        assert len(mail_sends) == 1, [r.custom_args for r in mail_sends]
        assert not sendgrid_mock.invalid
        assert mail_sends[0].custom_args["notice_id"] == row.id == notice_id
        assert row.status == "sent", (row.status, row.error)
        assert row.provider_message_id == mail_sends[0].message_id is not None
        # Only a notice left "sending" needs SendGrid's Email Activity to settle it.
        asked = [r.status for r in sendgrid_mock.activity_queries()]
        assert asked == ([200] if crash_at == "after_sendgrid_accepted" else [])
        view = await handle.query(CaseWorkflow.case)
        assert view.escalations == []
        case = case_row(handle.id)
        assert case is not None and not case.escalated
    finally:
        await handle.terminate("test over")
