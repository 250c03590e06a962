"""The indemnity-claim case (MSA §4) through its whole life, on the time-skipping server.

The claim is received on Fri 18 Dec 2037 at 16:00 EST (21:00 UTC). Business days after
it (the receipt day excluded, NY GCL § 20): Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24
(4); Fri 25 Dec is Christmas Day and 26-27 Dec a weekend, so Mon 28 Dec is business day
5: the owner's reminder is Mon 28 Dec 2037 09:00 EST (14:00 UTC). Then Tue 29 (6), Wed 30
(7), Thu 31 (8); Fri 1 Jan 2038 is New Year's Day and 2-3 Jan a weekend, so Mon 4 Jan is
9 and Tue 5 Jan 2038 is business day 10: the escalation is at 09:00 EST (14:00 UTC).
"""

from __future__ import annotations

import datetime as dt

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER,
    PROVIDER,
    Clause,
    clock_at,
    eventually,
    fired_at,
)

UTC = dt.UTC
CLAUSE = "indemnity_claim"
FACTS = {
    "claim_received_at": "2037-12-18T21:00:00Z",  # Fri 18 Dec 2037 16:00 EST
    "claimant": "Patentholder Corp.",
    "description": "Alleged infringement of a call-routing patent by the platform",
    "given_by": "customer",
    "claim_reference": "1:37-cv-04211",
}
# Facts in this case are recorded by the Customer's counsel.
RECORDED_BY, REASON = "counsel@customer.example.com", "test"

REMINDER = dt.datetime(2037, 12, 28, 14, tzinfo=UTC)  # Mon 28 Dec 2037 09:00 EST
ESCALATION = dt.datetime(2038, 1, 5, 14, tzinfo=UTC)  # Tue 5 Jan 2038 09:00 EST
COUNSEL = {"counsel": "Hale & Dorr LLP", "assumed_on": "2037-12-18"}
TERMS = "Licence fee; Customer stops using the feature"
RELEASED = "Provider pays; claimant releases Customer"

_just_after_the_claim = clock_at(dt.datetime(2037, 12, 18, 22, tzinfo=UTC))


async def test_claim_is_notified_promptly_to_the_indemnifying_party(clause: Clause) -> None:
    case = await clause.open()
    view = await case.view()
    assert view.state == "awaiting_defence"
    assert [d.name for d in view.deadlines] == ["defence_reminder", "defence_escalation"]
    [notice] = await eventually(case.notices)
    assert notice.notice == "claim_notice"
    # The Customer seeks the indemnity, so the Provider is notified and the Customer copied.
    assert notice.to == PROVIDER and notice.cc == CUSTOMER + OWNER
    assert "Patentholder Corp." in notice.subject
    assert "Fri 18 Dec 2037 16:00 New York time" in notice.body_text
    assert "1:37-cv-04211" in notice.body_text
    assert "reasonably acceptable" in notice.body_html
    dls = case.deadlines()
    assert dls["defence_reminder"].due_at == REMINDER
    assert dls["defence_escalation"].due_at == ESCALATION
    assert case.escalations() == []


async def test_owner_reminded_then_case_escalated_while_no_one_defends(clause: Clause) -> None:
    case = await clause.open()
    await clause.travel(ESCALATION + dt.timedelta(hours=1))
    [esc] = await eventually(case.escalations)
    assert esc.rule == "escalate_defence_still_open"
    assert fired_at(esc.at, ESCALATION)

    reminder = case.sent("defence_reminder")
    assert reminder.to == OWNER and fired_at(reminder.created_at, REMINDER)
    assert "Mon 28 Dec 2037" in reminder.body_text and "Tue 5 Jan 2038" in reminder.body_text
    row = case.row()
    assert row.escalated and row.state == "awaiting_defence"
    assert not row.closed and row.next_deadline_at is None


