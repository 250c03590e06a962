"""The judging: each case read once none of its activities is pending, its rows read at
the same moment, and the summary of what survived."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus

from bench.chaos.calls import retrying, stop_if_cancelled

if TYPE_CHECKING:
    from bench.chaos.driving import Outcome


@dataclass
class Summary:
    cases: int = 0
    at_end_state: int = 0
    not_at_end_state: list[str] = field(default_factory=list)
    notices_expected: int = 0
    notices_sent: int = 0
    duplicated: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    #: Cases whose whole history does not replay on the workflow code (nondeterminism).
    not_replayable: list[str] = field(default_factory=list)
    invalid_requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    worker_exits: dict[str, int] = field(default_factory=dict)
    #: Processes that ended without the run ending them, each with a line of its log.
    unexpected_exits: list[str] = field(default_factory=list)
    #: Where the logs went (they outlive the run's temporary folder), if kept.
    logs_kept: str = ""
    seconds: float = 0.0
    slowest: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (
            self.not_at_end_state
            or self.duplicated
            or self.lost
            or self.stray
            or self.mismatches
            or self.escalated
            or self.not_replayable
            or self.invalid_requests
        )


@dataclass
class Judged:
    """Each case's (view, description) once settled, or why it could not be read."""

    cases: dict[str, tuple[Any, Any] | Exception]
    rows: Any


def _busy(desc: Any) -> list[str]:
    """What a case is still doing: its pending activities and workflow task."""
    raw = desc.raw_description
    busy = [f"{a.activity_type.name} (attempt {a.attempt})" for a in raw.pending_activities]
    if raw.HasField("pending_workflow_task"):
        busy.append("a workflow task")
    return busy


async def settled(
    handle: Any, query: Callable[[Any], Awaitable[Any]], until: float, poll: float
) -> tuple[Any, Any]:
    """The case's view and description once nothing of it is pending.

    Raises:
        RuntimeError: It was still busy at ``until`` (the error says with what).
    """
    while True:
        desc = await retrying(handle.describe, until, f"describe {handle.id}")
        busy = _busy(desc)
        if not busy:
            view = await retrying(lambda: query(handle), until, f"query {handle.id}")
            return view, desc
        if time.monotonic() > until:
            raise RuntimeError(f"still pending when judged: {', '.join(busy)}")
        await asyncio.sleep(poll)


async def settle_all(
    handles: list[Any],
    query: Callable[[Any], Awaitable[Any]],
    read: Callable[[], Any],
    until: float,
    poll: float,
    rounds: int = 5,
) -> Judged:
    """Settles every case, then reads the rows (``read``); cases whose history moved
    meanwhile are settled and read again, so views and rows are of the same moment."""
    cases: dict[str, tuple[Any, Any] | Exception] = {}
    todo = list(handles)
    rows: Any = None
    for _ in range(rounds):
        for handle in todo:
            try:
                cases[handle.id] = await settled(handle, query, until, poll)
            except Exception as exc:
                stop_if_cancelled()
                cases[handle.id] = exc
        rows = await asyncio.to_thread(read)
        moved = []
        for handle in handles:
            found = cases[handle.id]
            if isinstance(found, Exception):
                continue
            with contextlib.suppress(Exception):
                now = await handle.describe()
                if now.history_length != found[1].history_length or _busy(now):
                    moved.append(handle)
        if not moved:
            break
        todo = moved
    return Judged(cases, rows)


