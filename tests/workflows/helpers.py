"""Starting cases directly on a workflow environment, and reading what they recorded."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from store.db import get_engine
from store.models import AuditEntry, Deadline, Escalation, Notice, Transition
from store.models import Case as CaseRow
from workers.seed import reference_term_sheet
from workflows.case import (
    ApproveNoticeRequest,
    CaseInput,
    CaseView,
    CaseWorkflow,
    RecordFactRequest,
)

NY = ZoneInfo("America/New_York")
Handle = WorkflowHandle[Any, Any]

# The reference term sheet's notice addresses (workers.seed), written out so that a
# change to the seed shows up as a failing test rather than a silently moved expectation.
CUSTOMER = ["legal@customer.example.com", "contracts@customer.example.com"]
PROVIDER = ["notices@provider.example.com", "legal@provider.example.com"]
OWNER_EMAIL = "contract.owner@customer.example.com"
OWNER = [OWNER_EMAIL]


def at_ny(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    """The UTC instant of a New York wall-clock time.

    Args:
        y: Year.
        m: Month.
        d: Day of the month.
        hh: Hour, New York time.
        mm: Minute.

    Returns:
        The same instant, in UTC.
    """
    return dt.datetime(y, m, d, hh, mm, tzinfo=NY).astimezone(dt.UTC)


async def travel_to(env: WorkflowEnvironment, when: dt.datetime) -> None:
    """Pins the time-skipping server's clock at ``when``, which must not have passed.

    The server's clock starts at the machine's and only moves forward: a test that pins
    it to a moment already past would silently run at another time, so it fails instead.
    """
    now = await env.get_current_time()
    if when < now:
        raise AssertionError(
            f"this test pins the clock at {when.isoformat()}, which has passed (the server "
            f"says {now.isoformat()}): its dates must move forward"
        )
    await env.sleep(when - now)


async def start_case(
    client: Client,
    task_queue: str,
    clause: str,
    facts: dict[str, Any],
    *,
    case_id: str | None = None,
    version: int = 1,
    **options: Any,
) -> WorkflowHandle[Any, Any]:
    """Starts a case of the reference contract straight on Temporal (no ``ready`` yet):
    ``clause`` with ``facts`` on ``task_queue``, as ``case_id`` (else a fresh id), under
    rulebook ``version``; ``options`` are further ``CaseInput`` fields (history_limit, ...).
    """
    case_id = case_id or f"case_{uuid.uuid4().hex}"
    terms = reference_term_sheet()
    case = CaseInput(
        case_id, "ctr_reference_msa", clause, version, terms.model_dump(mode="json"), facts
    )
    # As the API starts a case (lean_from_start), unless ``options`` say otherwise.
    options = {"lean_from_start": True, **options}
    case = dataclasses.replace(case, owner_email=terms.owner.email, **options)
    return await client.start_workflow(CaseWorkflow.run, case, id=case_id, task_queue=task_queue)


async def open_case(
    client: Client, task_queue: str, clause: str, facts: dict[str, Any], **start: Any
) -> WorkflowHandle[Any, Any]:
    """Seeds the reference contract, starts a case and tells it that it is ready.

    Args:
        client: The client to start the workflow with.
        task_queue: The worker's task queue.
        clause: The clause the case follows.
        facts: The opening facts.
        **start: Further keyword arguments for ``start_case``.

    Returns:
        The handle of the running case, past its ``ready`` update.
    """
    seed_reference_contract()
    handle = await start_case(client, task_queue, clause, facts, **start)
    await handle.execute_update(CaseWorkflow.ready)
    return handle


async def record_fact(
    handle: Handle, fact: str, values: dict[str, Any], *, by: str, reason: str | None = None
) -> CaseView:
    """Records a fact on a case through the ``record_fact`` update.

    Args:
        handle: The case.
        fact: The fact's name.
        values: The fact's values.
        by: Who records it.
        reason: Why, if the test gives a reason.

    Returns:
        The case as the update left it.
    """
    return await handle.execute_update(
        CaseWorkflow.record_fact, RecordFactRequest(fact, values, by, reason)
    )


#: The activities that write a step's records (one activity a step, and before it).
RECORDING = frozenset({"record_step_and_notices", "record_step"})
#: How long :func:`in_state` waits for them: a test whose recording fails on purpose
#: gets the view after this.
RECORD_WAIT = 5.0


async def in_state(handle: Handle, state: str, timeout: float = 10.0) -> CaseView:
    """Polls the case query until the case is in ``state`` (activities run concurrently).

    Args:
        handle: The case.
        state: The state to wait for.
        timeout: Seconds to wait before failing.

    Returns:
        The case once it is in ``state``.

    Raises:
        AssertionError: The case was not in ``state`` within ``timeout``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        view = await handle.query(CaseWorkflow.case)
        if view.state == state:
            break
        if loop.time() > deadline:
            raise AssertionError(f"case stayed {view.state}, expected {state}")
        await asyncio.sleep(0.05)
    # The query shows a state as soon as the workflow decides it; the activity that
    # records the step may still be running. Waits (a while) for it, so that a test
    # reading the store next finds the step's rows, however slow the machine is.
    recorded_by = loop.time() + RECORD_WAIT
    while RECORDING.intersection(view.inflight_activities) and loop.time() < recorded_by:
        await asyncio.sleep(0.05)
        view = await handle.query(CaseWorkflow.case)
    return view


