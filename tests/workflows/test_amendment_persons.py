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
from temporalio.testing import WorkflowEnvironment

from tests.workflows.helpers import at_ny, open_case, travel_to
from workflows.case import AmendDeadlineRequest, CaseWorkflow, DecideAmendmentRequest

TERMINATION = {"notice_received_at": "2037-12-01T15:00:00Z", "given_by": "customer"}
ALICE = "user:usr_alice"
BOB = "user:usr_bob"
Handle = WorkflowHandle[Any, Any]


@pytest.fixture(autouse=True)
async def _late_november_2037(time_env: WorkflowEnvironment) -> None:
    await travel_to(time_env, dt.datetime(2037, 11, 27, 12, tzinfo=dt.UTC))


async def _proposed(handle: Handle, actor: str, person: str | None) -> str:
    view = await handle.execute_update(
        CaseWorkflow.amend_deadline,
        AmendDeadlineRequest(
            "effective_date", at_ny(2038, 3, 15), "two more weeks", actor, person=person
        ),
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
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    amendment = await _proposed(handle, "alice@example.com (token laptop)", ALICE)
    for actor in ("alice@example.com (token ci)", "alice@example.com"):
        message = await _refused(handle, amendment, actor, ALICE)
        assert f"{actor} is the same person" in message

    view = await _approve(handle, amendment, "bob@example.com (token ci)", BOB)
    assert view.pending_amendments == []
    effective = next(d for d in view.deadlines if d.name == "effective_date")
    assert effective.due_at == at_ny(2038, 3, 15)


async def test_without_persons_names_decide_as_before(worker: Client, task_queue: str) -> None:
    handle = await open_case(worker, task_queue, "termination_for_convenience", TERMINATION)
    amendment = await _proposed(handle, "token:alice", None)
    await _refused(handle, amendment, "token:alice", None)
    # The same name is refused even when one side names a person.
    await _refused(handle, amendment, "token:alice", BOB)
    view = await _approve(handle, amendment, "token:bob", None)
    assert view.pending_amendments == []