def read_rows(
    engine: Engine, case: Any, notice: Any
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Case rows by id, and notice rows by case id."""
    with Session(engine) as session:
        rows = {c.id: c for c in session.exec(select(case))}
        notice_rows: dict[str, list[Any]] = {}
        for nrow in session.exec(select(notice)):
            notice_rows.setdefault(nrow.case_id, []).append(nrow)
    return rows, notice_rows


def judge(summary: Summary, outcomes: list[Outcome], judged: Judged, mock: Any) -> None:
    """Fills ``summary`` from the settled cases, their rows and what the mock accepted.

    Every case must be in its expected end state; every notice a workflow recorded must be
    'sent' in its row and accepted exactly once (202s per ``custom_args.notice_id``); the
    mock must have accepted nothing that no notice row accounts for; each case row must
    agree with the workflow (query and describe).
    """
    rows, notice_rows = judged.rows
    summary.cases = len(outcomes)
    summary.slowest = [
        f"{o.case_id} ({o.scenario.name}): done after {o.seconds:.0f} s"
        for o in sorted(outcomes, key=lambda o: -o.seconds)[:3]
    ]
    accepted: dict[str, list[str]] = {}
    for r in mock.sends:
        if r.status == 202:
            accepted.setdefault(r.custom_args.get("notice_id", "?"), []).append(r.message_id or "")
    summary.invalid_requests = len(mock.invalid)
    known: set[str] = set()
    for o in outcomes:
        s = o.scenario
        found = judged.cases[o.case_id]
        if isinstance(found, Exception):
            summary.not_at_end_state.append(f"{o.case_id} ({s.name}): {found}")
            continue
        view, desc = found
        at_end = view.state == s.end_state and view.closed == s.closed
        at_end = at_end and not view.held_notices and o.done
        if at_end:
            summary.at_end_state += 1
        else:
            summary.not_at_end_state.append(
                f"{o.case_id} ({s.name}): {view.state} closed={view.closed} "
                f"held={view.held_notices} {o.problem or ''}"
            )
        # Rules escalate on purpose (a lapsed cure period); a notice must never.
        failed = [e for e in view.escalations if e.startswith("notice ")]
        if failed:
            summary.escalated.append(f"{o.case_id} ({s.name}): {failed}")
        # The database agrees with Temporal.
        row = rows.get(o.case_id)
        # Completed exactly when the case is closed with nothing left to approve.
        finished = view.closed and not view.held_notices
        status = WorkflowExecutionStatus.COMPLETED if finished else WorkflowExecutionStatus.RUNNING
        attrs = {p.key.name: p.value for p in desc.typed_search_attributes}
        if row is None:
            summary.mismatches.append(f"{o.case_id}: no case row")
        elif (row.state, row.closed) != (view.state, view.closed):
            summary.mismatches.append(
                f"{o.case_id}: row {row.state}/{row.closed}, workflow {view.state}/{view.closed}"
            )
        if attrs.get("CaseState") != view.state or desc.status != status:
            summary.mismatches.append(
                f"{o.case_id}: CaseState {attrs.get('CaseState')} status {desc.status}, "
                f"query {view.state}"
            )
        # Every notice the workflow recorded is sent, once.
        _judge_notices(summary, o.case_id, view, notice_rows.get(o.case_id, []), accepted, known)
    for nid, got in accepted.items():
        if nid not in known:
            summary.stray.append(f"{nid}: accepted {len(got)}x, no case expects it")


def _judge_notices(
    summary: Summary,
    case_id: str,
    view: Any,
    stored_rows: list[Any],
    accepted: dict[str, list[str]],
    known: set[str],
) -> None:
    """Each notice the case's workflow recorded: sent in its row, accepted once; and any
    row the workflow does not list (stray). Adds the notice ids it accounts for to ``known``."""
    from activities.notices import notice_id_for

    by_key = {n.notice_key: n for n in stored_rows}
    expected = list(view.notices)
    summary.notices_expected += len(expected)
    for key in expected:
        nid = notice_id_for(case_id, key)
        known.add(nid)
        got = accepted.get(nid, [])
        stored = by_key.get(key)
        if len(got) > 1:
            summary.duplicated.append(f"{nid} ({case_id} {key}): {len(got)} accepted")
        if not got or stored is None or stored.status != "sent":
            state = "no row" if stored is None else f"{stored.status} {stored.error or ''}"
            summary.lost.append(f"{nid} ({case_id} {key}): {len(got)} accepted, {state}")
        elif stored.provider_message_id not in got:
            summary.mismatches.append(
                f"{nid}: row says {stored.provider_message_id}, SendGrid accepted {got}"
            )
        elif len(got) == 1:
            summary.notices_sent += 1
    for key, nrow in by_key.items():
        if key not in expected:
            known.add(nrow.id)
            summary.stray.append(f"{nrow.id} ({case_id} {key}): {nrow.status}")


async def replay_all(histories: dict[str, Any], replayer: Any) -> list[str]:
    """The cases whose history does not replay, each with why: a worker that loses its
    cache (killed, restarted, or answering a query) must come back to the same place."""
    failed = []
    for case_id, history in histories.items():
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failed.append(f"{case_id}: {result.replay_failure}")
    return failed
