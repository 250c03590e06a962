"""An incident-response case through its whole life, on the time-skipping server.

Reference terms: business hours 09:00-17:00 New York time, Monday to Friday except NY
public holidays; response within 2 business hours when reported inside them, else 4
elapsed hours; resolution within 24 elapsed hours of receipt. December 2037 is EST
(UTC-5).
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER_EMAIL,
    PROVIDER,
    Clause,
    clock_at,
    eventually,
    fired_at,
)

UTC = dt.UTC
CLAUSE = "incident_response"
FACTS = {"severity": "high", "description": "Outbound calls fail"}  # and when it was reported
RECORDED_BY = "noc@provider.example.com"
OWNER = OWNER_EMAIL  # a bare address: these tests build their own lists around it


def utc(d: int, h: int, m: int = 0) -> dt.datetime:
    return dt.datetime(2037, 12, d, h, m, tzinfo=UTC)


def reported(at: str) -> dict[str, str]:
    return {"reported_at": at}


_clock = clock_at(utc(1, 15))


async def test_business_hours_incident_answered_and_resolved_in_time(clause: Clause) -> None:
    # Tue 1 Dec 2037 10:00 New York: inside business hours.
    case = await clause.start(reported("2037-12-01T15:00:00Z"))
    view = await case.ready()
    assert view.state == "awaiting_response" and view.facts["reported_in_business_hours"] is True
    # 2 business hours from 10:00 is 12:00 New York (17:00 UTC); 24 hours is 15:00 UTC on 2 Dec.
    assert [(d.name, d.due_at) for d in view.deadlines] == [
        ("response_due_business", utc(1, 17)),
        ("resolution_due", utc(2, 15)),
    ]

    await clause.travel(utc(1, 16))
    view = await case.record(
        "responded", responded_at="2037-12-01T16:00:00Z", responded_by="NOC lead"
    )
    assert view.state == "awaiting_resolution" and view.facts["response_target_missed"] is False
    await clause.travel(utc(2, 10))
    view = await case.record(
        "resolved", resolved_at="2037-12-02T10:00:00Z", resolution="Trunk re-routed"
    )
    assert view.closed and view.state == "resolved"
    assert view.facts["resolution_target_missed"] is False

    logged, resolved = case.notices()
    assert logged.notice == "incident_logged"
    assert logged.to == PROVIDER and logged.cc == [*CUSTOMER, OWNER]
    assert "during business hours" in logged.body_text
    assert "within 2 business hours: by Tue 1 Dec 2037 12:00 New York time" in logged.body_text
    assert "by Wed 2 Dec 2037 10:00 New York time" in logged.body_text
    assert "Response due 2 business hours after the incident was reported." in logged.body_text
    assert "(reported during business hours)" not in logged.body_text
    assert resolved.notice == "incident_resolved" and resolved.to == [*CUSTOMER, *PROVIDER]
    assert resolved.body_text.count("within target") == 2
    assert {n: d.status for n, d in case.deadlines().items()} == {
        "response_due_business": "cancelled",
        "resolution_due": "cancelled",
    }
    assert not case.row().escalated
    assert case.path() == [
        ("opened", "awaiting_response"),
        ("awaiting_response", "awaiting_resolution"),
        ("awaiting_resolution", "resolved"),
    ]


async def test_late_afternoon_report_runs_into_the_next_business_day_and_misses_both_targets(
    clause: Clause,
) -> None:
    await clause.travel(utc(1, 21, 30))
    # Tue 1 Dec 16:30 New York: 30 minutes left today, then 90 minutes from 09:00 on
    # Wed 2 Dec, so the response is due 10:30 New York (15:30 UTC); resolution 24 hours
    # later than the report, 21:30 UTC on 2 Dec.
    case = await clause.open(reported("2037-12-01T21:30:00Z"))
    dls = case.deadlines()
    assert dls["response_due_business"].due_at == utc(2, 15, 30)
    assert dls["resolution_due"].due_at == utc(2, 21, 30)

    await clause.travel(utc(2, 22))
    await eventually(lambda: len(case.escalations()) == 2)
    assert case.escalation_rules() == ["response_target_missed", "resolution_target_missed"]
    overdue = case.by_kind()
    assert fired_at(overdue["response_overdue"].created_at, utc(2, 15, 30))
    assert fired_at(overdue["resolution_overdue"].created_at, utc(2, 21, 30))
    assert overdue["response_overdue"].to == PROVIDER and overdue["response_overdue"].cc == [OWNER]
    assert "passed at Wed 2 Dec 2037 10:30 New York time" in overdue["response_overdue"].body_text

    # A resolution with no response on record also answers the response target.
    view = await case.record(
        "resolved", resolved_at="2037-12-02T22:00:00Z", resolution="Vendor patch"
    )
    assert view.state == "resolved"
    assert view.facts["response_target_missed"] is True
    assert view.facts["resolution_target_missed"] is True
    assert case.sent("incident_resolved").body_text.count("target missed") == 2
    row = case.row()
    assert row.escalated and row.closed


async def test_night_report_extended_for_a_third_party_and_resolved_in_the_extension(
    clause: Clause,
) -> None:
    await clause.travel(utc(5, 3))
    # Sat 5 Dec 03:00 UTC is Fri 4 Dec 22:00 New York: outside business hours, so the
    # response is due 4 elapsed hours later (07:00 UTC) and resolution 24 hours later.
    case = await clause.start(reported("2037-12-05T03:00:00Z"))
    view = await case.ready()
    assert view.facts["reported_in_business_hours"] is False
    assert [(d.name, d.due_at) for d in view.deadlines] == [
        ("response_due_outside", utc(5, 7)),
        ("resolution_due", utc(6, 3)),
    ]
    await clause.travel(utc(5, 5))
    await case.record("responded", responded_at="2037-12-05T05:00:00Z", responded_by="On-call")
    await clause.travel(utc(5, 20))
    view = await case.record(
        "resolution_extended",
        third_party="Carrier Example Telecom",
        reason="The fault is in the carrier's interconnect",
        extended_until="2037-12-08T17:00:00Z",
    )
    assert view.state == "resolution_extended"
    dls = case.deadlines()
    assert dls["resolution_due"].status == "cancelled"
    # Zero hours from the recorded extended_until: exactly Tue 8 Dec 17:00 UTC.
    assert dls["extended_resolution_due"].due_at == utc(8, 17)
    assert set(dls) == {"response_due_outside", "resolution_due", "extended_resolution_due"}
    explained = "\n".join(dls["extended_resolution_due"].explanation)
    assert (
        "Event: the agreed extension runs out at Tue 8 Dec 2037 12:00 New York time"
        " (Tue 8 Dec 2037 17:00 UTC)."
    ) in explained
    for roundabout in ("one hour before", "1 hour after", "1 hour before"):
        assert roundabout not in explained.lower()
    extended = case.sent("resolution_extended")
    assert extended.to == CUSTOMER
    assert "resolved by Tue 8 Dec 2037 12:00 New York time" in extended.body_text
    assert "Carrier Example Telecom" in extended.body_text

    # The original 24 hours pass without an escalation.
    await clause.travel(utc(8, 12))
    assert case.escalations() == []
    view = await case.record(
        "resolved", resolved_at="2037-12-08T12:00:00Z", resolution="Carrier fixed it"
    )
    assert view.state == "resolved" and view.facts["resolution_target_missed"] is False
    body = case.sent("incident_resolved").body_text
    assert "extended for Carrier Example Telecom): within target" in body
    assert not case.row().escalated


async def test_a_missed_extension_escalates(clause: Clause) -> None:
    case = await clause.open(reported("2037-12-01T15:00:00Z"))
    await case.record("responded", responded_at="2037-12-01T15:00:00Z", responded_by="NOC")
    await case.record(
        "resolution_extended",
        third_party="Hardware vendor",
        reason="Replacement card shipped",
        extended_until="2037-12-03T15:00:00Z",
    )
    await clause.travel(utc(3, 16))
    [escalation] = await eventually(case.escalations)
    assert escalation.rule == "resolution_target_missed"
    overdue = case.sent("resolution_overdue")
    assert fired_at(overdue.created_at, utc(3, 15))
    assert "passed at Thu 3 Dec 2037 10:00 New York time" in overdue.body_text
    view = await case.record(
        "resolved", resolved_at="2037-12-03T16:00:00Z", resolution="Card swapped"
    )
    assert view.facts["resolution_target_missed"] is True


async def test_an_extension_needs_a_response_first(clause: Clause) -> None:
    case = await clause.open(reported("2037-12-01T15:00:00Z"))
    why = await case.refused(
        "resolution_extended",
        third_party="Vendor",
        reason="Waiting",
        extended_until="2037-12-03T15:00:00Z",
    )
    assert "can only be recorded in awaiting_resolution, resolution_extended" in why
