"""The data-transfer consent case (MSA §13, Exhibit D) on the time-skipping server.

The Provider asks on Tue 1 Dec 2037 at 10:00 New York (15:00 UTC, EST) to move Customer
Data to Singapore, outside the permitted jurisdictions (United States). The owner's
reminder comes 10 business days later, request day excluded: Wed 2, Thu 3, Fri 4, Mon 7,
Tue 8, Wed 9, Thu 10, Fri 11, Mon 14, Tue 15 Dec (no New York holiday in between), at
09:00 EST = 14:00 UTC on Tue 15 Dec 2037.
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import (
    CUSTOMER,
    NY,
    OWNER,
    PROVIDER,
    Clause,
    clock_at,
    eventually,
)

UTC = dt.UTC
CLAUSE = "data_transfer"
FACTS = {
    "requested_at": "2037-12-01T15:00:00Z",
    "destination": "Singapore",
    "purpose": "Follow-the-sun support from the Singapore operations centre",
    "data_categories": "support tickets and call recordings",
}
RECORDED_BY, REASON = "privacy@customer.example.com", "per signed letter"
REMINDER_AT = dt.datetime(2037, 12, 15, 9, tzinfo=NY).astimezone(UTC)

_start_of_december_2037 = clock_at(dt.datetime(2037, 12, 1, 16, tzinfo=UTC))


CONSENT = {"consented_by": "Dana Whitfield, General Counsel", "consented_on": "2037-12-04"}


async def test_request_asks_the_customer_for_written_consent(clause: Clause) -> None:
    case = await clause.open()
    view = await case.view()
    assert view.state == "consent_requested"
    assert [(d.name, d.due_at) for d in view.deadlines] == [("decision_reminder", REMINDER_AT)]
    assert case.deadlines()["decision_reminder"].last_day == dt.date(2037, 12, 15)

    await eventually(case.notices)
    request = case.only("consent_requested")
    assert request.to == CUSTOMER and request.cc == PROVIDER + OWNER
    assert request.subject.startswith("Consent requested: transfer of Customer Data to Singapore")
    for body in (request.body_text, request.body_html):
        assert "support tickets and call recordings" in body
        assert "(United States)" in body
        assert "Section 13 and Exhibit D" in body
        assert "Tue 15 Dec 2037 09:00" in body


async def test_consent_then_transfer_with_consent_on_file_closes_as_transferred(
    clause: Clause,
) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 12, 4, 16, tzinfo=UTC))
    view = await case.record("consent_given", **CONSENT, conditions="Encrypted at rest")
    assert view.state == "consent_given" and not view.closed
    # The consent came before the reminder, so the reminder is cancelled and never sent.
    assert case.deadlines()["decision_reminder"].status == "cancelled"
    await eventually(lambda: len(case.notices()) == 2)
    confirmed = case.only("consent_confirmed")
    assert confirmed.to == PROVIDER + CUSTOMER and confirmed.cc == OWNER
    assert "signed by Dana Whitfield, General Counsel on 2037-12-04" in confirmed.body_text
    assert "Encrypted at rest" in confirmed.body_text

    await clause.travel(dt.datetime(2037, 12, 20, 16, tzinfo=UTC))
    assert case.kinds() == ["consent_requested", "consent_confirmed"]
    view = await case.record("transfer_made", transferred_on="2037-12-18", consent_on_file=True)
    assert view.state == "transferred" and view.closed
    assert await case.ended() == "transferred"
    recorded = case.only("transfer_recorded")
    assert "on 2037-12-18" in recorded.body_text and "Encrypted at rest" in recorded.body_text
    row = case.row()
    assert row.closed and not row.escalated
    assert case.path() == [
        ("opened", "consent_requested"),
        ("consent_requested", "consent_given"),
        ("consent_given", "transferred"),
    ]


async def test_no_decision_reminds_the_owner_then_a_refusal_closes_the_case(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 12, 16, 15, tzinfo=UTC))
    await eventually(lambda: len(case.notices()) == 2)
    reminder = case.only("owner_reminder")
    assert dt.timedelta(0) <= reminder.created_at - REMINDER_AT < dt.timedelta(minutes=1)
    assert reminder.to == OWNER and reminder.cc == []
    assert "has not yet decided" in reminder.body_text
    assert "business day 10 is Tue 15 Dec 2037" in reminder.body_text
    assert await case.state() == "consent_requested"

    why = await case.refused("consent_refused", refused_by="Dana Whitfield")
    assert "values.reason is required" in why

    view = await case.record(
        "consent_refused", reason="No transfer impact assessment", refused_by="D. W."
    )
    assert view.state == "consent_refused" and view.closed
    refusal = case.only("consent_refused")
    assert refusal.to == PROVIDER + CUSTOMER and refusal.cc == OWNER
    assert "No transfer impact assessment" in refusal.body_text
    assert "must not transfer the Customer Data to Singapore" in refusal.body_text
    row = case.row()
    assert row.state == "consent_refused" and not row.escalated


async def test_transfer_before_consent_is_escalated_as_a_possible_breach(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 12, 8, 16, tzinfo=UTC))
    view = await case.record(
        "transfer_made",
        transferred_on="2037-12-07",
        consent_on_file=True,  # claimed, but the case never recorded any consent
        details="Ticket archive replicated to the SG region",
    )
    assert view.state == "transferred_without_consent" and view.closed
    assert len(view.escalations) == 1 and "MSA §13, Exhibit D" in view.escalations[0]
    row = await case.escalated()
    assert row.state == "transferred_without_consent"
    assert case.escalation_rules() == ["transfer_before_consent"]
    notice = case.only("unauthorised_transfer")
    assert notice.to == CUSTOMER + PROVIDER and notice.cc == OWNER
    assert "No consent of Example Enterprise Inc. had been recorded" in notice.body_text
    assert "Ticket archive replicated to the SG region" in notice.body_text
    assert case.deadlines()["decision_reminder"].status == "cancelled"


async def test_transfer_without_written_consent_on_file_is_escalated(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 12, 4, 16, tzinfo=UTC))
    await case.record("consent_given", **CONSENT)
    await clause.travel(dt.datetime(2037, 12, 10, 16, tzinfo=UTC))
    view = await case.record("transfer_made", transferred_on="2037-12-09", consent_on_file=False)
    assert view.state == "transferred_without_consent" and view.closed
    assert case.escalation_rules() == ["transfer_without_written_consent_on_file"]
    notice = case.only("unauthorised_transfer")
    assert "no signed written consent covering the transfer is on file" in notice.body_text
    assert "Dana Whitfield, General Counsel on 2037-12-04" in notice.body_text
    row = case.row()
    assert row.escalated


async def test_a_decision_cannot_be_recorded_twice_and_a_request_can_be_withdrawn(
    clause: Clause,
) -> None:
    case = await clause.open()
    await clause.travel(dt.datetime(2037, 12, 4, 16, tzinfo=UTC))
    await case.record("consent_given", **CONSENT)
    why = await case.refused("consent_refused", reason="Changed our mind")
    assert "can only be recorded in consent_requested; the case is consent_given" in why
    view = await case.record("request_withdrawn", note="Provider kept support in the US")
    assert view.state == "withdrawn" and view.closed
    withdrawn = case.only("request_withdrawn")
    assert "Provider kept support in the US" in withdrawn.body_text
    assert "no longer needed" in withdrawn.body_text
