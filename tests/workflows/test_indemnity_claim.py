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
from functools import partial
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.helpers import (
    CUSTOMER,
    OWNER,
    PROVIDER,
    case_row,
    deadlines,
    escalations,
    eventually,
    fired_at,
    notices,
    open_case,
    record_fact,
    sent,
    transitions,
    travel_to,
)
from workflows.case import CaseWorkflow

UTC = dt.UTC
CLAUSE = "indemnity_claim"
FACTS = {
    "claim_received_at": "2037-12-18T21:00:00Z",  # Fri 18 Dec 2037 16:00 EST
    "claimant": "Patentholder Corp.",
    "description": "Alleged infringement of a call-routing patent by the platform",
    "given_by": "customer",
    "claim_reference": "1:37-cv-04211",
}

REMINDER = dt.datetime(2037, 12, 28, 14, tzinfo=UTC)  # Mon 28 Dec 2037 09:00 EST
ESCALATION = dt.datetime(2038, 1, 5, 14, tzinfo=UTC)  # Tue 5 Jan 2038 09:00 EST


@pytest.fixture(autouse=True)
async def _just_after_the_claim(time_env: WorkflowEnvironment) -> None:
    await travel_to(time_env, dt.datetime(2037, 12, 18, 22, tzinfo=UTC))


# record(handle, fact, values): facts in this case are recorded by the Customer's counsel.
record = partial(record_fact, by="counsel@customer.example.com", reason="test")


async def started(worker: Client, task_queue: str, **extra: Any) -> WorkflowHandle[Any, Any]:
    return await open_case(worker, task_queue, CLAUSE, {**FACTS, **extra})


async def test_claim_is_notified_promptly_to_the_indemnifying_party(
    worker: Client, task_queue: str
) -> None:
    handle = await started(worker, task_queue)
    view = await handle.query(CaseWorkflow.case)
    assert view.state == "awaiting_defence"
    assert [d.name for d in view.deadlines] == ["defence_reminder", "defence_escalation"]
    [notice] = await eventually(lambda: notices(handle.id))
    assert notice.notice == "claim_notice"
    # The Customer seeks the indemnity, so the Provider is notified and the Customer copied.
    assert notice.to == PROVIDER and notice.cc == CUSTOMER + OWNER
    assert "Patentholder Corp." in notice.subject
    assert "Fri 18 Dec 2037 16:00 New York time" in notice.body_text
    assert "1:37-cv-04211" in notice.body_text
    assert "reasonably acceptable" in notice.body_html
    dls = deadlines(handle.id)
    assert dls["defence_reminder"].due_at == REMINDER
    assert dls["defence_escalation"].due_at == ESCALATION
    assert escalations(handle.id) == []


