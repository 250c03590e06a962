"""The judging: each case read once none of its activities is pending, its rows read at
the same moment, and the summary of what survived."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bench.chaos.calls import retrying, stop_if_cancelled


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