async def test_defence_assumed_cancels_the_reminders_and_names_counsel(clause: Clause) -> None:
    case = await clause.open()
    assert "values.counsel is required" in await case.refused(
        "defence_assumed", assumed_on="2037-12-21"
    )

    await clause.travel(dt.datetime(2037, 12, 22, 15, tzinfo=UTC))
    view = await case.record("defence_assumed", COUNSEL, assumed_on="2037-12-22")
    assert view.state == "defence_assumed" and not view.closed
    assert case.deadline_statuses() == {"cancelled"}
    assumed = await case.eventually_sent("defence_assumed")
    assert assumed.to == CUSTOMER and assumed.cc == PROVIDER + OWNER
    assert "Hale &amp; Dorr LLP" in assumed.body_html
    assert "Hale & Dorr LLP" in assumed.body_text

    # Past both reminder dates nothing more is sent or escalated.
    await clause.travel(ESCALATION + dt.timedelta(days=1))
    assert set(case.kinds()) == {"claim_notice", "defence_assumed"}
    assert case.escalations() == []


async def test_settlement_without_consent_or_full_release_is_refused(clause: Clause) -> None:
    case = await clause.open()
    await case.record("defence_assumed", COUNSEL)
    message = await case.refused(
        "settlement_agreed",
        settlement_terms=TERMS,
        agreed_on="2037-12-18",
        customer_consented=False,
        full_release_without_obligations=False,
    )
    assert "written consent" in message and "full" in message and "§4" in message
    view = await case.view()
    assert view.state == "defence_assumed" and not view.closed


async def test_settlement_needing_consent_is_escalated_then_settled_with_written_consent(
    clause: Clause,
) -> None:
    case = await clause.open()
    await case.record("defence_assumed", COUNSEL)
    await case.record(
        "settlement_proposed",
        settlement_terms=TERMS,
        proposed_on="2037-12-18",
        full_release_without_obligations=False,
    )
    assert case.escalation_rules() == ["settlement_proposal_needs_consent"]
    proposal = await case.eventually_sent("settlement_proposed")
    assert proposal.to == CUSTOMER and proposal.cc == OWNER
    assert "prior written consent" in proposal.body_text

    view = await case.record(
        "settlement_agreed",
        settlement_terms=TERMS,
        agreed_on="2037-12-18",
        customer_consented=True,
        consent_reference="GC letter of 18 Dec 2037",
    )
    await case.closes_as(view, "settled")
    settled = case.sent("settlement_recorded")
    assert settled.to == CUSTOMER + PROVIDER and settled.cc == OWNER
    assert "consented to the settlement in writing" in settled.body_text
    assert "GC letter of 18 Dec 2037" in settled.body_text


async def test_settlement_with_a_full_release_needs_no_consent(clause: Clause) -> None:
    case = await clause.open()
    release = {"settlement_terms": RELEASED, "full_release_without_obligations": True}
    await case.record("settlement_proposed", release, proposed_on="2037-12-18")
    assert case.escalations() == []
    view = await case.record("settlement_agreed", release, agreed_on="2037-12-18")
    await case.closes_as(view, "settled")
    assert "fully releasing" in case.sent("settlement_recorded").body_text
    assert case.deadline_statuses() == {"cancelled"}


async def test_declined_defence_is_escalated_and_final_resolution_closes_the_claim(
    clause: Clause,
) -> None:
    case = await clause.open()
    view = await case.record(
        "defence_declined", declined_on="2037-12-18", reason="disputes coverage"
    )
    assert view.state == "defence_declined"
    assert case.escalation_rules() == ["defence_refused"]
    declined = await case.eventually_sent("defence_declined")
    assert declined.to == CUSTOMER and "disputes coverage" in declined.body_text

    view = await case.record(
        "claim_resolved", outcome="dismissed with prejudice", resolved_on="2037-12-18"
    )
    await case.closes_as(view, "resolved")
    resolved = case.sent("claim_resolved")
    assert resolved.to == CUSTOMER + PROVIDER and "dismissed with prejudice" in resolved.body_text
    assert [to for _, to in case.path()] == ["awaiting_defence", "defence_declined", "resolved"]


async def test_claim_for_an_indemnity_of_the_provider_is_escalated(clause: Clause) -> None:
    case = await clause.open({"given_by": "provider"})
    assert case.escalation_rules() == ["flag_claim_for_the_provider"]
    [notice] = await eventually(case.notices)
    # The Provider seeks the indemnity here, so the Customer is the one notified.
    assert notice.to == CUSTOMER and notice.cc == PROVIDER + OWNER
    assert await case.state() == "awaiting_defence"
