"""The material-breach case (MSA §10, §5) through its whole life, on the time-skipping server.

The notice of breach is received on Wed 2 Dec 2037 at 10:00 New York time (15:00 UTC).
Counting 30 calendar days from the day after (NY GCL § 20), day 1 is Thu 3 Dec and day 30
is Fri 1 Jan 2038, New Year's Day; Sat 2 and Sun 3 Jan follow, so under NY GCL § 25 the
cure period runs to Mon 4 Jan 2038 and ends at midnight: Tue 5 Jan 2038 00:00 EST
(05:00 UTC). The owner's reminder is 7 days before Mon 4 Jan: Mon 28 Dec 2037 09:00 EST
(14:00 UTC). The decision reminder is 14 days after Mon 4 Jan: Mon 18 Jan 2038 is Martin
Luther King Jr. Day, so it rolls to Tue 19 Jan 2038 09:00 EST (14:00 UTC).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER,
    PROVIDER,
    Case,
    Clause,
    clock_at,
    eventually,
    fired_at,
)
from workflows.case import CaseView

UTC = dt.UTC
CLAUSE = "material_breach"
FACTS = {
    "breach_notice_received_at": "2037-12-02T15:00:00Z",  # Wed 2 Dec 2037 10:00 New York
    "given_by": "customer",
    "breach_description": "Monthly uptime of 97.2% against the 99.9% target",
}
# Facts are recorded by the owner unless a test names someone.
RECORDED_BY, REASON = "owner", "test"

CURE_ENDS = dt.datetime(2038, 1, 5, 5, tzinfo=UTC)  # Tue 5 Jan 2038 00:00 EST
CURE_REMINDER = dt.datetime(2037, 12, 28, 14, tzinfo=UTC)  # Mon 28 Dec 2037 09:00 EST
ELECTION_REMINDER = dt.datetime(2038, 1, 19, 14, tzinfo=UTC)  # Tue 19 Jan 2038 09:00 EST

_just_after_the_notice = clock_at(dt.datetime(2037, 12, 2, 16, tzinfo=UTC))


async def lapsed(clause: Clause) -> tuple[Case, CaseView]:
    """A case whose cure period ran out, past the Customer's notice of the right."""
    return await clause.lapsed(
        CURE_ENDS + dt.timedelta(hours=1), "termination_right_arisen", "termination_right_arisen"
    )


async def test_cure_period_lapses_into_termination_right(clause: Clause) -> None:
    case, view = await lapsed(clause)
    await eventually(lambda: len(case.notices()) >= 3)

    # The case waits for a decision: it is not closed and is flagged for a person.
    assert not view.closed
    assert view.state_label.startswith("Not cured in time")
    [esc] = case.escalations()
    assert esc.rule == "cure_period_lapses_into_termination_right"
    assert "may terminate for cause" in esc.reason
    row = case.row()
    assert row.escalated and not row.closed
    assert row.next_deadline_name == "election_reminder"
    assert row.next_deadline_at == ELECTION_REMINDER

    sent = case.by_kind()
    assert len(case.notices()) == 3
    assert set(sent) == {"breach_notice_recorded", "cure_reminder", "termination_right_arisen"}
    assert sent["cure_reminder"].to == OWNER
    assert fired_at(sent["cure_reminder"].created_at, CURE_REMINDER)
    arisen = sent["termination_right_arisen"]
    assert fired_at(arisen.created_at, CURE_ENDS)
    # The non-breaching party (the Customer, who gave notice) is told; the owner copied.
    assert arisen.to == CUSTOMER and arisen.cc == OWNER
    assert "Mon 4 Jan 2038" in arisen.body_text and "Tue 19 Jan 2038" in arisen.body_text

    dls = case.deadlines()
    assert dls["cure_period"].last_day == dt.date(2038, 1, 4)
    assert dls["cure_period"].due_at == CURE_ENDS
    assert dls["cure_period"].status == "reached"
    assert dls["cure_reminder"].last_day == dt.date(2037, 12, 28)
    assert dls["election_reminder"].last_day == dt.date(2038, 1, 19)
    assert dls["election_reminder"].status == "pending"
    assert case.path() == [
        ("opened", "cure_period_running"),
        ("cure_period_running", "termination_right_arisen"),
    ]


async def test_undecided_right_reminds_owner_then_termination_closes_the_case(
    clause: Clause,
) -> None:
    case, _ = await lapsed(clause)
    await clause.travel(ELECTION_REMINDER + dt.timedelta(hours=1))
    reminder = await case.eventually_sent("election_reminder")
    assert reminder.to == OWNER
    assert fired_at(reminder.created_at, ELECTION_REMINDER)
    assert await case.state() == "termination_right_arisen"

    # Recorded on the day the notice was given: no fact is dated ahead of the case's clock.
    await clause.travel(dt.datetime(2038, 1, 20, 16, tzinfo=UTC))
    view = await case.record(
        "termination_exercised", notice_given_on="2038-01-20", signatory="Dana Whitfield"
    )
    await case.closes_as(view, "terminated_for_cause")

    final = case.sent("termination_for_cause_confirmed")
    assert final.to == CUSTOMER + PROVIDER and final.cc == OWNER
    # No effective date was given, so the termination takes effect on the notice date.
    assert "takes effect on 2038-01-20" in final.body_text
    assert "Dana Whitfield" in final.body_text
    for section in ("Section 4", "Section 6", "Section 7", "Section 9", "Section 11"):
        assert section in final.body_text
    row = case.row()
    assert row.closed and row.state == "terminated_for_cause"


