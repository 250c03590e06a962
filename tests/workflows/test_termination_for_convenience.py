"""The termination-for-convenience case through its whole life, on the time-skipping server.

2037 has the same calendar as 2026 (1 Dec a Tuesday, 1 Mar a Monday), so these dates
mirror the issue's example while staying in the future whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from temporalio.exceptions import WorkflowAlreadyStartedError

from tests.workflows.helpers import NY, Clause, at_ny, clock_at, eventually, fired_at, notices

UTC = dt.UTC
CLAUSE = "termination_for_convenience"
FACTS = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}  # 10:00 New York
RECORDED_BY, REASON = "dana@customer.example.com", "commercial terms renegotiated"

# The test server caps a run at about ten years, so start the clock near the notice.
_late_november_2037 = clock_at(dt.datetime(2037, 11, 27, 12, tzinfo=UTC))


async def test_termination_takes_effect_on_the_ninetieth_day_after_receipt(clause: Clause) -> None:
    case = await clause.start()
    assert await case.ended() == "terminated"
    sent = case.by_key()
    assert set(sent) == {
        "acknowledgement:started",
        "owner_reminder:deadline:reminder_60:2037-12-31",
        "owner_reminder:deadline:reminder_30:2038-01-29",
        "owner_reminder:deadline:reminder_7:2038-02-22",
        "termination_effective:deadline:effective_date:2038-03-01",
    }
    # Receipt day (1 Dec) excluded: day 90 is Mon 1 Mar 2038; the notice goes out that day.
    effective = sent["termination_effective:deadline:effective_date:2038-03-01"]
    assert fired_at(effective.created_at, at_ny(2038, 3, 1))
    assert effective.created_at.astimezone(NY).date() == dt.date(2038, 3, 1)
    # Reminders at 09:00 local, 60/30/7 days before; 30 days before is a Saturday,
    # so that reminder moves back to Friday.
    for key, due in [
        ("reminder_60:2037-12-31", at_ny(2037, 12, 31, 9)),
        ("reminder_30:2038-01-29", at_ny(2038, 1, 29, 9)),
        ("reminder_7:2038-02-22", at_ny(2038, 2, 22, 9)),
    ]:
        assert fired_at(sent[f"owner_reminder:deadline:{key}"].created_at, due)


async def test_notices_go_to_the_right_parties(clause: Clause) -> None:
    case = await clause.start()
    await case.ended()
    sent = case.by_kind()

    ack = sent["acknowledgement"]
    # The Customer gave notice, so the acknowledgement goes back to the Customer.
    assert ack.to == ["legal@customer.example.com", "contracts@customer.example.com"]
    assert ack.cc == ["contract.owner@customer.example.com"]
    assert "Mon 1 Mar 2038" in ack.body_text and "Mon 1 Mar 2038" in ack.body_html
    assert "NY GCL § 20" in ack.body_text  # the explanation travels with the date

    assert sent["owner_reminder"].to == ["contract.owner@customer.example.com"]

    final = sent["termination_effective"]
    assert "notices@provider.example.com" in final.to and "legal@customer.example.com" in final.to
    for section in ("Section 4", "Section 6", "Section 7", "Section 9", "Section 11"):
        assert section in final.body_text
    assert "up to and including Mon 1 Mar 2038" in final.body_text


async def test_case_records_transitions_and_reached_deadlines(clause: Clause) -> None:
    case = await clause.start()
    await case.ended()

    assert case.path() == [
        ("opened", "notice_period_running"),
        ("notice_period_running", "terminated"),
    ]
    assert case.deadlines()["effective_date"].last_day == dt.date(2038, 3, 1)
    assert case.deadline_statuses() == {"reached"}
    row = case.row()
    assert row.closed and row.state == "terminated"
    assert row.next_deadline_at is None


async def test_while_running_the_query_shows_the_next_deadline(clause: Clause) -> None:
    case = await clause.start()
    view = await case.ready()
    assert view.state == "notice_period_running"
    assert [d.name for d in view.deadlines] == [
        "reminder_60",
        "reminder_30",
        "reminder_7",
        "effective_date",
    ]
    row = case.row()
    assert row.next_deadline_name == "reminder_60"
    assert row.next_deadline_at == at_ny(2037, 12, 31, 9)
    assert (await case.view()).state_label.startswith("Notice period running")


async def test_withdrawal_by_mutual_agreement_ends_the_case_as_withdrawn(clause: Clause) -> None:
    case = await clause.open()
    # Recorded on the day it was agreed: a fact cannot be dated ahead of the case's clock.
    await clause.travel(dt.datetime(2037, 12, 10, 17, tzinfo=UTC))
    view = await case.record(
        "withdrawal_agreed",
        customer_signatory="Dana Whitfield",
        provider_signatory="Sam Okafor",
        agreed_on="2037-12-10",
    )
    await case.closes_as(view, "withdrawn")

    assert set(case.kinds()) == {"acknowledgement", "withdrawal_confirmed"}
    body = case.sent("withdrawal_confirmed").body_text
    assert "Dana Whitfield" in body and "Sam Okafor" in body
    assert case.deadline_statuses() == {"cancelled"}


async def test_withdrawal_needs_both_signatories(clause: Clause) -> None:
    case = await clause.open()
    why = await case.refused(
        "withdrawal_agreed", customer_signatory="Dana Whitfield", agreed_on="2037-12-10"
    )
    assert "provider_signatory" in why
    view = await case.view()
    assert view.state == "notice_period_running" and not view.closed


async def test_unknown_fact_is_rejected_by_the_update_validator(clause: Clause) -> None:
    case = await clause.open()
    assert "not recordable" in await case.refused("breach_cured", by="someone")


async def test_starting_the_same_case_twice_starts_one_workflow(clause: Clause) -> None:
    case = await clause.start(case_id="case_same")
    with pytest.raises(WorkflowAlreadyStartedError):
        await clause.start(case_id="case_same")
    await case.ready()
    await eventually(lambda: notices("case_same"))
    assert [n.notice for n in notices("case_same")] == ["acknowledgement"]


async def test_a_long_case_continues_as_new_and_keeps_its_state(clause: Clause) -> None:
    case = await clause.start(history_limit=15)
    assert await case.ended() == "terminated"
    desc = await case.handle.describe()
    # The run that finished is not the first one: the case continued as new on the way.
    assert desc.run_id != case.handle.first_execution_run_id
    assert len({n.notice_key for n in case.notices()}) == 5
    assert len(case.notices()) == 5
