"""Facts that come in late, and facts a case cannot run, on the time-skipping server.

The server's clock starts at the machine's, so every date here counts back from it: a
termination notice received long enough ago that its deadlines have passed by the time
the case is told of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from store.models import Notice
from tests.dates import described
from tests.workflows.helpers import (
    NY,
    audit,
    case_row,
    deadlines,
    escalations,
    eventually,
    in_state,
    notices,
    open_case,
    record_fact,
)
from workers.seed import reference_term_sheet
from workflows.case import ApproveNoticeRequest, CaseWorkflow, CloseCaseRequest

CLAUSE = "termination_for_convenience"
EFFECTIVE = reference_term_sheet().effective_date


async def _received(env: WorkflowEnvironment, days_ago: int) -> dict[str, str]:
    """A termination notice received ``days_ago`` days before the server's clock, 10:00."""
    now = (await env.get_current_time()).astimezone(NY)
    received = (now - dt.timedelta(days=days_ago)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    return {"notice_received_at": received.isoformat(), "given_by": "customer"}


def _by_notice(case_id: str) -> dict[str, Notice]:
    return {n.notice: n for n in notices(case_id)}


async def test_a_notice_told_after_its_effective_date_skips_the_reminders_and_holds_the_notices(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await open_case(worker, task_queue, CLAUSE, await _received(time_env, 100))
    # The effective date (90 days after receipt) has passed: the termination has happened.
    await in_state(handle, "terminated")
    dls = await eventually(
        lambda: (d := deadlines(handle.id)) and d["effective_date"].status == "reached" and d
    )
    assert {dls[n].status for n in ("reminder_60", "reminder_30", "reminder_7")} == {"skipped"}

    sent = await eventually(
        lambda: (n := _by_notice(handle.id)) and "termination_effective" in n and n
    )
    # Nothing to the other party goes out on its own: both wait for a person.
    assert set(sent) == {"acknowledgement", "termination_effective"}
    assert {n.status for n in sent.values()} == {"awaiting_approval"}
    assert not any(n.notice == "owner_reminder" for n in notices(handle.id))

    entries = audit(handle.id, "catch_up")
    assert entries and {e.actor for e in entries} == {"Clauseflow"}
    skipped = [n for e in entries for n in e.after["skipped"]]
    held = [n for e in entries for n in e.after["held_for_approval"]]
    assert skipped == ["owner_reminder"] * 3
    assert sorted(held) == ["acknowledgement", "termination_effective"]
    assert all("had passed when the case learned of it" in (e.reason or "") for e in entries)

    # A person approves them (once the case holds both); then they go out and it ends.
    view = await in_state(handle, "terminated")
    while len(view.held_notices) < 2:
        await asyncio.sleep(0.05)
        view = await handle.query(CaseWorkflow.case)
    for key in view.held_notices:
        await handle.execute_update(
            CaseWorkflow.approve_notice, ApproveNoticeRequest(key, "counsel", "checked")
        )
    assert (await handle.result()).state == "terminated"
    assert {n.status for n in notices(handle.id)} == {"outboxed"}


async def test_a_notice_told_between_its_reminders_skips_only_the_passed_one(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    handle = await open_case(worker, task_queue, CLAUSE, await _received(time_env, 40))
    # 60 days before the effective date was about ten days ago; 30 and 7 are still ahead.
    dls = await eventually(
        lambda: (d := deadlines(handle.id)) and d["reminder_60"].status != "pending" and d
    )
    assert dls["reminder_60"].status == "skipped"
    assert {dls[n].status for n in ("reminder_30", "reminder_7", "effective_date")} == {"pending"}
    # The acknowledgement speaks of an effective date still ahead: it goes out at once.
    ack = await eventually(lambda: _by_notice(handle.id).get("acknowledgement"))
    assert ack.status == "outboxed"
    assert not any(n.notice == "owner_reminder" for n in notices(handle.id))
    [entry] = audit(handle.id, "catch_up")
    assert entry.after == {"skipped": ["owner_reminder"], "held_for_approval": []}


async def test_a_case_opened_as_scheduled_acts_on_its_past_deadlines_at_once(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    # Benchmarks and chaos runs open cases in the past on purpose, and say so.
    handle = await open_case(
        worker,
        task_queue,
        CLAUSE,
        await _received(time_env, 100),
        past_deadlines="as_scheduled",
    )
    assert (await handle.result()).state == "terminated"
    kinds = sorted(n.notice for n in notices(handle.id))
    reminders = ["owner_reminder"] * 3
    assert kinds == ["acknowledgement", *reminders, "termination_effective"]
    assert {n.status for n in notices(handle.id)} == {"outboxed"}
    assert audit(handle.id, "catch_up") == []


async def test_a_fact_dated_before_the_notice_that_opened_the_case_is_refused(
    worker: Client, task_queue: str, time_env: WorkflowEnvironment
) -> None:
    facts = await _received(time_env, 5)
    handle = await open_case(worker, task_queue, CLAUSE, facts)
    received = dt.datetime.fromisoformat(facts["notice_received_at"]).date()
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record_fact(
            handle,
            "withdrawal_agreed",
            {
                "customer_signatory": "A",
                "provider_signatory": "B",
                "agreed_on": (received - dt.timedelta(days=1)).isoformat(),
            },
            by="ops",
        )
    assert (
        "values.agreed_on is before the fact that opened the case (When the termination notice "
        f"was received: {described(received)} 10:00 New York time)"
    ) in str(info.value.cause)
    before_contract = (EFFECTIVE - dt.timedelta(days=1)).isoformat()
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await record_fact(
            handle,
            "withdrawal_agreed",
            {"customer_signatory": "A", "provider_signatory": "B", "agreed_on": before_contract},
            by="ops",
        )
    assert "values.agreed_on is before the contract's effective date" in str(info.value.cause)
    assert (await handle.query(CaseWorkflow.case)).state == "notice_period_running"


async def test_a_case_whose_first_step_cannot_be_taken_says_why_and_waits_to_be_closed(
    worker: Client, task_queue: str
) -> None:
    # Past the API's checks (a start made straight on Temporal): the deadlines overflow.
    facts = {"notice_received_at": "9999-12-01T15:00:00Z", "given_by": "customer"}
    handle = await open_case(worker, task_queue, CLAUSE, facts)
    view = await handle.query(CaseWorkflow.case)
    assert view.state == "could_not_start" and not view.closed
    assert view.state_label.startswith("Could not start")
    [open_escalation] = view.open_escalations
    assert open_escalation.reason.startswith("the case could not take its first step: deadline")
    assert "cannot be computed from the case's facts" in open_escalation.reason

    row = await eventually(lambda: case_row(handle.id))
    assert row.state == "could_not_start" and row.escalated
    assert row.escalation_reason == open_escalation.reason
    assert [e.rule for e in escalations(handle.id)] == ["could_not_start"]
    assert notices(handle.id) == [] and deadlines(handle.id) == {}
    with pytest.raises(WorkflowUpdateFailedError):
        await record_fact(
            handle,
            "withdrawal_agreed",
            {"customer_signatory": "A", "provider_signatory": "B", "agreed_on": str(EFFECTIVE)},
            by="ops",
        )

    await handle.execute_update(
        CaseWorkflow.close_case, CloseCaseRequest("cancelled", "ops", "opened with a typo")
    )
    assert (await handle.result()).state == "cancelled"


def test_both_sides_of_the_catch_up_patch_are_recorded_for_replay() -> None:
    """Cases told late before the catch-up sent everything at once and still replay (no
    patch marker); cases after it replay the skipped reminders and held notices."""
    folder = Path(__file__).parents[1] / "histories"

    def history(name: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = json.loads((folder / f"{name}.json").read_text())["events"]
        return events

    def count(events: list[dict[str, Any]], kind: str, text: str = "") -> int:
        return sum(1 for e in events if e["eventType"] == kind and text in json.dumps(e))

    before = history("termination_for_convenience.v1.told_late_sent_at_once")
    after = history("termination_for_convenience.v1.told_late_caught_up")
    marker = "EVENT_TYPE_MARKER_RECORDED"
    assert count(before, marker, "core_patch") == 0 and count(after, marker, "core_patch") == 1
    # Before: five notices sent, nothing approved; after: two approved, the reminders skipped.
    updates = "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED"
    assert count(before, updates, "approve_notice") == 0
    assert count(after, updates, "approve_notice") == 2
    failed = history("termination_for_convenience.v1.could_not_start_then_cancelled")
    assert count(failed, updates, "close_case") == 1
