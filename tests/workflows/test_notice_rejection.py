"""A notice SendGrid refuses, or one it cannot confirm, escalates its case with the reason."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session

from activities.notices import notice_id_for
from store.db import get_engine
from store.models import Case, Notice
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401  (the sendgrid_mock fixture)
from tests.support.sendgrid_mock import Reply, SendGridMock
from tests.workflows.helpers import (
    Clause,
    case_row,
    clock_at,
    escalations,
    eventually,
    seed_reference_contract,
)
from workflows.case import CaseWorkflow

CLAUSE = "termination_for_convenience"
FACTS = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}


_early_december_2037 = clock_at(dt.datetime(2037, 12, 1, 16, tzinfo=dt.UTC))


@pytest.mark.parametrize("status", [400, 401, 403, 413])
async def test_a_notice_sendgrid_refuses_escalates_the_case_with_sendgrids_reason(
    sendgrid_mock: SendGridMock, clause: Clause, status: int
) -> None:
    sendgrid_mock.script_send(Reply(status, f"refused for test ({status})"))
    handle = (await clause.open()).handle
    [found] = await eventually(lambda: escalations(handle.id))
    assert found.reason.startswith("notice acknowledgement could not be sent: ")
    assert f"notice could not be sent: SendGrid answered {status}" in found.reason
    assert f"refused for test ({status})" in found.reason
    assert len(sendgrid_mock.requests) == 1  # not retried
    row = case_row(handle.id)
    assert row is not None and row.escalated
    view = await handle.query(CaseWorkflow.case)
    assert view.escalations == [found.reason] and not view.closed


def _left_sending_long_ago(case_id: str, notice_key: str) -> str:
    """A notice an earlier attempt handed to SendGrid a day ago, before its worker died."""
    now = dt.datetime.now(dt.UTC)
    notice_id = notice_id_for(case_id, notice_key)
    with Session(get_engine()) as s:
        s.add(
            Case(
                id=case_id,
                contract_id="ctr_reference_msa",
                clause=CLAUSE,
                rulebook_version=1,
                state="opened",
                state_label="opened",
                facts=FACTS,
                opened_at=now,
                updated_at=now,
            )
        )
        s.flush()
        s.add(
            Notice(
                id=notice_id,
                case_id=case_id,
                notice_key=notice_key,
                notice="acknowledgement",
                clause=CLAUSE,
                to=["legal@customer.example.com"],
                cc=[],
                subject="Acknowledgement",
                body_text="text",
                body_html="<p>html</p>",
                channel="sendgrid",
                status="sending",
                due_at=now,
                created_at=now,
                sent_at=now - dt.timedelta(days=1),
            )
        )
        s.commit()
    return notice_id


async def test_a_notice_sendgrid_cannot_confirm_escalates_the_case_as_in_doubt(
    sendgrid_mock: SendGridMock, clause: Clause
) -> None:
    seed_reference_contract()  # before the case row below, which refers to its contract
    case_id = "case_in_doubt"
    notice_id = _left_sending_long_ago(case_id, "acknowledgement:started")
    sendgrid_mock.script_activity(always=403)  # no Email Activity add-on: SendGrid cannot tell
    handle = (await clause.open(case_id=case_id)).handle
    [found] = await eventually(lambda: escalations(handle.id))
    assert "acknowledgement:started may already have been sent" in found.reason
    assert "Email Activity API answered 403" in found.reason
    assert [r.path for r in sendgrid_mock.requests] == ["/v3/messages"]  # nothing re-sent
    with Session(get_engine()) as s:
        row = s.get(Notice, notice_id)
        assert row is not None and row.status == "sending" and row.error
    case = case_row(handle.id)
    assert case is not None and case.escalated