def seed_reference_contract() -> None:
    from workers.seed import ensure_reference_contract

    with Session(get_engine()) as session:
        ensure_reference_contract(session)


def notices(case_id: str) -> list[Notice]:
    with Session(get_engine()) as s:
        return list(
            s.exec(select(Notice).where(Notice.case_id == case_id).order_by(col(Notice.created_at)))
        )


def notices_of(case_id: str, notice: str) -> list[Notice]:
    """The notices of one kind recorded for a case, oldest first.

    Args:
        case_id: The case.
        notice: The notice's kind, e.g. ``"acknowledgement"``.

    Returns:
        Every such notice; empty if none has been recorded yet.
    """
    return [n for n in notices(case_id) if n.notice == notice]


def sent(case_id: str, notice: str) -> Notice:
    """The first notice of one kind recorded for a case.

    Args:
        case_id: The case.
        notice: The notice's kind.

    Returns:
        The oldest such notice.

    Raises:
        StopIteration: None has been recorded.
    """
    return next(n for n in notices(case_id) if n.notice == notice)


def transitions(case_id: str) -> list[Transition]:
    with Session(get_engine()) as s:
        return list(
            s.exec(
                select(Transition)
                .where(Transition.case_id == case_id)
                .order_by(col(Transition.step))
            )
        )


def deadlines(case_id: str) -> dict[str, Deadline]:
    with Session(get_engine()) as s:
        return {d.name: d for d in s.exec(select(Deadline).where(Deadline.case_id == case_id))}


