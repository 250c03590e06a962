"""A notice the provider could not deliver comes back to its case, which escalates."""

from __future__ import annotations

import asyncio
import datetime as dt

from tests.workflows.helpers import Clause, case_row, clock_at, escalations, eventually, notices
from workflows.case import CaseWorkflow, DeliveryFailure

CLAUSE = "termination_for_convenience"
FACTS = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}


_late_november_2037 = clock_at(dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))


async def test_a_bounced_notice_escalates_its_case_by_default(clause: Clause) -> None:
    handle = (await clause.open()).handle
    ack = (await eventually(lambda: notices(handle.id)))[0]
    await handle.signal(
        CaseWorkflow.delivery_failed,
        DeliveryFailure(ack.notice_key, ack.notice, "bounce", "550 5.1.1 mailbox unavailable"),
    )
    found = await eventually(lambda: escalations(handle.id))
    assert found[0].rule == "written_notice_not_delivered"
    assert "acknowledgement was not delivered (bounce)" in found[0].reason
    assert "550 5.1.1" in found[0].reason
    row = case_row(handle.id)
    assert row is not None and row.escalated and row.state == "notice_period_running"
    view = await handle.query(CaseWorkflow.case)
    assert view.escalations and not view.closed


async def test_a_repeated_failure_report_is_handled_once(clause: Clause) -> None:
    handle = (await clause.open()).handle
    ack = (await eventually(lambda: notices(handle.id)))[0]
    failure = DeliveryFailure(ack.notice_key, ack.notice, "dropped", "Bounced Address")
    await handle.signal(CaseWorkflow.delivery_failed, failure)
    await handle.signal(CaseWorkflow.delivery_failed, failure)  # the webhook was retried
    await eventually(lambda: case_row(handle.id) and case_row(handle.id).escalated)  # type: ignore[union-attr]
    # A second escalation, if any, would follow within moments: watch for a while.
    for _ in range(20):
        view = await handle.query(CaseWorkflow.case)
        assert len(view.escalations) == 1
        await asyncio.sleep(0.05)
