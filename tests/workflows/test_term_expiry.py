"""A term-expiry case through the whole three-year term, on the time-skipping server.

Effective Sun 1 Mar 2037; the reference term is 3 years, so the last contract year
starts 1 Mar 2039 and 12 months later the term expires at the start of Thu 1 Mar 2040
(00:00 New York, EST = UTC-5, so 05:00 UTC): its last day is Wed 29 Feb 2040.
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER_EMAIL,
    PROVIDER,
    Clause,
    at_ny,
    clock_at,
    fired_at,
)

UTC = dt.UTC
CLAUSE = "term_expiry"
FACTS = {"effective_date": "2037-03-01"}
RECORDED_BY = "owner@customer.example.com"
PARTIES = CUSTOMER + PROVIDER
OWNER = OWNER_EMAIL  # a bare address: these tests build their own lists around it
EXPIRY = dt.datetime(2040, 3, 1, 5, tzinfo=UTC)

_clock = clock_at(dt.datetime(2037, 3, 2, 15, tzinfo=UTC))


async def test_term_expires_after_three_years_and_lists_surviving_sections(clause: Clause) -> None:
    case = await clause.start()
    view = await case.ready()
    assert view.state == "term_running"
    assert view.facts["final_year_starts_on"] == "2039-03-01"
    # Reminders at 09:00 New York, 180/90/30 days before 1 Mar 2040:
    #   180 days before is Sat 3 Sep 2039, moved back to Fri 2 Sep (EDT, 13:00 UTC);
    #   90 days before is Fri 2 Dec 2039 (EST, 14:00 UTC);
    #   30 days before is Tue 31 Jan 2040 (14:00 UTC).
    assert [(d.name, d.due_at) for d in view.deadlines] == [
        ("expiry_reminder_180", dt.datetime(2039, 9, 2, 13, tzinfo=UTC)),
        ("expiry_reminder_90", dt.datetime(2039, 12, 2, 14, tzinfo=UTC)),
        ("expiry_reminder_30", dt.datetime(2040, 1, 31, 14, tzinfo=UTC)),
        ("term_expiry", EXPIRY),
    ]
    assert case.row().next_deadline_name == "expiry_reminder_180"

    assert await case.ended() == "expired"
    sent = case.by_key()
    assert set(sent) == {
        "term_tracked:started",
        "expiry_reminder:deadline:expiry_reminder_180:2039-09-02",
        "expiry_reminder:deadline:expiry_reminder_90:2039-12-02",
        "expiry_reminder:deadline:expiry_reminder_30:2040-01-31",
        "term_expired:deadline:term_expiry:2040-03-01",
    }
    tracked = sent["term_tracked:started"]
    assert tracked.to == [OWNER]
    assert "runs through Wed 29 Feb 2040" in tracked.subject
    assert "Counting 12 calendar months from Tue 1 Mar 2039 gives Thu 1 Mar 2040." in (
        tracked.body_text
    )
    reminder = sent["expiry_reminder:deadline:expiry_reminder_180:2039-09-02"]
    assert reminder.to == [OWNER]
    assert fired_at(reminder.created_at, at_ny(2039, 9, 2, 9))
    expired = sent["term_expired:deadline:term_expiry:2040-03-01"]
    assert fired_at(expired.created_at, EXPIRY)
    assert expired.to == PARTIES and expired.cc == [OWNER]
    assert "ended with Wed 29 Feb 2040" in expired.body_text
    assert "Section 4, Section 6, Section 7, Section 9, Section 11." in expired.body_text
    for section in ("4", "6", "7", "9", "11"):
        assert f"<li>Section {section}</li>" in expired.body_html

    assert case.deadline_statuses() == {"reached"}
    reminder_steps = "\n".join(case.deadlines()["expiry_reminder_180"].explanation)
    assert "Event: the term expires at Thu 1 Mar 2040 00:00 New York time" in reminder_steps
    assert (
        "Rule (MSA §10): Expiry reminder to the contract owner 180 calendar days before the"
        " term expires."
    ) in reminder_steps
    assert "before the term expires 180 calendar days" not in reminder_steps
    assert "before term expires" not in reminder_steps
    assert case.path() == [("opened", "term_running"), ("term_running", "expired")]


async def test_expiry_on_a_holiday_does_not_move_and_a_renewal_closes_the_case(
    clause: Clause,
) -> None:
    # Effective Thu 1 Jan 2037: the term expires at the start of Sun 1 Jan 2040 (New
    # Year's Day); a lapse of time is not rolled to the next business day.
    case = await clause.open({"effective_date": "2037-01-01"})
    expiry = case.deadlines()["term_expiry"]
    assert expiry.due_at == dt.datetime(2040, 1, 1, 5, tzinfo=UTC)
    assert any("not extended to the next business day" in line for line in expiry.explanation)

    renewal = {"agreed_on": "2037-03-02", "new_term": "Two more years"}
    assert "customer_signatory is required" in await case.refused("renewed", renewal)

    view = await case.record(
        "renewed",
        agreed_on="2037-03-02",
        new_term="Extended by two years, to the end of 31 Dec 2041",
        customer_signatory="Dana Whitfield",
        provider_signatory="Sam Okafor",
    )
    await case.closes_as(view, "renewed")
    assert case.deadline_statuses() == {"cancelled"}
    sent = case.by_kind()
    assert set(sent) == {"term_tracked", "renewal_confirmed"}
    body = sent["renewal_confirmed"].body_text
    assert "Dana Whitfield" in body and "Sam Okafor" in body
    assert "does not expire at the end of Sat 31 Dec 2039" in body