async def test_owner_reminded_then_case_escalated_while_no_one_defends(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await started(worker, task_queue)
    await travel_to(time_env, ESCALATION + dt.timedelta(hours=1))
    [esc] = await eventually(lambda: escalations(handle.id))
    assert esc.rule == "escalate_defence_still_open"
    assert fired_at(esc.at, ESCALATION)

    reminder = sent(handle.id, "defence_reminder")
    assert reminder.to == OWNER and fired_at(reminder.created_at, REMINDER)
    assert "Mon 28 Dec 2037" in reminder.body_text and "Tue 5 Jan 2038" in reminder.body_text
    row = case_row(handle.id)
    assert row is not None and row.escalated and row.state == "awaiting_defence"
    assert not row.closed and row.next_deadline_at is None


async def test_defence_assumed_cancels_the_reminders_and_names_counsel(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await started(worker, task_queue)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record(handle, "defence_assumed", {"assumed_on": "2037-12-21"})
    assert "values.counsel is required" in str(info.value.cause)

    await travel_to(time_env, dt.datetime(2037, 12, 22, 15, tzinfo=UTC))
    view = await record(
        handle, "defence_assumed", {"counsel": "Hale & Dorr LLP", "assumed_on": "2037-12-22"}
    )
    assert view.state == "defence_assumed" and not view.closed
    assert {d.status for d in deadlines(handle.id).values()} == {"cancelled"}
    assumed = await eventually(
        lambda: [n for n in notices(handle.id) if n.notice == "defence_assumed"]
    )
    assert assumed[0].to == CUSTOMER and assumed[0].cc == PROVIDER + OWNER
    assert "Hale &amp; Dorr LLP" in assumed[0].body_html
    assert "Hale & Dorr LLP" in assumed[0].body_text

    # Past both reminder dates nothing more is sent or escalated.
    await travel_to(time_env, ESCALATION + dt.timedelta(days=1))
    assert {n.notice for n in notices(handle.id)} == {"claim_notice", "defence_assumed"}
    assert escalations(handle.id) == []


async def test_settlement_without_consent_or_full_release_is_refused(
    worker: Client, task_queue: str
) -> None:
    handle = await started(worker, task_queue)
    await record(
        handle, "defence_assumed", {"counsel": "Hale & Dorr LLP", "assumed_on": "2037-12-18"}
    )
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record(
            handle,
            "settlement_agreed",
            {
                "settlement_terms": "Licence fee; Customer stops using the feature",
                "agreed_on": "2037-12-18",
                "customer_consented": False,
                "full_release_without_obligations": False,
            },
        )
    message = str(info.value.cause)
    assert "written consent" in message and "full" in message and "§4" in message
    view = await handle.query(CaseWorkflow.case)
    assert view.state == "defence_assumed" and not view.closed


async def test_settlement_needing_consent_is_escalated_then_settled_with_written_consent(
    worker: Client, task_queue: str
) -> None:
    handle = await started(worker, task_queue)
    await record(
        handle, "defence_assumed", {"counsel": "Hale & Dorr LLP", "assumed_on": "2037-12-18"}
    )
    await record(
        handle,
        "settlement_proposed",
        {
            "settlement_terms": "Licence fee; Customer stops using the feature",
            "proposed_on": "2037-12-18",
            "full_release_without_obligations": False,
        },
    )
    [esc] = escalations(handle.id)
    assert esc.rule == "settlement_proposal_needs_consent"
    proposal = await eventually(
        lambda: [n for n in notices(handle.id) if n.notice == "settlement_proposed"]
    )
    assert proposal[0].to == CUSTOMER and proposal[0].cc == OWNER
    assert "prior written consent" in proposal[0].body_text

    view = await record(
        handle,
        "settlement_agreed",
        {
            "settlement_terms": "Licence fee; Customer stops using the feature",
            "agreed_on": "2037-12-18",
            "customer_consented": True,
            "consent_reference": "GC letter of 18 Dec 2037",
        },
    )
    assert view.state == "settled" and view.closed
    assert (await handle.result()).state == "settled"
    settled = sent(handle.id, "settlement_recorded")
    assert settled.to == CUSTOMER + PROVIDER and settled.cc == OWNER
    assert "consented to the settlement in writing" in settled.body_text
    assert "GC letter of 18 Dec 2037" in settled.body_text


async def test_settlement_with_a_full_release_needs_no_consent(
    worker: Client, task_queue: str
) -> None:
    handle = await started(worker, task_queue)
    await record(
        handle,
        "settlement_proposed",
        {
            "settlement_terms": "Provider pays; claimant releases Customer",
            "proposed_on": "2037-12-18",
            "full_release_without_obligations": True,
        },
    )
    assert escalations(handle.id) == []
    view = await record(
        handle,
        "settlement_agreed",
        {
            "settlement_terms": "Provider pays; claimant releases Customer",
            "agreed_on": "2037-12-18",
            "full_release_without_obligations": True,
        },
    )
    assert view.state == "settled" and view.closed
    await handle.result()
    assert "fully releasing" in sent(handle.id, "settlement_recorded").body_text
    assert {d.status for d in deadlines(handle.id).values()} == {"cancelled"}


async def test_declined_defence_is_escalated_and_final_resolution_closes_the_claim(
    worker: Client, task_queue: str
) -> None:
    handle = await started(worker, task_queue)
    view = await record(
        handle, "defence_declined", {"declined_on": "2037-12-18", "reason": "disputes coverage"}
    )
    assert view.state == "defence_declined"
    [esc] = escalations(handle.id)
    assert esc.rule == "defence_refused"
    declined = await eventually(
        lambda: [n for n in notices(handle.id) if n.notice == "defence_declined"]
    )
    assert declined[0].to == CUSTOMER and "disputes coverage" in declined[0].body_text

    view = await record(
        handle,
        "claim_resolved",
        {"outcome": "dismissed with prejudice", "resolved_on": "2037-12-18"},
    )
    assert view.state == "resolved" and view.closed
    assert (await handle.result()).state == "resolved"
    resolved = sent(handle.id, "claim_resolved")
    assert resolved.to == CUSTOMER + PROVIDER and "dismissed with prejudice" in resolved.body_text
    assert [t.to_state for t in transitions(handle.id)] == [
        "awaiting_defence",
        "defence_declined",
        "resolved",
    ]


async def test_claim_for_an_indemnity_of_the_provider_is_escalated(
    worker: Client, task_queue: str
) -> None:
    handle = await started(worker, task_queue, given_by="provider")
    [esc] = escalations(handle.id)
    assert esc.rule == "flag_claim_for_the_provider"
    [notice] = await eventually(lambda: notices(handle.id))
    # The Provider seeks the indemnity here, so the Customer is the one notified.
    assert notice.to == CUSTOMER and notice.cc == PROVIDER + OWNER
    assert (await handle.query(CaseWorkflow.case)).state == "awaiting_defence"
