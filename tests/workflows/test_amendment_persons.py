"""Four eyes per person: the workflow compares the persons behind credentials, not names.

A person may hold several credentials (a console session, tokens), each with its own
name in the audit trail; the second approver of an amendment must be another person.
Requests recorded before persons were carried have none, and then names decide, as
they always did (the refusal runs again when such a history is replayed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from tests.dates import notice_days_ago
from tests.workflows.helpers import open_case
from workflows.case import AmendDeadlineRequest, CaseWorkflow, DecideAmendmentRequest

ALICE = "user:usr_alice"
BOB = "user:usr_bob"
Handle = WorkflowHandle[Any, Any]


async def _termination(worker: Client, task_queue: str) -> tuple[Handle, dt.datetime]:
    """A termination case noticed two days ago, and the effective date a week later."""
    facts = {"notice_received_at": notice_days_ago(2), "given_by": "customer"}
    handle = await open_case(worker, task_queue, "termination_for_convenience", facts)
    view = await handle.query(CaseWorkflow.case)
    due = next(d for d in view.deadlines if d.name == "effective_date").due_at
    return handle, due + dt.timedelta(days=7)


async def _proposed(handle: Handle, to: dt.datetime, actor: str, person: str | None) -> str:
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest("effective_date", to, "a week more", actor, person=person),
    )
    assert view.amendment_id is not None
    [pending] = view.pending_amendments
    assert pending.proposed_by_person == person
    return view.amendment_id


async def _approve(handle: Handle, amendment: str, actor: str, person: str | None) -> Any:
    return await handle.execute_update(
        CaseWorkflow.decide_amendment,
        DecideAmendmentRequest(amendment, True, actor, "checked", person=person),
    )


async def _refused(handle: Handle, amendment: str, actor: str, person: str | None) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await _approve(handle, amendment, actor, person)
    message = str(info.value.cause)
    assert "a second person must approve it" in message, message
    return message


async def test_two_credentials_of_one_person_cannot_propose_and_approve(
    worker: Client, task_queue: str
) -> None:
    handle, later = await _termination(worker, task_queue)
    amendment = await _proposed(handle, later, "alice@example.com (token laptop)", ALICE)
    for actor in ("alice@example.com (token ci)", "alice@example.com"):
        message = await _refused(handle, amendment, actor, ALICE)
        assert f"{actor} is the same person" in message

    view = await _approve(handle, amendment, "bob@example.com (token ci)", BOB)
    assert view.pending_amendments == []
    effective = next(d for d in view.deadlines if d.name == "effective_date")
    assert effective.due_at == later


async def test_without_persons_names_decide_as_before(worker: Client, task_queue: str) -> None:
    handle, later = await _termination(worker, task_queue)
    amendment = await _proposed(handle, later, "token:alice", None)
    await _refused(handle, amendment, "token:alice", None)
    # The same name is refused even when one side names a person.
    await _refused(handle, amendment, "token:alice", BOB)
    view = await _approve(handle, amendment, "token:bob", None)
    assert view.pending_amendments == []