def audit(case_id: str, action: str | None = None) -> list[AuditEntry]:
    """The case's audit trail in order, or only its entries of ``action``."""
    with Session(get_engine()) as s:
        query = select(AuditEntry).where(AuditEntry.case_id == case_id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(s.exec(query.order_by(col(AuditEntry.id))))


def case_row(case_id: str) -> CaseRow | None:
    with Session(get_engine()) as s:
        return s.get(CaseRow, case_id)


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Polls ``predicate`` until it returns something truthy (activities run concurrently)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


def fired_at(actual: dt.datetime, expected: dt.datetime) -> bool:
    """A timer fires at its instant or a moment after, never before."""
    return dt.timedelta(0) <= actual - expected < dt.timedelta(minutes=1)


def escalations(case_id: str) -> list[Escalation]:
    """The escalations recorded for a case."""
    with Session(get_engine()) as s:
        return list(s.exec(select(Escalation).where(Escalation.case_id == case_id)))


def clock_at(when: dt.datetime) -> Any:
    """An autouse fixture for a module: each test's time-skipping server starts at ``when``.

    Use as ``_clock = clock_at(...)`` at module level.
    """

    @pytest.fixture(autouse=True)
    async def _clock(time_env: WorkflowEnvironment) -> None:
        await travel_to(time_env, when)

    return _clock


@dataclasses.dataclass
class Case:
    """A running case and what it has recorded, as one test sees it.

    Facts are recorded by ``by`` (with ``reason``) unless a call names someone else.
    """

    handle: Handle
    env: WorkflowEnvironment
    by: str = "owner"
    reason: str | None = None

    @property
    def id(self) -> str:
        return self.handle.id

    async def ready(self) -> CaseView:
        """Tells the case that it is ready (its start is recorded) and returns its view."""
        return await self.handle.execute_update(CaseWorkflow.ready)

    async def view(self) -> CaseView:
        return await self.handle.query(CaseWorkflow.case)

    async def state(self) -> str:
        return (await self.view()).state

    async def ended(self) -> str:
        """Waits for the case's run to end; returns the state it ended in."""
        return (await self.handle.result()).state

    async def closes_as(self, view: CaseView, state: str) -> None:
        """The view shows the case closed in ``state``, and its run ends there."""
        assert (view.state, view.closed) == (state, True)
        assert await self.ended() == state

    async def record(
        self,
        fact: str,
        values: dict[str, Any] | None = None,
        *,
        by: str | None = None,
        **more: Any,
    ) -> CaseView:
        """Records ``fact`` with ``values`` (and ``more`` values) through ``record_fact``."""
        values = {**(values or {}), **more}
        return await record_fact(self.handle, fact, values, by=by or self.by, reason=self.reason)

    async def refused(self, fact: str, values: dict[str, Any] | None = None, **more: Any) -> str:
        """Records ``fact``, which the case must refuse; returns why it did."""
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await self.record(fact, values, **more)
        return str(info.value.cause)

    async def in_state(self, state: str) -> CaseView:
        return await in_state(self.handle, state)

    async def run_to(self, when: dt.datetime, state: str) -> CaseView:
        """Moves the server's clock on to ``when`` and waits for the case to be in ``state``."""
        await travel_to(self.env, when)
        return await self.in_state(state)

    async def approve(self, notice_key: str, by: str, reason: str | None = None) -> CaseView:
        """A person approves a held notice through the ``approve_notice`` update."""
        request = ApproveNoticeRequest(notice_key, by, reason)
        return await self.handle.execute_update(CaseWorkflow.approve_notice, request)

    def notices(self) -> list[Notice]:
        return notices(self.id)

    def kinds(self) -> list[str]:
        """The kinds of the notices recorded, oldest first."""
        return [n.notice for n in self.notices()]

    def notices_of(self, notice: str) -> list[Notice]:
        return notices_of(self.id, notice)

    def sent(self, notice: str) -> Notice:
        """The first notice of a kind (it must have been recorded)."""
        return sent(self.id, notice)

    def by_kind(self) -> dict[str, Notice]:
        return {n.notice: n for n in self.notices()}

    def by_key(self) -> dict[str, Notice]:
        return {n.notice_key: n for n in self.notices()}

    def only(self, notice: str) -> Notice:
        """The notice of a kind, which must have gone out exactly once."""
        (only,) = self.notices_of(notice)
        return only

    async def sent_once(self, notice: str) -> Notice:
        """Waits for a notice of a kind, which must then have gone out exactly once."""
        await eventually(lambda: self.notices_of(notice))
        return self.only(notice)

    async def eventually_sent(self, notice: str) -> Notice:
        """Waits for the first notice of a kind (activities run concurrently)."""
        found = await eventually(lambda: self.notices_of(notice))
        return found[0]

    def deadlines(self) -> dict[str, Deadline]:
        return deadlines(self.id)

    def deadline_statuses(self) -> set[str]:
        return {d.status for d in self.deadlines().values()}

    def path(self) -> list[tuple[str, str]]:
        """The case's transitions in order, as (from, to) states."""
        return [(t.from_state, t.to_state) for t in transitions(self.id)]

    def escalations(self) -> list[Escalation]:
        """The case's escalations in step order."""
        return sorted(escalations(self.id), key=lambda e: e.step)

    def escalation_rules(self) -> list[str]:
        return [e.rule for e in self.escalations()]

    def row(self) -> CaseRow:
        """The case's row in the store, which must exist."""
        row = case_row(self.id)
        assert row is not None, f"no row for {self.id}"
        return row

    async def escalated(self) -> CaseRow:
        """Waits until the case's row is flagged for a person; returns it."""
        row: CaseRow = await eventually(lambda: (r := case_row(self.id)) and r.escalated and r)
        return row


@dataclasses.dataclass
class Clause:
    """Opens cases of one clause on a test's worker, with its usual start facts."""

    env: WorkflowEnvironment
    task_queue: str
    name: str
    facts: dict[str, Any]
    by: str = "owner"
    reason: str | None = None

    async def travel(self, when: dt.datetime) -> None:
        """Moves the test server's clock on to ``when``."""
        await travel_to(self.env, when)

    async def start(self, facts: dict[str, Any] | None = None, /, **start: Any) -> Case:
        """Seeds the reference contract and starts a case with the usual facts, ``facts``
        over them; ``start`` goes to ``start_case``. The case is not told it is ready."""
        seed_reference_contract()
        facts = {**self.facts, **(facts or {})}
        handle = await start_case(self.env.client, self.task_queue, self.name, facts, **start)
        return Case(handle, self.env, self.by, self.reason)

    async def open(self, facts: dict[str, Any] | None = None, /, **start: Any) -> Case:
        """Starts a case as ``start`` does and tells it that it is ready."""
        case = await self.start(facts, **start)
        await case.ready()
        return case

    async def lapsed(self, when: dt.datetime, state: str, notice: str) -> tuple[Case, CaseView]:
        """A case opened with the usual facts whose clock ran on to ``when`` (past a period
        it let lapse): it is in ``state`` and has recorded ``notice``."""
        case = await self.open()
        view = await case.run_to(when, state)
        await case.eventually_sent(notice)
        return case, view


def markers_and_upserts(events: Any) -> tuple[list[str], set[str]]:
    """The marker names a history's ``events`` record, and the search attributes they
    upsert (a patch brings a ``core_patch`` marker and an upsert of
    ``TemporalChangeVersion``)."""
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in events
        if e.HasField("marker_recorded_event_attributes")
    ]
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes
        for e in events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    upserted = {key for attributes in upserts for key in attributes.indexed_fields}
    return markers, upserted
