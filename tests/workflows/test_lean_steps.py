"""A case costs one local activity an event and one activity a step, and a step's
record carries ids and what changed, not the case (issue 14)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from activities.steps import terms_digest
from activities.types import StepRecordInput
from tests.workflows.helpers import notices, seed_reference_contract, start_case
from workers.seed import reference_term_sheet


def _received(days_ago: int) -> str:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    return at.isoformat().replace("+00:00", "Z")


async def _whole_case(worker: Client, task_queue: str, **start: Any) -> Any:
    """A termination case whose notice arrived long enough ago that it runs its whole life
    at once: acknowledgement, three reminders, the termination effective."""
    seed_reference_contract()
    handle = await start_case(
        worker,
        task_queue,
        "termination_for_convenience",
        {"notice_received_at": _received(100), "given_by": "provider"},
        case_id=f"case_{uuid.uuid4().hex}",
        version=3,
        past_deadlines="as_scheduled",
        **start,
    )
    await handle.result()
    return handle


async def _record_inputs(worker: Client, handle: Any) -> list[StepRecordInput]:
    """The inputs of the case's record_step_and_notices activities, in order."""
    inputs: list[StepRecordInput] = []
    for e in (await handle.fetch_history()).events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            payloads = e.activity_task_scheduled_event_attributes.input.payloads
            [inp] = await worker.data_converter.decode(payloads, [StepRecordInput])
            inputs.append(inp)
    return inputs


async def test_each_step_is_one_local_activity_and_one_activity(
    worker: Client, task_queue: str
) -> None:
    handle = await _whole_case(worker, task_queue)
    events = (await handle.fetch_history()).events
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    # Five steps: started, three reminders, effective. Each writes its notice with its
    # record (the outbox), and the rules' one local activity decided it.
    assert scheduled == ["record_step_and_notices"] * 5
    # One local activity a step; the rulebook's summary is read in workflow code.
    assert markers.count("core_local_activity") == 5
    assert len(notices(handle.id)) == 5


async def test_later_records_carry_what_changed_and_never_the_terms_again(
    worker: Client, task_queue: str
) -> None:
    handle = await _whole_case(worker, task_queue)
    inputs = await _record_inputs(worker, handle)
    first, *later = inputs
    # The first names the term sheet; the store knows it (the contract's own).
    assert first.terms is None and first.facts["given_by"] == "provider"
    assert first.terms_sha256 == terms_digest(reference_term_sheet().model_dump(mode="json"))
    assert {d.name for d in first.deadlines} >= {"effective_date", "reminder_60"}
    for step in later:
        assert step.terms is None and step.terms_sha256 is None
        assert step.facts == {} and step.deadlines == []
    # Reaching a deadline changes its status only, and only its status travels.
    assert later[0].deadline_status == {"reminder_60": "reached"}
    assert later[-1].deadline_status == {"effective_date": "reached"}
    assert later[-1].closed and later[-1].state == "terminated"


async def test_a_term_sheet_the_store_does_not_know_is_asked_for_and_kept(
    worker: Client, task_queue: str
) -> None:
    # The case runs on other terms than its contract's (say, a side letter's).
    terms = reference_term_sheet().model_dump(mode="json")
    terms["reference"] = "MSA-REFERENCE (side letter 1)"
    handle = await _whole_case(worker, task_queue, terms=terms)
    inputs = await _record_inputs(worker, handle)
    # Asked by its digest, not known: sent once, then kept with the case.
    assert inputs[0].terms is None and inputs[0].terms_sha256 == terms_digest(terms)
    assert inputs[1].step == inputs[0].step and inputs[1].terms == terms
    assert all(i.terms is None for i in inputs[2:]) and len(inputs) == 6
    assert len(notices(handle.id)) == 5
