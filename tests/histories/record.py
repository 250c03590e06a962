"""Records case histories for the replay tests: `python -m tests.histories.record`.

Run it when a change to the workflow or a rulebook is *meant* to produce new
histories (a new rulebook version or a patched workflow). The histories already
committed stand for cases that are live in production: they must keep replaying,
so never re-record them to make a failing replay test pass.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

HERE = Path(__file__).parent
NOTICE = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}


async def _terminated(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    from tests.workflows.helpers import start_case

    handle = await start_case(
        env.client, queue, "termination_for_convenience", NOTICE, case_id="case_replay_terminated"
    )
    await handle.result()
    return handle


async def _withdrawn(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    from tests.workflows.helpers import start_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    handle = await start_case(
        env.client, queue, "termination_for_convenience", NOTICE, case_id="case_replay_withdrawn"
    )
    await handle.execute_update(CaseWorkflow.ready)
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "withdrawal_agreed",
            {"customer_signatory": "A", "provider_signatory": "B", "agreed_on": "2037-12-10"},
            "recorder",
            "replay history",
        ),
    )
    await handle.result()
    return handle


async def _monthly_review(env: WorkflowEnvironment, queue: str) -> WorkflowHandle[Any, Any]:
    from tests.workflows.helpers import start_case
    from workflows.case import CaseWorkflow, RecordFactRequest

    handle = await start_case(
        env.client,
        queue,
        "monthly_sla_review",
        {"first_month": "2037-11-01"},
        case_id="case_replay_monthly_review",
    )
    await handle.execute_update(CaseWorkflow.ready)
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest(
            "downtime_recorded",
            {"started_at": "2037-11-10T14:00:00Z", "ended_at": "2037-11-10T22:00:00Z"},
            "recorder",
        ),
    )
    # Two month ends pass: a credit for November, a report for December.
    await env.sleep(dt.timedelta(days=62))
    await handle.execute_update(
        CaseWorkflow.record_fact,
        RecordFactRequest("review_ended", {"ended_on": "2038-01-31"}, "recorder"),
    )
    await handle.result()
    return handle


# -- every clause, its happy path and its main unhappy paths -------------------------------
#
# Each scenario below drives one case the way its workflow test does (same facts, same
# dates), so that the replay suite replays every branch a clause uses: transitions,
# deadlines reached (one-off and recurring), recorded facts, escalations and closes.

UTC = dt.UTC
Handle = WorkflowHandle[Any, Any]


def _at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=UTC)


async def _open(
    env: WorkflowEnvironment,
    queue: str,
    clause: str,
    facts: dict[str, Any],
    case_id: str,
    *,
    at: dt.datetime | None = None,
    history_limit: int = 10_000,
) -> Handle:
    """Moves the clock to ``at``, starts the case and waits for its first step."""
    from tests.workflows.helpers import start_case, travel_to
    from workflows.case import CaseWorkflow

    if at is not None:
        await travel_to(env, at)
    handle = await start_case(
        env.client, queue, clause, facts, case_id=case_id, history_limit=history_limit
    )
    await handle.execute_update(CaseWorkflow.ready)
    return handle


async def _fact(handle: Handle, fact: str, by: str, **values: Any) -> Any:
    from workflows.case import CaseWorkflow, RecordFactRequest

    return await handle.execute_update(
        CaseWorkflow.record_fact, RecordFactRequest(fact, values, by, "replay history")
    )


async def _until(handle: Handle, test: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    """Polls the case query until ``test(view)`` holds (timers fire as the clock moves)."""
    from workflows.case import CaseWorkflow

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        view = await handle.query(CaseWorkflow.case)
        if test(view):
            return view
        if loop.time() > deadline:
            raise AssertionError(f"case {handle.id} stuck in {view.state}")
        await asyncio.sleep(0.05)


def _in(state: str) -> Callable[[Any], bool]:
    return lambda view: view.state == state


def _reached(name: str) -> Callable[[Any], bool]:
    return lambda view: any(d.name == name and d.status == "reached" for d in view.deadlines)


async def _travel(env: WorkflowEnvironment, when: dt.datetime) -> None:
    from tests.workflows.helpers import travel_to

    await travel_to(env, when)


# material_breach: notice received Wed 2 Dec 2037; cure period ends Tue 5 Jan 2038 05:00 UTC;
# owner's reminder Mon 28 Dec 2037, decision reminder Tue 19 Jan 2038 14:00 UTC.
BREACH = {
    "breach_notice_received_at": "2037-12-02T15:00:00Z",
    "given_by": "customer",
    "breach_description": "Monthly uptime of 97.2% against the 99.9% target",
}
BREACH_OWNER = "contract.owner@customer.example.com"


async def _breach(env: WorkflowEnvironment, queue: str, case_id: str) -> Handle:
    return await _open(env, queue, "material_breach", BREACH, case_id, at=_at(2037, 12, 2, 16))


async def _breach_lapsed(env: WorkflowEnvironment, handle: Handle) -> None:
    await _travel(env, _at(2038, 1, 5, 6))
    await _until(handle, _in("termination_right_arisen"))


async def _breach_cured(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _breach(env, queue, "case_replay_breach_cured")
    await _travel(env, _at(2037, 12, 20, 15))
    await _fact(
        handle,
        "breach_cured",
        "sam@provider.example.com",
        evidence="Root-cause fix deployed; 30 days at 99.95%",
        cured_on="2037-12-19",
    )
    await handle.result()
    return handle


async def _breach_lapsed_then_terminated(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _breach(env, queue, "case_replay_breach_terminated")
    await _breach_lapsed(env, handle)
    await _travel(env, _at(2038, 1, 19, 15))
    await _until(handle, _reached("election_reminder"))
    await _fact(
        handle,
        "termination_exercised",
        BREACH_OWNER,
        notice_given_on="2038-01-19",
        signatory="Dana Whitfield",
    )
    await handle.result()
    return handle


async def _breach_lapsed_then_waived(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _breach(env, queue, "case_replay_breach_waived")
    await _breach_lapsed(env, handle)
    await _fact(
        handle,
        "right_waived",
        BREACH_OWNER,
        signatory="Dana Whitfield",
        waived_on="2038-01-05",
        note="late cure accepted",
    )
    await handle.result()
    return handle


async def _breach_doubtful_opening_cured(env: WorkflowEnvironment, queue: str) -> Handle:
    # An SLA failure said to be notified by the Provider: escalated at the start.
    facts = {**BREACH, "opened_by": "sla_failure", "given_by": "provider"}
    handle = await _open(
        env, queue, "material_breach", facts, "case_replay_breach_doubtful", at=_at(2037, 12, 2, 16)
    )
    await _fact(
        handle, "breach_cured", BREACH_OWNER, evidence="Capacity added", cured_on="2037-12-02"
    )
    await handle.result()
    return handle


# acceptable_use_violation: notice received Mon 1 Mar 2038; cure period ends Thu 1 Apr 2038
# 04:00 UTC; owner's reminder Wed 24 Mar, decision reminder Wed 14 Apr 2038 13:00 UTC.
AUP = {
    "violation_notice_received_at": "2038-03-01T14:30:00Z",
    "given_by": "provider",
    "violation_description": "Bulk unsolicited marketing messages sent through the platform",
    "aup_provision": "Exhibit C.1, prohibited activities",
}
TRUST = "trust.safety@provider.example.com"


async def _aup(env: WorkflowEnvironment, queue: str, case_id: str, **extra: Any) -> Handle:
    return await _open(
        env, queue, "acceptable_use_violation", {**AUP, **extra}, case_id, at=_at(2038, 3, 1, 15)
    )


async def _aup_lapsed(env: WorkflowEnvironment, handle: Handle) -> None:
    await _travel(env, _at(2038, 4, 1, 5))
    await _until(handle, _in("suspension_right_arisen"))


async def _aup_cured(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _aup(env, queue, "case_replay_aup_cured")
    await _travel(env, _at(2038, 3, 15, 15))
    await _fact(
        handle,
        "violation_cured",
        TRUST,
        evidence="Campaign stopped and opt-in lists audited",
        cured_on="2038-03-12",
    )
    await handle.result()
    return handle


async def _aup_suspended_then_restored(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _aup(env, queue, "case_replay_aup_restored")
    await _aup_lapsed(env, handle)
    await _fact(
        handle, "access_suspended", TRUST, suspended_on="2038-04-01", scope="outbound messaging"
    )
    await _fact(handle, "access_restored", TRUST, restored_on="2038-04-01", evidence="Lists purged")
    await handle.result()
    return handle


async def _aup_suspended_then_terminated(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _aup(env, queue, "case_replay_aup_terminated")
    await _aup_lapsed(env, handle)
    await _fact(handle, "access_suspended", TRUST, suspended_on="2038-04-01")
    await _fact(handle, "access_terminated", TRUST, terminated_on="2038-04-01")
    await handle.result()
    return handle


async def _aup_reminded_then_no_action(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _aup(env, queue, "case_replay_aup_no_action")
    await _aup_lapsed(env, handle)
    await _travel(env, _at(2038, 4, 14, 14))
    await _until(handle, _reached("decision_reminder"))
    await _fact(
        handle,
        "right_not_exercised",
        TRUST,
        decided_by="Head of Trust and Safety",
        reason="Campaign ended; lists purged",
    )
    await handle.result()
    return handle


async def _aup_opened_in_error(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _aup(env, queue, "case_replay_aup_in_error", given_by="customer")
    await handle.result()
    return handle


# data_transfer: requested Tue 1 Dec 2037; the owner's reminder is Tue 15 Dec 2037 14:00 UTC.
TRANSFER = {
    "requested_at": "2037-12-01T15:00:00Z",
    "destination": "Singapore",
    "purpose": "Follow-the-sun support from the Singapore operations centre",
    "data_categories": "support tickets and call recordings",
}
PRIVACY = "privacy@customer.example.com"
CONSENT = {"consented_by": "Dana Whitfield, General Counsel", "consented_on": "2037-12-04"}


async def _transfer(env: WorkflowEnvironment, queue: str, case_id: str) -> Handle:
    return await _open(env, queue, "data_transfer", TRANSFER, case_id, at=_at(2037, 12, 1, 16))


async def _transfer_consented_then_made(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _transfer(env, queue, "case_replay_transfer_made")
    await _travel(env, _at(2037, 12, 4, 16))
    await _fact(handle, "consent_given", PRIVACY, **CONSENT, conditions="Encrypted at rest")
    await _travel(env, _at(2037, 12, 20, 16))
    await _fact(handle, "transfer_made", PRIVACY, transferred_on="2037-12-18", consent_on_file=True)
    await handle.result()
    return handle


async def _transfer_reminded_then_refused(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _transfer(env, queue, "case_replay_transfer_refused")
    await _travel(env, _at(2037, 12, 16, 15))
    await _until(handle, _reached("decision_reminder"))
    await _fact(
        handle, "consent_refused", PRIVACY, reason="No transfer impact assessment", refused_by="DW"
    )
    await handle.result()
    return handle


async def _transfer_before_consent(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _transfer(env, queue, "case_replay_transfer_unconsented")
    await _travel(env, _at(2037, 12, 8, 16))
    await _fact(
        handle,
        "transfer_made",
        PRIVACY,
        transferred_on="2037-12-07",
        consent_on_file=True,
        details="Ticket archive replicated to the SG region",
    )
    await handle.result()
    return handle


async def _transfer_without_consent_on_file(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _transfer(env, queue, "case_replay_transfer_no_consent_on_file")
    await _travel(env, _at(2037, 12, 4, 16))
    await _fact(handle, "consent_given", PRIVACY, **CONSENT)
    await _travel(env, _at(2037, 12, 10, 16))
    await _fact(
        handle, "transfer_made", PRIVACY, transferred_on="2037-12-09", consent_on_file=False
    )
    await handle.result()
    return handle


async def _transfer_consented_then_withdrawn(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _transfer(env, queue, "case_replay_transfer_withdrawn")
    await _travel(env, _at(2037, 12, 4, 16))
    await _fact(handle, "consent_given", PRIVACY, **CONSENT)
    await _fact(handle, "request_withdrawn", PRIVACY, note="Provider kept support in the US")
    await handle.result()
    return handle


# incident_response: response within 2 business hours (4 elapsed hours outside them),
# resolution within 24 hours.
NOC = "noc@provider.example.com"


def _incident(reported_at: str) -> dict[str, str]:
    return {"reported_at": reported_at, "severity": "high", "description": "Outbound calls fail"}


async def _incident_resolved_in_time(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(
        env,
        queue,
        "incident_response",
        _incident("2037-12-01T15:00:00Z"),
        "case_replay_incident_in_time",
        at=_at(2037, 12, 1, 15),
    )
    await _travel(env, _at(2037, 12, 1, 16))
    await _fact(handle, "responded", NOC, responded_at="2037-12-01T16:00:00Z", responded_by="NOC")
    await _travel(env, _at(2037, 12, 2, 10))
    await _fact(
        handle, "resolved", NOC, resolved_at="2037-12-02T10:00:00Z", resolution="Trunk re-routed"
    )
    await handle.result()
    return handle


async def _incident_missed_both_targets(env: WorkflowEnvironment, queue: str) -> Handle:
    # Tue 1 Dec 16:30 New York: response due 15:30 UTC and resolution 21:30 UTC on 2 Dec.
    handle = await _open(
        env,
        queue,
        "incident_response",
        _incident("2037-12-01T21:30:00Z"),
        "case_replay_incident_missed",
        at=_at(2037, 12, 1, 21, 30),
    )
    await _travel(env, _at(2037, 12, 2, 22))
    await _until(handle, _reached("resolution_due"))
    await _fact(
        handle, "resolved", NOC, resolved_at="2037-12-02T22:00:00Z", resolution="Vendor patch"
    )
    await handle.result()
    return handle


async def _incident_extended_then_resolved(env: WorkflowEnvironment, queue: str) -> Handle:
    # Fri 4 Dec 22:00 New York, outside business hours: 4 elapsed hours to respond.
    handle = await _open(
        env,
        queue,
        "incident_response",
        _incident("2037-12-05T03:00:00Z"),
        "case_replay_incident_extended",
        at=_at(2037, 12, 5, 3),
    )
    await _travel(env, _at(2037, 12, 5, 5))
    await _fact(handle, "responded", NOC, responded_at="2037-12-05T05:00:00Z", responded_by="Duty")
    await _travel(env, _at(2037, 12, 5, 20))
    await _fact(
        handle,
        "resolution_extended",
        NOC,
        third_party="Carrier Example Telecom",
        reason="The fault is in the carrier's interconnect",
        extended_until="2037-12-08T17:00:00Z",
    )
    await _travel(env, _at(2037, 12, 8, 12))
    await _fact(
        handle, "resolved", NOC, resolved_at="2037-12-08T12:00:00Z", resolution="Carrier fixed it"
    )
    await handle.result()
    return handle


async def _incident_extension_missed(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(
        env,
        queue,
        "incident_response",
        _incident("2037-12-01T15:00:00Z"),
        "case_replay_incident_extension_missed",
        at=_at(2037, 12, 1, 15),
    )
    await _fact(handle, "responded", NOC, responded_at="2037-12-01T15:00:00Z", responded_by="NOC")
    await _fact(
        handle,
        "resolution_extended",
        NOC,
        third_party="Hardware vendor",
        reason="Replacement card shipped",
        extended_until="2037-12-03T15:00:00Z",
    )
    await _travel(env, _at(2037, 12, 3, 16))
    await _until(handle, _reached("extended_resolution_due"))
    await _fact(
        handle, "resolved", NOC, resolved_at="2037-12-03T16:00:00Z", resolution="Card swapped"
    )
    await handle.result()
    return handle


# indemnity_claim: received Fri 18 Dec 2037 21:00 UTC; owner's reminder Mon 28 Dec 2037,
# escalation Tue 5 Jan 2038 14:00 UTC.
CLAIM = {
    "claim_received_at": "2037-12-18T21:00:00Z",
    "claimant": "Patentholder Corp.",
    "description": "Alleged infringement of a call-routing patent by the platform",
    "given_by": "customer",
    "claim_reference": "1:37-cv-04211",
}
COUNSEL = "counsel@customer.example.com"
TERMS = "Licence fee; Customer stops using the feature"


async def _claim(env: WorkflowEnvironment, queue: str, case_id: str) -> Handle:
    return await _open(env, queue, "indemnity_claim", CLAIM, case_id, at=_at(2037, 12, 18, 22))


async def _claim_defended_then_settled(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _claim(env, queue, "case_replay_claim_settled")
    await _travel(env, _at(2037, 12, 22, 15))
    await _fact(
        handle, "defence_assumed", COUNSEL, counsel="Hale & Dorr LLP", assumed_on="2037-12-22"
    )
    # Not a full release: escalated, so the Customer's written consent is obtained first.
    await _fact(
        handle,
        "settlement_proposed",
        COUNSEL,
        settlement_terms=TERMS,
        proposed_on="2037-12-22",
        full_release_without_obligations=False,
    )
    await _fact(
        handle,
        "settlement_agreed",
        COUNSEL,
        settlement_terms=TERMS,
        agreed_on="2037-12-22",
        customer_consented=True,
        consent_reference="GC letter of 22 Dec 2037",
    )
    await handle.result()
    return handle


async def _claim_undefended_declined_then_resolved(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _claim(env, queue, "case_replay_claim_resolved")
    await _travel(env, _at(2038, 1, 5, 15))
    await _until(handle, _reached("defence_escalation"))
    await _fact(
        handle, "defence_declined", COUNSEL, declined_on="2038-01-05", reason="disputes coverage"
    )
    await _fact(
        handle,
        "claim_resolved",
        COUNSEL,
        outcome="dismissed with prejudice",
        resolved_on="2038-01-05",
    )
    await handle.result()
    return handle


# invoice_payment: USD 10,000.00 received Tue 1 Dec 2037; the dispute window ends Sat 12 Dec
# 2037 05:00 UTC and payment is due by the end of Thu 31 Dec 2037 (Fri 1 Jan 2038 05:00
# UTC). Later deadlines are read from the case rather than worked out here.
INVOICE = {
    "invoice_received_at": "2037-12-01T15:00:00Z",
    "invoice_number": "INV-2037-112",
    "invoice_amount": "10000.00",
}
AP = "ap@customer.example.com"


async def _invoice(env: WorkflowEnvironment, queue: str, case_id: str) -> Handle:
    return await _open(env, queue, "invoice_payment", INVOICE, case_id, at=_at(2037, 12, 1, 16))


def _due(view: Any, name: str) -> dt.datetime:
    return next(d.due_at for d in view.deadlines if d.name == name)


def _local_day(when: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo("America/New_York")).date().isoformat()


async def _invoice_paid_on_time(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _invoice(env, queue, "case_replay_invoice_paid")
    await _travel(env, _at(2037, 12, 20, 15))
    await _fact(handle, "payment_received", AP, amount="10000.00", paid_on="2037-12-20")
    await handle.result()
    return handle


async def _invoice_overdue_to_termination_right_then_paid(
    env: WorkflowEnvironment, queue: str
) -> Handle:
    handle = await _invoice(env, queue, "case_replay_invoice_overdue")
    await _travel(env, _at(2038, 1, 1, 6))
    view = await _until(handle, _in("overdue"))
    # Suspension becomes permissible; a part payment that day leaves it overdue.
    suspension = _due(view, "suspension_permissible") + dt.timedelta(hours=1)
    await _travel(env, suspension)
    await _until(handle, _reached("suspension_permissible"))
    await _fact(handle, "payment_received", AP, amount="5000.00", paid_on=_local_day(suspension))
    # Still unpaid when the termination right arises: escalated. Paid in full that day.
    termination = _due(view, "unpaid_termination") + dt.timedelta(hours=1)
    await _travel(env, termination)
    view = await _until(handle, _in("termination_right_arisen"))
    await _fact(
        handle,
        "payment_received",
        AP,
        amount=view.facts["total_outstanding"],
        paid_on=_local_day(termination),
    )
    await handle.result()
    return handle


async def _invoice_disputed_then_resolved_late(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _invoice(env, queue, "case_replay_invoice_disputed")
    await _travel(env, _at(2037, 12, 8, 15))
    await _fact(
        handle, "dispute_raised", AP, contested_amount="4000.00", reason="Usage double-billed"
    )
    await _travel(env, _at(2037, 12, 20, 15))
    await _fact(handle, "payment_received", AP, amount="6000.00", paid_on="2037-12-20")
    # The due date passes with nothing overdue; the dispute is resolved after it: escalated.
    await _travel(env, _at(2038, 1, 8, 15))
    await _until(handle, _reached("payment_due"))
    view = await _fact(
        handle,
        "dispute_resolved",
        AP,
        contested_amount_payable="1500.00",
        resolution="Half the usage was real; credit note for the rest",
    )
    await _fact(
        handle,
        "payment_received",
        AP,
        amount=view.facts["total_outstanding"],
        paid_on="2038-01-08",
    )
    await handle.result()
    return handle


async def _invoice_overdue_part_paid_back_to_dispute(
    env: WorkflowEnvironment, queue: str
) -> Handle:
    handle = await _invoice(env, queue, "case_replay_invoice_back_to_dispute")
    await _travel(env, _at(2037, 12, 9, 15))
    await _fact(handle, "dispute_raised", AP, contested_amount="4000.00", reason="Wrong rate")
    await _travel(env, _at(2038, 1, 1, 6))
    view = await _until(handle, _in("overdue"))
    # The uncontested part with its interest: back to the dispute, the clocks stop.
    await _fact(
        handle,
        "payment_received",
        AP,
        amount=view.facts["total_outstanding"],
        paid_on="2038-01-01",
    )
    await _fact(
        handle, "dispute_resolved", AP, contested_amount_payable="0.00", resolution="Rate corrected"
    )
    await handle.result()
    return handle


# monthly_sla_review, run long enough to continue as new several times (history_limit=15):
# the history recorded is the last run's, which starts from the carried-over state.
async def _monthly_review_continued_as_new(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(
        env,
        queue,
        "monthly_sla_review",
        {"first_month": "2037-11-01"},
        "case_replay_monthly_review_continued",
        history_limit=15,
    )
    ops = "ops@customer.example.com"
    await _fact(
        handle,
        "downtime_recorded",
        ops,
        started_at="2037-11-10T14:00:00Z",
        ended_at="2037-11-10T22:00:00Z",
    )
    await _fact(
        handle,
        "maintenance_window_recorded",
        ops,
        starts_at="2037-11-21T06:00:00Z",
        ends_at="2037-11-21T10:00:00Z",
        notice_given_at="2037-11-17T06:00:00Z",
    )
    # Three month ends: a credit for November, reports for December and January.
    await _travel(env, _at(2038, 2, 1, 12))
    await _until(
        handle,
        lambda view: any(
            d.name == "month_end" and d.due_at > _at(2038, 2, 2) for d in view.deadlines
        ),
    )
    await _fact(handle, "review_ended", ops, ended_on="2038-02-28")
    await handle.result()
    return handle


# scheduled_maintenance: the case opens Tue 1 Dec 2037 14:30 UTC, when the notice goes out.
MAINTENANCE_IN_TIME = {
    "window_starts_at": "2037-12-05T06:00:00Z",
    "window_ends_at": "2037-12-05T10:00:00Z",
    "description": "Database engine upgrade; voice and messaging unavailable",
}
MAINTENANCE_LATE = {
    "window_starts_at": "2037-12-03T15:00:00Z",
    "window_ends_at": "2037-12-03T17:00:00Z",
    "description": "Emergency patch of the session border controllers",
}
MAINTENANCE_OPENS = _at(2037, 12, 1, 14, 30)


async def _maintenance(
    env: WorkflowEnvironment, queue: str, facts: dict[str, Any], case_id: str
) -> Handle:
    return await _open(env, queue, "scheduled_maintenance", facts, case_id, at=MAINTENANCE_OPENS)


async def _maintenance_excluded(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _maintenance(env, queue, MAINTENANCE_IN_TIME, "case_replay_maintenance_in_time")
    await handle.result()
    return handle


async def _maintenance_late_notice(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _maintenance(env, queue, MAINTENANCE_LATE, "case_replay_maintenance_late")
    await handle.result()
    return handle


async def _maintenance_cancelled(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _maintenance(env, queue, MAINTENANCE_IN_TIME, "case_replay_maintenance_off")
    await _fact(
        handle, "maintenance_cancelled", "ops@provider.example.com", reason="Vendor postponed"
    )
    await handle.result()
    return handle


async def _maintenance_window_invalid(env: WorkflowEnvironment, queue: str) -> Handle:
    facts = {**MAINTENANCE_IN_TIME, "window_ends_at": "2037-12-05T05:00:00Z"}
    handle = await _maintenance(env, queue, facts, "case_replay_maintenance_invalid")
    await handle.result()
    return handle


# security_breach: discovered Tue 1 Dec 2037 14:00 UTC; the Customer must be told within
# 72 hours (Fri 4 Dec 14:00 UTC), with reminders 24 and 4 hours before.
SECURITY = {
    "discovered_at": "2037-12-01T14:00:00Z",
    "description": "A misconfigured storage bucket exposed call detail records",
}
CISO = "ciso@provider.example.com"


async def _approve_held(handle: Handle) -> None:
    """Approves the notices the case holds for review (e.g. a final breach report)."""
    from workflows.case import ApproveNoticeRequest, CaseWorkflow

    view = await handle.query(CaseWorkflow.case)
    for key in view.held_notices:
        await handle.execute_update(
            CaseWorkflow.approve_notice,
            ApproveNoticeRequest(key, "counsel@provider.example.com", "reviewed"),
        )


async def _security_notified_in_time(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(
        env,
        queue,
        "security_breach",
        SECURITY,
        "case_replay_security_in_time",
        at=_at(2037, 12, 1, 15),
    )
    await _travel(env, _at(2037, 12, 3, 15))
    await _until(handle, _reached("notification_reminder_24"))
    await _fact(
        handle,
        "customer_notified",
        CISO,
        how="Call with the Customer's CISO, then email",
        notified_at="2037-12-03T14:30:00Z",
    )
    await _fact(
        handle, "mitigation_update", CISO, summary="Bucket locked down", next_steps="Review"
    )
    await _fact(
        handle,
        "final_report",
        CISO,
        root_cause="Public-read ACL left by a deploy script",
        remediation="ACL policy enforced in CI",
    )
    # The final report is held for review: the case ends once it is approved.
    await _approve_held(handle)
    await handle.result()
    return handle


async def _security_deadline_missed(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(
        env,
        queue,
        "security_breach",
        SECURITY,
        "case_replay_security_missed",
        at=_at(2037, 12, 1, 15),
    )
    await _travel(env, _at(2037, 12, 4, 15))
    await _until(handle, _in("notification_overdue"))
    await _fact(handle, "customer_notified", CISO, how="Email", notified_at="2037-12-04T14:30:00Z")
    await _fact(handle, "final_report", CISO, root_cause="Stolen credentials", remediation="MFA")
    # The final report is held for review: the case ends once it is approved.
    await _approve_held(handle)
    await handle.result()
    return handle


async def _security_final_report_corrected(env: WorkflowEnvironment, queue: str) -> Handle:
    """The held final report is corrected by counsel, then approved and sent."""
    from workflows.case import CaseWorkflow, ReviseHeldNoticeRequest

    handle = await _open(
        env,
        queue,
        "security_breach",
        SECURITY,
        "case_replay_security_corrected",
        at=_at(2037, 12, 1, 15),
    )
    await _fact(handle, "customer_notified", CISO, how="Call", notified_at="2037-12-01T16:00:00Z")
    await _fact(handle, "final_report", CISO, root_cause="ACL", remediation="CI policy")
    view = await handle.query(CaseWorkflow.case)
    for key in view.held_notices:
        await handle.execute_update(
            CaseWorkflow.revise_held_notice,
            ReviseHeldNoticeRequest(
                key,
                {"root_cause": "A deploy script left the bucket's access list public"},
                "counsel@provider.example.com",
                "name the cause, not the symptom",
            ),
        )
    await _approve_held(handle)
    await handle.result()
    return handle


# term_expiry: effective Wed 1 Jun 2035, a three-year term: it expires at the start of
# Tue 1 Jun 2038, with the owner's reminders 180, 90 and 30 days before.
TERM = {"effective_date": "2035-06-01"}


async def _term_expired(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(env, queue, "term_expiry", TERM, "case_replay_term_expired")
    await handle.result()
    return handle


async def _term_renewed(env: WorkflowEnvironment, queue: str) -> Handle:
    handle = await _open(env, queue, "term_expiry", TERM, "case_replay_term_renewed")
    await _travel(env, _at(2037, 12, 10, 15))
    await _until(handle, _reached("expiry_reminder_180"))
    await _fact(
        handle,
        "renewed",
        "owner@customer.example.com",
        agreed_on="2037-12-10",
        new_term="Extended by two years, to the end of 31 May 2040",
        customer_signatory="Dana Whitfield",
        provider_signatory="Sam Okafor",
    )
    await handle.result()
    return handle


# Operator actions (issue 4): updates with validators, deadlines moved by amendment,
# escalations resolved, cases closed by an operator, and an activity retried now.
ALICE = "alice@customer.example.com"
BOB = "bob@customer.example.com"


async def _termination_amended_and_reassigned(env: WorkflowEnvironment, queue: str) -> Handle:
    from workflows.case import (
        AmendDeadlineRequest,
        CaseWorkflow,
        DecideAmendmentRequest,
        ReassignOwnerRequest,
    )

    handle = await _open(
        env, queue, "termination_for_convenience", NOTICE, "case_replay_operator_amended"
    )
    # Effective date Mon 1 Mar 2038 00:00 New York; moved to Mon 15 Mar with approval.
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("effective_date", _at(2038, 3, 15, 5), "agreed extension", ALICE),
    )
    await handle.execute_update(
        CaseWorkflow.decide_amendment,
        DecideAmendmentRequest(view.amendment_id or "", True, BOB, "side letter checked"),
    )
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("reminder_7", _at(2038, 3, 9, 14), "follow the move", ALICE),
    )
    await handle.execute_update(
        CaseWorkflow.decide_amendment,
        DecideAmendmentRequest(view.amendment_id or "", False, ALICE, "not needed"),
    )
    await handle.execute_update(
        CaseWorkflow.reassign_owner, ReassignOwnerRequest(BOB, ALICE, "handover")
    )
    await handle.result()
    return handle


async def _breach_escalation_resolved_then_cancelled(
    env: WorkflowEnvironment, queue: str
) -> Handle:
    from workflows.case import CaseWorkflow, CloseCaseRequest, ResolveEscalationRequest

    handle = await _open(
        env,
        queue,
        "material_breach",
        {**BREACH, "opened_by": "complaint"},
        "case_replay_breach_resolved_cancelled",
        at=_at(2037, 12, 2, 16),
    )
    view = await handle.query(CaseWorkflow.case)
    [esc] = view.open_escalations
    await handle.execute_update(
        CaseWorkflow.resolve_escalation,
        ResolveEscalationRequest(esc.step, esc.rule, "confirmed with the Customer", ALICE),
    )
    await handle.execute_update(
        CaseWorkflow.close_case, CloseCaseRequest("cancelled", ALICE, "opened in error")
    )
    await handle.result()
    return handle


async def _termination_notice_retried_now(env: WorkflowEnvironment, queue: str) -> Handle:
    """The acknowledgement fails twice at a SendGrid mock, then is retried now."""
    from runtime.settings import get_settings
    from tests.support.sendgrid_mock import SendGridMock
    from tests.workflows.helpers import case_row, start_case
    from workflows.case import CaseWorkflow, RetryNowRequest

    spec = HERE.parents[2] / "shared" / "sendgrid" / "tsg_mail_v3.json"
    with SendGridMock(spec) as mock:
        os.environ.update(SENDGRID_API_KEY=mock.api_key, SENDGRID_HOST=mock.url)
        get_settings.cache_clear()
        try:
            mock.script_send(500, 500)
            handle = await start_case(
                env.client,
                queue,
                "termination_for_convenience",
                NOTICE,
                case_id="case_replay_notice_retried_now",
            )
            await handle.execute_update(CaseWorkflow.ready)
            loop = asyncio.get_running_loop()
            until = loop.time() + 30
            while not ((row := case_row(handle.id)) and row.failing_attempts >= 2):
                assert loop.time() < until, "the acknowledgement did not fail twice"
                await asyncio.sleep(0.1)
            await handle.execute_update(
                CaseWorkflow.retry_now, RetryNowRequest(ALICE, "SendGrid is back")
            )
            await _until(handle, lambda view: bool(view.notices))
        finally:
            os.environ.pop("SENDGRID_API_KEY")
            os.environ.pop("SENDGRID_HOST")
            get_settings.cache_clear()
    await handle.result()
    return handle


Scenario = Callable[[WorkflowEnvironment, str], Awaitable[WorkflowHandle[Any, Any]]]
# A notice told to the case long after it was received (the clock is at 27 Nov 2037):
# its effective date has passed, so are all its reminders.
TOLD_LATE = {"notice_received_at": "2037-08-03T14:00:00Z", "given_by": "customer"}


async def _termination_told_late(env: WorkflowEnvironment, queue: str) -> Handle:
    """After "late-deadlines-caught-up": reminders skipped, notices held, then approved.
    Before it (recorded with the earlier workflow), everything went out at once."""
    from workflows.case import ApproveNoticeRequest, CaseWorkflow

    handle = await _open(env, queue, "termination_for_convenience", TOLD_LATE, "case_replay_late")
    view = await _until(handle, lambda v: v.state == "terminated")
    while view.held_notices:
        await handle.execute_update(
            CaseWorkflow.approve_notice,
            ApproveNoticeRequest(view.held_notices[0], ALICE, "checked the dates"),
        )
        view = await handle.query(CaseWorkflow.case)
    await handle.result()
    return handle


async def _termination_could_not_start(env: WorkflowEnvironment, queue: str) -> Handle:
    """Facts that break the calendar (past the API's checks): the case says why and waits
    for an operator, who cancels it."""
    from workflows.case import CaseWorkflow, CloseCaseRequest

    facts = {"notice_received_at": "9999-12-01T15:00:00Z", "given_by": "customer"}
    handle = await _open(env, queue, "termination_for_convenience", facts, "case_replay_no_start")
    await _until(handle, _in("could_not_start"))
    await handle.execute_update(
        CaseWorkflow.close_case, CloseCaseRequest("cancelled", ALICE, "opened with a typo")
    )
    await handle.result()
    return handle


SCENARIOS: dict[str, Scenario] = {
    "termination_for_convenience.v1.terminated": _terminated,
    "termination_for_convenience.v1.withdrawn": _withdrawn,
    "monthly_sla_review.v1.two_months_then_ended": _monthly_review,
    "material_breach.v1.cured": _breach_cured,
    "material_breach.v1.lapsed_then_terminated": _breach_lapsed_then_terminated,
    "material_breach.v1.lapsed_then_waived": _breach_lapsed_then_waived,
    "material_breach.v1.doubtful_opening_escalated_then_cured": _breach_doubtful_opening_cured,
    "acceptable_use_violation.v1.cured": _aup_cured,
    "acceptable_use_violation.v1.lapsed_suspended_then_restored": _aup_suspended_then_restored,
    "acceptable_use_violation.v1.lapsed_suspended_then_terminated": _aup_suspended_then_terminated,
    "acceptable_use_violation.v1.lapsed_reminded_then_no_action": _aup_reminded_then_no_action,
    "acceptable_use_violation.v1.opened_in_error": _aup_opened_in_error,
    "data_transfer.v1.consented_then_transferred": _transfer_consented_then_made,
    "data_transfer.v1.reminded_then_refused": _transfer_reminded_then_refused,
    "data_transfer.v1.transferred_before_consent": _transfer_before_consent,
    "data_transfer.v1.transferred_without_consent_on_file": _transfer_without_consent_on_file,
    "data_transfer.v1.consented_then_withdrawn": _transfer_consented_then_withdrawn,
    "incident_response.v1.resolved_in_time": _incident_resolved_in_time,
    "incident_response.v1.missed_both_targets": _incident_missed_both_targets,
    "incident_response.v1.extended_then_resolved": _incident_extended_then_resolved,
    "incident_response.v1.extension_missed": _incident_extension_missed,
    "indemnity_claim.v1.defended_then_settled": _claim_defended_then_settled,
    "indemnity_claim.v1.escalated_declined_then_resolved": _claim_undefended_declined_then_resolved,
    "invoice_payment.v1.paid_on_time": _invoice_paid_on_time,
    "invoice_payment.v1.overdue_to_termination_right_then_paid": (
        _invoice_overdue_to_termination_right_then_paid
    ),
    "invoice_payment.v1.disputed_then_resolved_late": _invoice_disputed_then_resolved_late,
    "invoice_payment.v1.overdue_part_paid_back_to_dispute": (
        _invoice_overdue_part_paid_back_to_dispute
    ),
    "monthly_sla_review.v1.continued_as_new": _monthly_review_continued_as_new,
    "scheduled_maintenance.v1.excluded_from_uptime": _maintenance_excluded,
    "scheduled_maintenance.v1.late_notice_counted_in_uptime": _maintenance_late_notice,
    "scheduled_maintenance.v1.cancelled": _maintenance_cancelled,
    "scheduled_maintenance.v1.window_invalid": _maintenance_window_invalid,
    "security_breach.v1.notified_in_time_then_final_report": _security_notified_in_time,
    "security_breach.v1.deadline_missed_then_notified_late": _security_deadline_missed,
    "term_expiry.v1.expired": _term_expired,
    "term_expiry.v1.renewed": _term_renewed,
    "termination_for_convenience.v1.operator_amended_and_reassigned": (
        _termination_amended_and_reassigned
    ),
    "material_breach.v1.escalation_resolved_then_cancelled": (
        _breach_escalation_resolved_then_cancelled
    ),
    "termination_for_convenience.v1.notice_retried_now": _termination_notice_retried_now,
    # The same actions after "amended-deadline-moves-its-reminders" (workflow.patched):
    # approving the amendment also moves the reminders counted from the effective date.
    "termination_for_convenience.v1.amended_reminders_follow": (
        _termination_amended_and_reassigned
    ),
    "security_breach.v1.final_report_corrected_then_approved": _security_final_report_corrected,
    # Before "late-deadlines-caught-up" (recorded with the workflow of commit 496fff3):
    "termination_for_convenience.v1.told_late_sent_at_once": _termination_told_late,
    # After it:
    "termination_for_convenience.v1.told_late_caught_up": _termination_told_late,
    "termination_for_convenience.v1.could_not_start_then_cancelled": _termination_could_not_start,
}


async def record(names: list[str], out: Path = HERE) -> None:
    from runtime.settings import get_settings
    from runtime.temporal import DATA_CONVERTER, register_search_attributes
    from store.db import get_engine
    from store.migrate import upgrade
    from tests.workflows.helpers import seed_reference_contract, travel_to
    from workers.temporal import build_worker

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/record.db"
        get_settings.cache_clear()
        get_engine.cache_clear()
        upgrade(os.environ["DATABASE_URL"])
        seed_reference_contract()
        for name in names:
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=DATA_CONVERTER,
                test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
            )
            try:
                await register_search_attributes(env.client)
                await travel_to(env, dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))
                async with build_worker(env.client, task_queue="record"):
                    handle = await SCENARIOS[name](env, "record")
                history = await handle.fetch_history()
                path = out / f"{name}.json"
                path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
                print(f"wrote {path} ({len(history.events)} events)")
            finally:
                await env.shutdown()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.histories.record")
    parser.add_argument("names", nargs="*", help="histories to record (default: all)")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write them to")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(f"no such history: {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    asyncio.run(record(args.names or list(SCENARIOS), args.out))


if __name__ == "__main__":
    main()
