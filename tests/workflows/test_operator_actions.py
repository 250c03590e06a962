"""Operator actions on a running case: each an update with a validator, each audited.

2037 has the same calendar as 2026, so the dates mirror the README's example while
staying in the future. The time-skipping server moves time only when a test asks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from activities.failures import is_retried, retried_activity_id
from store.db import get_engine
from store.models import DeadlineAmendment
from tests.support.fixtures import sendgrid_mock_fixture  # noqa: F401  (the sendgrid_mock fixture)
from tests.support.sendgrid_mock import SendGridMock
from tests.workflows.helpers import (
    OWNER_EMAIL,
    at_ny,
    audit,
    case_row,
    deadlines,
    escalations,
    eventually,
    fired_at,
    notices,
    open_case,
    seed_reference_contract,
    start_case,
    transitions,
    travel_to,
)
from workflows.case import (
    AmendDeadlineRequest,
    ApproveNoticeRequest,
    CaseView,
    CaseWorkflow,
    CloseCaseRequest,
    DecideAmendmentRequest,
    ReassignOwnerRequest,
    RecordFactRequest,
    ResolveEscalationRequest,
    RetryNowRequest,
    ReviseHeldNoticeRequest,
)

UTC = dt.UTC
TERMINATION = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}
BREACH = {
    "breach_notice_received_at": "2037-12-02T15:00:00Z",
    "given_by": "customer",
    "breach_description": "Monthly uptime of 97.2% against the 99.9% target",
    "opened_by": "complaint",  # an opening the rules doubt: escalated at once
}
OWNER = OWNER_EMAIL  # a bare address: the owner_email the case reports
ALICE = "alice@customer.example.com"
BOB = "bob@customer.example.com"
Handle = WorkflowHandle[Any, Any]


@pytest.fixture(autouse=True)
async def _late_november_2037(time_env: WorkflowEnvironment) -> None:
    await travel_to(time_env, dt.datetime(2037, 11, 27, 12, tzinfo=UTC))


def amendment_rows(case_id: str) -> dict[str, DeadlineAmendment]:
    with Session(get_engine()) as s:
        rows = s.exec(select(DeadlineAmendment).where(DeadlineAmendment.case_id == case_id))
        return {r.amendment_id: r for r in rows}


async def settled(handle: Handle, timeout: float = 20.0) -> CaseView:
    """Waits until no activity of the case is in flight (the notice row is written by the
    activity a moment before the workflow hears that it finished)."""
    import asyncio

    end = asyncio.get_running_loop().time() + timeout
    while (view := await handle.query(CaseWorkflow.case)).inflight_activities:
        assert asyncio.get_running_loop().time() < end, view.inflight_activities
        await asyncio.sleep(0.05)
    return view


async def refused(call: Any, message: str) -> None:
    """The update is refused by its validator (or the workflow) with ``message`` in it."""
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await call
    assert message in str(info.value.cause), str(info.value.cause)


# -- amend a deadline -----------------------------------------------------------------------


async def test_an_approved_amendment_moves_the_timer_and_explains_itself(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    old_due = at_ny(2038, 3, 1)
    new_due = at_ny(2038, 3, 15)
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("effective_date", new_due, "Parties agreed two more weeks", ALICE),
    )
    assert view.amendment_id is not None
    [pending] = view.pending_amendments
    assert (pending.id, pending.deadline, pending.from_due_at, pending.to_due_at) == (
        view.amendment_id,
        "effective_date",
        old_due,
        new_due,
    )
    assert pending.proposed_by == ALICE and pending.reason == "Parties agreed two more weeks"
    # Proposed, not applied: the deadline has not moved yet.
    assert next(d for d in view.deadlines if d.name == "effective_date").due_at == old_due
    row = amendment_rows(handle.id)[view.amendment_id]
    assert row.status == "pending" and row.proposed_by == ALICE and row.to_due_at == new_due

    # The proposer may not approve it.
    await refused(
        handle.execute_update(
            CaseWorkflow.decide_amendment,
            DecideAmendmentRequest(view.amendment_id, True, ALICE, "looks right"),
        ),
        "a second person must approve it",
    )
    before = await time_env.get_current_time()
    view = await handle.execute_update(
        CaseWorkflow.decide_amendment,
        DecideAmendmentRequest(view.amendment_id, True, BOB, "checked the side letter"),
    )
    after = await time_env.get_current_time()
    assert view.pending_amendments == []
    effective = next(d for d in view.deadlines if d.name == "effective_date")
    assert effective.due_at == new_due and effective.last_day == dt.date(2038, 3, 15)
    row = amendment_rows(handle.id)[pending.id]
    # The server's clock may tick on between the approval and the test's next look at it.
    assert row.decided_at is not None and before <= row.decided_at <= after
    assert effective.explanation[-1] == (
        f"Amended on {_described(row.decided_at)} by {ALICE}, approved by "
        f"{BOB}: moved from Mon 1 Mar 2038 00:00 New York time to Mon 15 Mar 2038 00:00 New York "
        "time. Reason: Parties agreed two more weeks"
    )
    assert (row.status, row.decided_by, row.decision_reason) == (
        "applied",
        BOB,
        "checked the side letter",
    )
    stored = deadlines(handle.id)["effective_date"]
    assert stored.due_at == new_due and stored.last_day == dt.date(2038, 3, 15)
    assert stored.original_due_at == old_due and stored.revision == 1
    assert stored.explanation == effective.explanation
    [proposed] = audit(handle.id, "amend_deadline")
    assert proposed.actor == ALICE and proposed.reason == "Parties agreed two more weeks"
    assert proposed.before == {"deadline": "effective_date", "due_at": old_due.isoformat()}
    assert proposed.after["status"] == "pending"
    assert proposed.after["proposed_due_at"] == new_due.isoformat()
    [approved] = audit(handle.id, "approve_amendment")
    assert approved.actor == BOB and approved.reason == "checked the side letter"
    assert approved.before["due_at"] == old_due.isoformat()
    assert approved.after["due_at"] == new_due.isoformat()
    assert approved.after["status"] == "applied"
    last = case_row(handle.id)
    assert last is not None
    assert approved.idempotency_key == f"{handle.id}:{last.last_step}:approve_amendment"

    # Past the old effective date: nothing happens; at the new one the case terminates.
    await travel_to(time_env, old_due + dt.timedelta(days=2))
    view = await handle.query(CaseWorkflow.case)
    assert view.state == "notice_period_running"
    assert not any(n.notice == "termination_effective" for n in notices(handle.id))
    result = await handle.result()
    assert result.state == "terminated"
    assert fired_at(result.closed_at, new_due)
    [moved] = [t for t in transitions(handle.id) if t.to_state == "terminated"]
    assert fired_at(moved.at, new_due)
    [final] = [n for n in notices(handle.id) if n.notice == "termination_effective"]
    assert final.notice_key == "termination_effective:deadline:effective_date:2038-03-15"
    assert "15 Mar 2038" in final.subject


def _described(now: dt.datetime) -> str:
    from contracts.calendar import describe_instant

    return describe_instant(now, "America/New_York")


async def test_without_a_second_approver_the_amendment_applies_at_once(
    worker: Client, task_queue: str
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    new_due = at_ny(2038, 2, 26)
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("effective_date", new_due, "Court order", ALICE, False),
    )
    assert view.pending_amendments == []
    effective = next(d for d in view.deadlines if d.name == "effective_date")
    assert effective.due_at == new_due and effective.last_day == dt.date(2038, 2, 26)
    assert "(no second approver required)" in effective.explanation[-1]
    assert amendment_rows(handle.id)[view.amendment_id or ""].status == "applied"
    assert deadlines(handle.id)["effective_date"].due_at == new_due
    assert case_row(handle.id).next_deadline_at is not None  # type: ignore[union-attr]


async def test_an_amended_deadline_moves_the_reminders_counted_from_it(
    worker: Client, task_queue: str
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    before = {d.name: d for d in (await handle.query(CaseWorkflow.case)).deadlines}
    assert before["reminder_7"].due_at == at_ny(2038, 2, 22, 9)
    # The 60-day reminder was moved by hand first: it keeps its own time.
    own = at_ny(2037, 12, 28, 10)
    await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("reminder_60", own, "owner away until the 28th", ALICE, False),
    )
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest(
            "effective_date", at_ny(2038, 3, 15), "Parties agreed two more weeks", ALICE, False
        ),
    )
    after = {d.name: d for d in view.deadlines}
    # Seven days before Mon 15 Mar 2038, at 09:00: Mon 8 Mar.
    assert after["reminder_7"].due_at == at_ny(2038, 3, 8, 9)
    assert after["reminder_30"].due_at > before["reminder_30"].due_at
    assert after["reminder_60"].due_at == own
    line = after["reminder_7"].explanation[-1]
    assert line.startswith(
        "Moved from Mon 22 Feb 2038 09:00 New York time because the deadline it counts from"
        " (termination takes effect) was amended on "
    )
    stored = deadlines(handle.id)
    assert stored["reminder_7"].due_at == at_ny(2038, 3, 8, 9)
    assert stored["reminder_7"].revision == 1 and stored["reminder_60"].due_at == own


async def test_a_rejected_amendment_leaves_the_deadline_and_anyone_may_reject(
    worker: Client, task_queue: str
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("effective_date", at_ny(2038, 4, 1), "typo", ALICE),
    )
    amendment = view.amendment_id or ""
    view = await handle.execute_update(
        CaseWorkflow.decide_amendment,
        DecideAmendmentRequest(amendment, False, ALICE, "I proposed the wrong date"),
    )
    assert view.pending_amendments == []
    assert next(d for d in view.deadlines if d.name == "effective_date").due_at == at_ny(2038, 3, 1)
    row = amendment_rows(handle.id)[amendment]
    assert (row.status, row.decided_by) == ("rejected", ALICE)
    stored = deadlines(handle.id)["effective_date"]
    assert stored.original_due_at is None and stored.revision == 0
    [rejected] = audit(handle.id, "reject_amendment")
    assert rejected.before["status"] == "pending" and rejected.after["status"] == "rejected"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            AmendDeadlineRequest("nope", dt.datetime(2038, 3, 2, tzinfo=UTC), "r", ALICE),
            "the case has no deadline 'nope'",
        ),
        (
            AmendDeadlineRequest("effective_date", dt.datetime(2038, 3, 2), "r", ALICE),
            "due_at must include a time zone offset",
        ),
        (
            AmendDeadlineRequest(
                "effective_date", dt.datetime(2037, 11, 1, tzinfo=UTC), "r", ALICE
            ),
            "is not in the future",
        ),
        (
            AmendDeadlineRequest("effective_date", at_ny(2038, 3, 1), "r", ALICE),
            "is already at Mon 1 Mar 2038 00:00 New York time",
        ),
        (
            AmendDeadlineRequest("effective_date", at_ny(2038, 3, 2), " ", ALICE),
            "a reason is required",
        ),
        (
            AmendDeadlineRequest("effective_date", at_ny(2038, 3, 2), "r", ""),
            "actor must name who acts",
        ),
    ],
)
async def test_the_amendment_validator_refuses(
    worker: Client, task_queue: str, request_: AmendDeadlineRequest, message: str
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    await refused(handle.execute_update(CaseWorkflow.amend_deadline, request_), message)
    assert amendment_rows(handle.id) == {}
    assert audit(handle.id, "amend_deadline") == []


async def test_decisions_on_unknown_or_decided_amendments_and_reached_deadlines_are_refused(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    await refused(
        handle.execute_update(
            CaseWorkflow.decide_amendment, DecideAmendmentRequest("amd-99", True, BOB, "ok")
        ),
        "no amendment 'amd-99' is waiting for a decision",
    )
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("reminder_60", at_ny(2038, 1, 4, 9), "owner away", ALICE),
    )
    await refused(
        handle.execute_update(
            CaseWorkflow.amend_deadline,
            AmendDeadlineRequest("reminder_60", at_ny(2038, 1, 5, 9), "again", BOB),
        ),
        f"amendment {view.amendment_id} of the",
    )
    # The reminder is reached before anyone approves: the amendment can only be rejected.
    await travel_to(time_env, at_ny(2037, 12, 31, 10))
    await eventually(lambda: deadlines(handle.id)["reminder_60"].status == "reached")
    await refused(
        handle.execute_update(
            CaseWorkflow.decide_amendment,
            DecideAmendmentRequest(view.amendment_id or "", True, BOB, "ok"),
        ),
        "the amendment can only be rejected",
    )
    await refused(
        handle.execute_update(
            CaseWorkflow.amend_deadline,
            AmendDeadlineRequest("reminder_60", at_ny(2038, 1, 5, 9), "late", BOB),
        ),
        "only a pending deadline can be amended",
    )


# -- resolve an escalation ----------------------------------------------------------------


async def test_resolving_the_open_escalation_clears_the_badge_and_is_audited(
    worker: Client, task_queue: str
) -> None:
    handle = await open_case(worker, task_queue, "material_breach", BREACH)
    view = await handle.query(CaseWorkflow.case)
    [open_] = view.open_escalations
    [row] = escalations(handle.id)
    assert (open_.step, open_.rule, open_.reason) == (row.step, row.rule, row.reason)
    case = case_row(handle.id)
    assert case is not None and case.escalated and case.escalation_reason == row.reason

    await refused(
        handle.execute_update(
            CaseWorkflow.resolve_escalation,
            ResolveEscalationRequest(row.step, "other_rule", "done", ALICE),
        ),
        "no open escalation by rule 'other_rule'",
    )
    await refused(
        handle.execute_update(
            CaseWorkflow.resolve_escalation, ResolveEscalationRequest(row.step, row.rule, "", ALICE)
        ),
        "a note is required",
    )
    view = await handle.execute_update(
        CaseWorkflow.resolve_escalation,
        ResolveEscalationRequest(row.step, row.rule, "Confirmed with the Customer", ALICE),
    )
    assert view.open_escalations == []
    assert view.escalations == [row.reason]  # the history of reasons stays
    [resolved] = escalations(handle.id)
    assert resolved.resolved_by == ALICE and resolved.resolved_at is not None
    assert resolved.resolution_note == "Confirmed with the Customer"
    case = case_row(handle.id)
    assert case is not None and not case.escalated and case.escalation_reason is None
    [entry] = audit(handle.id, "resolve_escalation")
    assert entry.actor == ALICE and entry.reason == "Confirmed with the Customer"
    assert entry.before["resolved"] is False and entry.after["resolved"] is True
    assert entry.before["escalation"]["rule"] == row.rule
    await refused(
        handle.execute_update(
            CaseWorkflow.resolve_escalation,
            ResolveEscalationRequest(row.step, row.rule, "again", BOB),
        ),
        "it may be resolved already",
    )


# -- close a case ------------------------------------------------------------------------


async def test_cancelling_a_case_stops_its_deadlines_and_ends_the_run(
    worker: Client, task_queue: str
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    await refused(
        handle.execute_update(CaseWorkflow.close_case, CloseCaseRequest("paused", ALICE, "r")),
        "outcome must be withdrawn or cancelled",
    )
    view = await handle.execute_update(
        CaseWorkflow.close_case,
        CloseCaseRequest("cancelled", ALICE, "Opened against the wrong MSA"),
    )
    assert view.closed and view.state == "cancelled"
    assert view.state_label == "Cancelled by an operator"
    assert {d.status for d in view.deadlines} == {"cancelled"}
    result = await handle.result()
    assert result.state == "cancelled"
    case = case_row(handle.id)
    assert case is not None and case.closed and case.state == "cancelled"
    assert case.state_label == "Cancelled by an operator" and case.next_deadline_at is None
    assert case.dwell_overdue_at is None
    assert {d.status for d in deadlines(handle.id).values()} == {"cancelled"}
    assert transitions(handle.id)[-1].rule == "operator:close_case"
    [entry] = audit(handle.id, "close_case")
    assert entry.actor == ALICE and entry.reason == "Opened against the wrong MSA"
    assert entry.before["state"] == "notice_period_running" and entry.before["closed"] is False
    assert entry.after["state"] == "cancelled" and entry.after["closed"] is True
    assert "effective_date" in entry.after["cancelled_deadlines"]


async def breach_held_at_final_report(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> tuple[Handle, CaseView]:
    """A security breach whose final report (root cause "ACL") is held for approval."""
    await travel_to(time_env, dt.datetime(2037, 12, 1, 15, tzinfo=UTC))
    facts = {"discovered_at": "2037-12-01T14:00:00Z", "description": "Exposed bucket"}
    handle = await open_case(worker, task_queue, "security_breach", facts)
    ciso = "ciso@provider.example.com"
    for fact, values in [
        ("customer_notified", {"how": "Call", "notified_at": "2037-12-01T14:30:00Z"}),
        ("final_report", {"root_cause": "ACL", "remediation": "CI policy"}),
    ]:
        view = await handle.execute_update(
            CaseWorkflow.record_fact, RecordFactRequest(fact, values, ciso)
        )
    return handle, view


async def test_closing_a_case_that_waits_for_a_held_notice_discards_it(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle, view = await breach_held_at_final_report(worker, task_queue, time_env)
    assert view.closed and view.held_notices
    # Closed by its rules: only closing (to discard the held notice) is still possible.
    await refused(
        handle.execute_update(
            CaseWorkflow.reassign_owner, ReassignOwnerRequest(BOB, ALICE, "handover")
        ),
        "the case is closed (final_report_given)",
    )
    view = await handle.execute_update(
        CaseWorkflow.close_case, CloseCaseRequest("withdrawn", ALICE, "Report sent by hand")
    )
    assert view.held_notices == [] and view.state == "final_report_given"
    assert (await handle.result()).state == "final_report_given"
    [held] = [n for n in notices(handle.id) if n.notice == "final_report"]
    assert held.status == "discarded" and held.sent_at is None
    [entry] = audit(handle.id, "close_case")
    assert entry.after["discarded_notices"] == [held.notice_key]


async def test_a_held_notice_is_corrected_before_it_is_approved_and_goes_out_corrected(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle, view = await breach_held_at_final_report(worker, task_queue, time_env)
    [key] = view.held_notices
    [held] = [n for n in notices(handle.id) if n.notice == "final_report"]
    assert held.status == "awaiting_approval" and "ACL" in held.body_text
    cause = "A storage bucket's access list allowed public reads"
    revise = CaseWorkflow.revise_held_notice
    for request, message in [
        (
            ReviseHeldNoticeRequest(key, {"discovered_at": "2037-12-01T13:00:00Z"}, ALICE, "x"),
            "values.discovered_at cannot be corrected here",
        ),
        (
            # Text, but of another fact: the report was written on the final report's.
            ReviseHeldNoticeRequest(key, {"how": "Letter"}, ALICE, "x"),
            "values.how cannot be corrected here (correctable: remediation, root_cause)",
        ),
        (ReviseHeldNoticeRequest(key, {"root_cause": " "}, ALICE, "x"), "non-empty text"),
        (ReviseHeldNoticeRequest(key, {"root_cause": cause}, ALICE, " "), "a reason is required"),
        (
            ReviseHeldNoticeRequest("final_report:nope", {"root_cause": cause}, ALICE, "x"),
            "no notice 'final_report:nope' is waiting for approval",
        ),
    ]:
        await refused(handle.execute_update(revise, request), message)

    view = await handle.execute_update(
        revise, ReviseHeldNoticeRequest(key, {"root_cause": cause}, ALICE, "Counsel: name it")
    )
    assert view.held_notices == [key] and view.facts["root_cause"] == cause
    [held] = [n for n in notices(handle.id) if n.notice == "final_report"]
    assert held.status == "awaiting_approval" and cause in held.body_text
    assert "access list allowed public reads" in held.body_html and held.sent_at is None
    [entry] = audit(handle.id, "revise_held_notice")
    assert entry.actor == ALICE and entry.reason == "Counsel: name it"
    assert entry.before == {"notice": key, "facts": {"root_cause": "ACL"}}
    assert entry.after == {"notice": key, "facts": {"root_cause": cause}}
    assert case_row(handle.id).facts["root_cause"] == cause  # type: ignore[union-attr]

    # Approved: the corrected notice is the one that goes out.
    await handle.execute_update(
        CaseWorkflow.approve_notice,
        ApproveNoticeRequest(key, "counsel@provider.example.com", "reviewed"),
    )
    assert (await handle.result()).state == "final_report_given"
    [sent] = [n for n in notices(handle.id) if n.notice == "final_report"]
    assert sent.status == "outboxed" and cause in sent.body_text


# -- reassign the owner ------------------------------------------------------------------


async def test_reassigned_owner_gets_the_later_owner_notices(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    view = await handle.query(CaseWorkflow.case)
    assert view.owner_email == OWNER
    await refused(
        handle.execute_update(
            CaseWorkflow.reassign_owner, ReassignOwnerRequest(OWNER, ALICE, "no change")
        ),
        "already owns the case",
    )
    await refused(
        handle.execute_update(
            CaseWorkflow.reassign_owner, ReassignOwnerRequest("not an address", ALICE, "r")
        ),
        "is not an email address",
    )
    view = await handle.execute_update(
        CaseWorkflow.reassign_owner, ReassignOwnerRequest(BOB, ALICE, "Alice on leave")
    )
    assert view.owner_email == BOB
    assert case_row(handle.id).owner_email == BOB  # type: ignore[union-attr]
    [entry] = audit(handle.id, "reassign_owner")
    assert entry.before == {"owner_email": OWNER} and entry.after == {"owner_email": BOB}
    assert entry.actor == ALICE and entry.reason == "Alice on leave"

    await travel_to(time_env, at_ny(2037, 12, 31, 10))
    sent = await eventually(lambda: [n for n in notices(handle.id) if n.notice == "owner_reminder"])
    assert sent[0].to == [BOB]
    ack = next(n for n in notices(handle.id) if n.notice == "acknowledgement")
    assert OWNER in ack.cc  # sent before the reassignment


# -- record a fact -------------------------------------------------------------------------


async def test_a_recorded_fact_is_audited_with_actor_reason_before_and_after(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    await travel_to(time_env, dt.datetime(2037, 12, 10, 17, tzinfo=UTC))  # the day it was agreed
    values = {"customer_signatory": "Dana", "provider_signatory": "Sam", "agreed_on": "2037-12-10"}
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest("withdrawal_agreed", values, ALICE, "both sides signed"),
    )
    [entry] = audit(handle.id, "fact")
    assert entry.actor == ALICE and entry.reason == "both sides signed"
    assert entry.before == {"state": "notice_period_running"}
    assert entry.after["state"] == "withdrawn" and entry.after["values"] == values
    assert entry.idempotency_key is not None and entry.idempotency_key.endswith(":fact")


# -- stuck: dwell time ---------------------------------------------------------------------


async def test_dwell_overdue_at_follows_the_rulebook_state(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    await travel_to(time_env, dt.datetime(2037, 12, 1, 16, tzinfo=UTC))
    invoice = {
        "invoice_received_at": "2037-12-01T15:00:00Z",
        "invoice_number": "INV-2037-121",
        "invoice_amount": "10000.00",
    }
    handle = await open_case(worker, task_queue, "invoice_payment", invoice)
    opened = case_row(handle.id)
    assert opened is not None and opened.state == "awaiting_payment"
    assert opened.state_entered_at is not None
    # awaiting_payment and disputed: expected_dwell_days 30 in the rulebook.
    assert opened.dwell_overdue_at == opened.state_entered_at + dt.timedelta(days=30)

    await travel_to(time_env, dt.datetime(2037, 12, 4, 16, tzinfo=UTC))
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "dispute_raised", {"contested_amount": "4000.00", "reason": "Wrong rate"}, ALICE
        ),
    )
    disputed = case_row(handle.id)
    assert disputed is not None and disputed.state == "disputed"
    assert disputed.state_entered_at is not None
    assert disputed.state_entered_at >= dt.datetime(2037, 12, 4, 16, tzinfo=UTC)
    assert disputed.dwell_overdue_at == disputed.state_entered_at + dt.timedelta(days=30)


# -- retry now and the failing columns ------------------------------------------------------


async def test_retry_now_sends_a_failing_notice_at_once_and_the_failure_is_on_the_case(
    worker: Client, task_queue: str, sendgrid_mock: SendGridMock
) -> None:
    seed_reference_contract()
    # SendGrid is down for the first three attempts (2 s, then 4 s of backoff between them).
    sendgrid_mock.script_send(500, 500, 500)
    handle = await start_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    await handle.execute_update(CaseWorkflow.ready)

    case = await eventually(
        lambda: (row := case_row(handle.id)) and row.failing_attempts >= 3 and row, timeout=30
    )
    assert case.failing_activity == "hand_over_notice" and case.failing_attempts == 3
    assert "SendGrid answered 500" in (case.last_failure or "")
    assert case.failing_since is not None and case.last_failure_at is not None
    # The first failure is kept while it keeps failing.
    assert case.last_failure_at - case.failing_since >= dt.timedelta(seconds=5)
    view = await handle.query(CaseWorkflow.case)
    assert view.inflight_activities == ["hand_over_notice"]

    # SendGrid is fixed (the mock answers 202 from now on); the next attempt would come
    # 8 s after the third failure. Retry now instead.
    view = await handle.execute_update(
        CaseWorkflow.retry_now, RetryNowRequest(ALICE, "SendGrid outage is over")
    )
    [ack] = await eventually(
        lambda: [n for n in notices(handle.id) if n.status == "sent"], timeout=30
    )
    assert ack.sent_at is not None and ack.sent_at - case.last_failure_at < dt.timedelta(seconds=8)
    assert len(sendgrid_mock.sends_for(ack.id)) == 4
    assert len(sendgrid_mock.accepted_for(ack.id)) == 1
    cleared = await eventually(lambda: (row := case_row(handle.id)) and not row.failing_activity)
    assert cleared is True
    row = case_row(handle.id)
    assert row is not None and row.failing_attempts == 0 and row.failing_since is None
    assert row.last_failure is None and row.last_failure_at is None
    [entry] = audit(handle.id, "retry_now")
    assert entry.actor == ALICE and entry.reason == "SendGrid outage is over"
    assert entry.before["activities"] == ["hand_over_notice"]
    assert entry.after["restarted"] == ["hand_over_notice"]

    # The retried send is a new activity that started at attempt 1. (Its events are in
    # the history once the workflow has its result: nothing is in flight any more.)
    await settled(handle)
    history = await handle.fetch_history()
    scheduled = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "hand_over_notice"
    ]
    assert len(scheduled) == 2
    started = [
        e.activity_task_started_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id == scheduled[1].event_id
    ]
    assert [s.attempt for s in started] == [1]
    # ... under an id that tells the worker it was retried now (activities/failures.py).
    ids = [e.activity_task_scheduled_event_attributes.activity_id for e in scheduled]
    assert not is_retried(ids[0]) and ids[1] == retried_activity_id("hand_over_notice", 1)


async def test_retry_now_is_refused_when_nothing_is_in_flight(
    worker: Client, task_queue: str
) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    await eventually(lambda: notices(handle.id))
    await settled(handle)
    await refused(
        handle.execute_update(CaseWorkflow.retry_now, RetryNowRequest(ALICE, "just in case")),
        "nothing to retry",
    )
    await refused(
        handle.execute_update(CaseWorkflow.retry_now, RetryNowRequest(ALICE, "")),
        "a reason is required",
    )
    assert audit(handle.id, "retry_now") == []


# -- replay ----------------------------------------------------------------------------------


def test_the_operator_actions_are_in_the_histories_the_replay_suite_replays() -> None:
    """tests/workflows/test_replay.py replays every recorded history; these hold the updates."""
    from pathlib import Path

    folder = Path(__file__).parents[1] / "histories"
    operator_updates = (
        "amend_deadline",
        "decide_amendment",
        "reassign_owner",
        "resolve_escalation",
        "close_case",
        "retry_now",
    )
    updates: set[str] = set()
    for name in (
        "termination_for_convenience.v1.operator_amended_and_reassigned",
        "material_breach.v1.escalation_resolved_then_cancelled",
        "termination_for_convenience.v1.notice_retried_now",
    ):
        text = (folder / f"{name}.json").read_text()
        updates |= {u for u in operator_updates if f'"name": "{u}"' in text}
    assert updates == set(operator_updates)


def test_both_sides_of_the_reminders_patch_are_recorded_for_replay() -> None:
    """Cases that amended a deadline before reminders followed it still replay (no patch
    marker), and cases after it replay the extra computation (with the marker)."""
    import json
    from pathlib import Path

    folder = Path(__file__).parents[1] / "histories"

    def markers(name: str) -> list[str]:
        events = json.loads((folder / f"{name}.json").read_text())["events"]
        return [
            e["markerRecordedEventAttributes"]["markerName"]
            for e in events
            if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
        ]

    before = markers("termination_for_convenience.v1.operator_amended_and_reassigned")
    after = markers("termination_for_convenience.v1.amended_reminders_follow")
    assert "core_patch" not in before and after.count("core_patch") == 1
    assert after.count("core_local_activity") == before.count("core_local_activity") + 1


def test_both_sides_of_the_retried_id_patch_are_recorded_for_replay() -> None:
    """Cases retried now before the retried activity had its own id still replay with the
    server's sequence ids; cases after it replay one more patch marker and the id."""
    import json
    from pathlib import Path

    folder = Path(__file__).parents[1] / "histories"

    def scheduled_and_patches(name: str) -> tuple[list[str], int]:
        events = json.loads((folder / f"termination_for_convenience.v1.{name}.json").read_text())
        events = events["events"]
        ids = [
            e["activityTaskScheduledEventAttributes"]["activityId"]
            for e in events
            if e["eventType"] == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED"
        ]
        markers = [
            e["markerRecordedEventAttributes"]["markerName"]
            for e in events
            if e["eventType"] == "EVENT_TYPE_MARKER_RECORDED"
        ]
        return ids, markers.count("core_patch")

    before, before_patches = scheduled_and_patches("notice_retried_now_one_activity_a_step")
    after, after_patches = scheduled_and_patches("notice_retried_now_under_its_own_id")
    assert not any(is_retried(i) for i in before)
    assert [i for i in after if is_retried(i)] == [retried_activity_id("hand_over_notice", 1)]
    assert after_patches == before_patches + 1