async def test_breach_cured_within_cure_period_closes_as_cured(clause: Clause) -> None:
    case = await clause.start()
    view = await case.ready()
    assert view.state == "cure_period_running"
    assert [d.name for d in view.deadlines] == ["cure_reminder", "cure_period"]

    await clause.travel(dt.datetime(2037, 12, 20, 15, tzinfo=UTC))
    view = await case.record(
        "breach_cured",
        {"evidence": "Root-cause fix deployed; 30 days at 99.95%", "cured_on": "2037-12-19"},
        by="sam@provider.example.com",
    )
    await case.closes_as(view, "cured")

    sent = case.by_kind()
    assert set(sent) == {"breach_notice_recorded", "breach_cured"}
    cured = sent["breach_cured"]
    # The party that gave notice is told; the party in breach and the owner are copied.
    assert cured.to == CUSTOMER and cured.cc == PROVIDER + OWNER
    assert "Root-cause fix deployed" in cured.body_text and "2037-12-19" in cured.body_html
    assert case.deadline_statuses() == {"cancelled"}
    assert case.escalations() == []


async def test_opening_notice_goes_to_the_party_in_breach_with_the_cure_deadline(
    clause: Clause,
) -> None:
    case = await clause.open()
    [opening] = await eventually(case.notices)
    assert opening.notice == "breach_notice_recorded"
    assert opening.to == PROVIDER and opening.cc == CUSTOMER + OWNER
    assert "cure period ends Mon 4 Jan 2038" in opening.subject
    assert "Tue 5 Jan 2038 00:00 New York time" in opening.body_text
    assert "New Year's Day" in opening.body_text  # the roll is explained
    assert "Section 5" not in opening.body_text  # opened by a notice, not an SLA failure
    assert "Monthly uptime of 97.2%" in opening.body_html


async def test_cure_is_refused_once_the_cure_period_has_lapsed(clause: Clause) -> None:
    case, _ = await lapsed(clause)
    why = await case.refused("breach_cured", evidence="late fix", cured_on="2038-01-05")
    assert "can only be recorded in cure_period_running" in why
    assert await case.state() == "termination_right_arisen"


async def test_cure_needs_evidence_and_termination_waits_for_the_lapse(clause: Clause) -> None:
    case = await clause.open()
    assert "values.evidence is required" in await case.refused(
        "breach_cured", cured_on="2037-12-02"
    )
    why = await case.refused("termination_exercised", notice_given_on="2037-12-02", signatory="X")
    assert "can only be recorded in termination_right_arisen" in why
    view = await case.view()
    assert view.state == "cure_period_running" and not view.closed


async def test_signed_waiver_ends_the_case_as_right_waived(clause: Clause) -> None:
    case, _ = await lapsed(clause)
    await clause.travel(dt.datetime(2038, 1, 6, 16, tzinfo=UTC))  # the day it was signed
    view = await case.record(
        "right_waived",
        signatory="Dana Whitfield",
        waived_on="2038-01-06",
        note="late cure accepted",
    )
    await case.closes_as(view, "right_waived")
    waiver = case.sent("right_waived")
    assert waiver.to == CUSTOMER + PROVIDER
    assert "late cure accepted" in waiver.body_text and "this breach only" in waiver.body_text
    assert case.deadline_statuses() == {"reached", "cancelled"}
    assert case.deadlines()["election_reminder"].status == "cancelled"


async def test_sla_failure_case_cites_section_5(clause: Clause) -> None:
    case = await clause.start({"opened_by": "sla_failure"})
    view = await case.ready()
    assert view.facts["breach_basis"] == "sla_failure"
    [opening] = await eventually(case.notices)
    assert "Section 5" in opening.body_text
    assert case.escalations() == []


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        (
            {"opened_by": "sla_failure", "given_by": "provider"},
            "flag_sla_breach_notified_by_provider",
        ),
        ({"opened_by": "complaint"}, "flag_unrecognised_opening"),
    ],
)
async def test_doubtful_opening_is_escalated_but_the_cure_period_still_runs(
    clause: Clause, extra: dict[str, str], rule: str
) -> None:
    case = await clause.start(extra)
    view = await case.ready()
    assert view.state == "cure_period_running"
    assert {d.name for d in view.deadlines} == {"cure_reminder", "cure_period"}
    assert case.escalation_rules() == [rule]
    assert case.row().escalated
