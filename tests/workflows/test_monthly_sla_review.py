"""The monthly SLA review runs month after month in one case and notices each result."""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from tests.workflows.helpers import NY, Clause, clock_at

CLAUSE = "monthly_sla_review"
FACTS = {"first_month": "2037-11-01"}
RECORDED_BY = "ops@customer.example.com"
# Eight hours down on Tue 10 Nov 2037.
DOWNTIME = {"started_at": "2037-11-10T14:00:00Z", "ended_at": "2037-11-10T22:00:00Z"}

_early_november_2037 = clock_at(dt.datetime(2037, 11, 2, 12, tzinfo=dt.UTC))


async def test_each_month_end_sends_its_own_review_notice(clause: Clause) -> None:
    case = await clause.start()
    view = await case.ready()
    month_end = next(d for d in view.deadlines if d.name == "month_end")
    # The review of November is due at the start of 1 December, New York time.
    assert month_end.due_at == dt.datetime(2037, 12, 1, tzinfo=NY)

    # Eight hours down in November, recorded the next day: below target, a credit is due.
    await clause.travel(dt.datetime(2037, 11, 11, 15, tzinfo=dt.UTC))
    await case.record("downtime_recorded", DOWNTIME)
    await clause.travel(dt.datetime(2038, 1, 15, tzinfo=dt.UTC))
    view = await case.view()
    sent = case.by_key()
    assert set(sent) == {
        "service_credit:deadline:month_end:2037-12-01",
        "uptime_report:deadline:month_end:2038-01-01",
    }
    credit = sent["service_credit:deadline:month_end:2037-12-01"]
    assert "November 2037" in credit.subject and "252.40 USD" in credit.subject
    assert "98.8904%" in credit.body_text
    assert credit.to == [
        "legal@customer.example.com",
        "contracts@customer.example.com",
        "notices@provider.example.com",
        "legal@provider.example.com",
    ]
    # December had no downtime: the owner gets the report, no credit.
    report = sent["uptime_report:deadline:month_end:2038-01-01"]
    assert "December 2037" in report.subject and "100.0000%" in report.body_text
    # The next review is the end of January.
    assert case.deadlines()["month_end"].last_day == dt.date(2038, 2, 1)
    assert view.state == "monitoring" and not view.closed


async def test_reviews_end_with_the_agreement(clause: Clause) -> None:
    case = await clause.open()
    await case.record("review_ended", ended_on="2037-11-30")
    assert await case.ended() == "ended"
    assert case.notices() == []


async def test_downtime_cannot_be_recorded_once_reviews_ended(clause: Clause) -> None:
    case = await clause.open()
    await case.record("review_ended", ended_on="2037-11-30")
    # The case has ended: the update finds no running workflow to take it.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await case.record("downtime_recorded", DOWNTIME)
