"""What operators ask of the case list: which cases are stuck or escalated, and why.

A case is *stuck* when either

- one of its activities keeps failing: Temporal retries it, and the worker's activity
  interceptor (``activities/failures.py``) keeps the attempt count, when it started
  failing and the last failure's message on the case row, so the list can filter on
  them with an index; the case page reads the live detail from Temporal itself
  (:func:`live_activities`); or
- it has stayed in its state longer than its rulebook expects for that state
  (``expected_dwell_days``): ``record_step`` stores the instant that happens as
  ``dwell_overdue_at``; or
- its workflow has not taken its first step: the API writes the row before it starts
  the workflow (``api/case_start.py``), and a row still at step 0 after
  ``stuck_after_seconds`` means no worker has run it (or its first step keeps failing);
  or
- its first step failed for good (impossible facts): the workflow records the reserved
  state ``could_not_start`` with an escalation saying why, and waits for an operator.

A case is *escalated* when a rule escalated it and no one has resolved that yet.

Every filter is a comparison on an indexed column, so the list and its counts stay
index reads at 100,000 cases (see ``tests/store/test_case_list_indexes.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from sqlalchemy import and_, false, or_, true, tuple_, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select
from temporalio.client import Client

from contracts.calendar import describe_instant
from rules.rulebook import COULD_NOT_START, default_registry
from runtime.settings import Settings
from store.cases import OPENING_STATE
from store.models import (
    WORKFLOW_TASK,
    Case,
    CaseCount,
    Contract,
    Deadline,
    DeadlineAmendment,
    Notice,
)


@dataclass
class CaseFilters:
    """The case list's filters; None means "any"."""

    clause: str | None = None
    state: str | None = None
    contract_id: str | None = None
    escalated: bool | None = None
    stuck: bool | None = None
    within_days: int | None = None


@dataclass
class CaseRow:
    """One case of the list with what the console shows beside it."""

    case: Case
    zone: str
    stuck_reasons: list[str] = field(default_factory=list)
    #: The case's deadlines, earliest first.
    deadlines: list[Deadline] = field(default_factory=list)

    @property
    def escalation_reason(self) -> str | None:
        # A case that could not start says so in its stuck badge, in the same words.
        if self.case.state == COULD_NOT_START:
            return None
        return self.case.escalation_reason if self.case.escalated else None


@dataclass(frozen=True)
class CaseKey:
    """Where a case stands in the list's order: its next deadline (none: after every
    deadline), then its id. Total: no two cases share a key."""

    deadline: dt.datetime | None
    id: str

    @classmethod
    def of(cls, case: Case) -> CaseKey:
        return cls(case.next_deadline_at, case.id)


@dataclass
class CaseRows:
    """A page of the case list, how many cases match, and the count per state.

    ``more_after`` says whether cases follow the page, ``more_before`` whether cases
    come before it.
    """

    items: list[CaseRow]
    total: int
    counts_by_state: dict[str, int]
    more_after: bool = False
    more_before: bool = False

    @property
    def last_key(self) -> CaseKey | None:
        """The key of the page's last case: the next page starts after it."""
        return CaseKey.of(self.items[-1].case) if self.items else None

    @property
    def first_key(self) -> CaseKey | None:
        """The key of the page's first case: the page before ends before it."""
        return CaseKey.of(self.items[0].case) if self.items else None


@dataclass
class PendingActivity:
    """An activity Temporal is running or retrying for a case, as Temporal reports it
    (``activity`` is "workflow_task" when the case's own code keeps failing)."""

    activity: str
    state: str
    attempt: int
    maximum_attempts: int
    last_failure: str | None
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    scheduled_at: dt.datetime | None


def failing_condition(now: dt.datetime, settings: Settings) -> ColumnElement[bool]:
    """Cases with an activity that failed often enough, or for long enough, to be stuck."""
    since = now - dt.timedelta(seconds=settings.stuck_after_seconds)
    return and_(
        col(Case.failing_activity).is_not(None),
        or_(
            col(Case.failing_attempts) >= settings.stuck_after_attempts,
            col(Case.failing_since) <= since,
        ),
    )


def overdue_condition(now: dt.datetime) -> ColumnElement[bool]:
    """Cases that stayed in their state longer than the rulebook expects."""
    return col(Case.dwell_overdue_at) <= now


def not_started_condition(now: dt.datetime, settings: Settings) -> ColumnElement[bool]:
    """Cases whose workflow has not recorded its first step within the stuck threshold.

    Such a row is always in the opening state; comparing the (indexed) state first keeps
    the filter an index read.
    """
    since = now - dt.timedelta(seconds=settings.stuck_after_seconds)
    return and_(
        col(Case.state) == OPENING_STATE,
        col(Case.last_step) == 0,
        col(Case.opened_at) <= since,
    )


def could_not_start_condition() -> ColumnElement[bool]:
    """Cases whose first step failed for good: stuck until an operator closes them."""
    return col(Case.state) == COULD_NOT_START


def stuck_condition(now: dt.datetime, settings: Settings) -> ColumnElement[bool]:
    """Any kind of stuck."""
    return or_(
        failing_condition(now, settings),
        overdue_condition(now),
        not_started_condition(now, settings),
        could_not_start_condition(),
    )


def _where(
    filters: CaseFilters, now: dt.datetime, settings: Settings, *, with_state: bool = True
) -> list[Any]:
    where: list[Any] = []
    if filters.clause:
        where.append(Case.clause == filters.clause)
    if filters.state and with_state:
        where.append(Case.state == filters.state)
    if filters.contract_id:
        where.append(Case.contract_id == filters.contract_id)
    if filters.escalated is not None:
        where.append(col(Case.escalated).is_(true() if filters.escalated else false()))
    if filters.stuck is True:
        where.append(stuck_condition(now, settings))
    elif filters.stuck is False:
        # NULL-safe: a case with no failing activity and no dwell limit is not stuck.
        where.append(
            and_(
                or_(
                    col(Case.failing_activity).is_(None),
                    and_(
                        col(Case.failing_attempts) < settings.stuck_after_attempts,
                        or_(
                            col(Case.failing_since).is_(None),
                            col(Case.failing_since)
                            > now - dt.timedelta(seconds=settings.stuck_after_seconds),
                        ),
                    ),
                ),
                or_(col(Case.dwell_overdue_at).is_(None), col(Case.dwell_overdue_at) > now),
                # state, last_step and opened_at are never NULL.
                or_(
                    col(Case.state) != OPENING_STATE,
                    col(Case.last_step) != 0,
                    col(Case.opened_at) > now - dt.timedelta(seconds=settings.stuck_after_seconds),
                ),
                col(Case.state) != COULD_NOT_START,
            )
        )
    if filters.within_days is not None:
        where.append(col(Case.next_deadline_at) <= now + dt.timedelta(days=filters.within_days))
    return where


def case_page_statement(
    where: list[Any],
    limit: int,
    offset: int = 0,
    *,
    after: CaseKey | None = None,
    before: CaseKey | None = None,
) -> Any:
    """The statement of one page of the list: each case with its contract's time zone.

    Nearest next deadline first, then by id (a total order); NULLS LAST matches the
    indexes' order, so the first page is read off an index. The time zone comes along
    by an outer join on the contract's primary key (a case of an unknown contract is
    shown in UTC).

    ``after`` (a page asked by cursor) starts the page after that case, with no OFFSET:
    each index is read from the cursor's key onwards, so a deep page costs what the
    first does. ``before`` (the console's "previous") answers the cases just before
    that one, nearest first (the caller reverses them).
    """
    if after is None and before is None:
        return (
            _with_zone(Case)
            .where(*where)
            .order_by(*_order(Case, forward=True))
            .offset(offset)
            .limit(limit)
        )
    forward = after is not None
    branches = _keyset_branches(after if after is not None else before, forward)
    if len(branches) == 1:
        return (
            _with_zone(Case)
            .where(*where, *branches[0])
            .order_by(*_order(Case, forward))
            .limit(limit)
        )
    # The cases past the key in deadline order, then those with no deadline: each part
    # an index range read of at most ``limit`` rows (an OR of the two would not be).
    parts = union_all(
        *(
            select(Case)
            .where(*where, *branch)
            .order_by(*_order(Case, forward))
            .limit(limit)
            .subquery()
            .select()
            for branch in branches
        )
    ).subquery()
    page = aliased(Case, parts)
    return _with_zone(page).order_by(*_order(page, forward)).limit(limit)


def _order(case: Any, forward: bool) -> list[Any]:
    """The list's order (``forward``), or its reverse."""
    deadline, case_id = col(case.next_deadline_at), col(case.id)
    if forward:
        return [deadline.asc().nulls_last(), case_id.asc()]
    return [deadline.desc().nulls_first(), case_id.desc()]


def _with_zone(case: Any) -> Any:
    """The ``case`` rows with their contract's time zone (None: unknown contract)."""
    return select(case, Contract.time_zone).outerjoin(
        Contract, col(Contract.id) == col(case.contract_id)
    )


def _keyset_branches(key: CaseKey | None, forward: bool) -> list[list[Any]]:
    """The conditions of the cases after ``key`` (``forward``) or before it, in the
    list's order, as one or two index ranges.

    Cases without a deadline come last: after a dated key come the later dated cases,
    then every undated one; before an undated key, the earlier undated ones, then every
    dated one.
    """
    assert key is not None
    deadline, case_id = col(Case.next_deadline_at), col(Case.id)
    if key.deadline is None:
        undated = [deadline.is_(None), case_id > key.id if forward else case_id < key.id]
        return [undated] if forward else [undated, [deadline.is_not(None)]]
    position = tuple_(deadline, case_id)
    dated = [position > (key.deadline, key.id) if forward else position < (key.deadline, key.id)]
    return [dated, [deadline.is_(None)]] if forward else [dated]


def list_case_rows(
    session: Session,
    filters: CaseFilters,
    limit: int,
    offset: int,
    now: dt.datetime,
    settings: Settings,
    *,
    after: CaseKey | None = None,
    before: CaseKey | None = None,
) -> CaseRows:
    """One page of cases, nearest next deadline first, with why each is stuck.

    The page starts at ``offset``, or just after the case ``after`` (a cursor), or ends
    just before the case ``before``. The per-state counts apply every filter except the
    state itself, so they say how many cases each state would show. Three statements
    whatever the page's size or depth: the page with its time zones (one row more, to
    know whether more follow), the page's deadlines, the counts per state (the total is
    their sum, or the filtered state's count).
    """
    where = _where(filters, now, settings)
    page = list(
        session.exec(
            case_page_statement(where, limit + 1, offset, after=after, before=before)
        ).all()
    )
    more = len(page) > limit
    page = page[:limit]
    if before is not None:
        page.reverse()
    deadlines = deadlines_of(session, [case.id for case, _ in page])
    counts = counts_by_state(session, filters, now, settings)
    total = counts.get(filters.state, 0) if filters.state else sum(counts.values())
    items = []
    for case, time_zone in page:
        zone = time_zone or "UTC"
        reasons = stuck_reasons(case, now, settings, zone)
        items.append(CaseRow(case, zone, reasons, deadlines.get(case.id, [])))
    return CaseRows(
        items,
        total,
        {state: n for state, n in sorted(counts.items())},
        # Paging back, cases follow the page: at least the one it ended before.
        more_after=more if before is None else True,
        more_before=more if before is not None else after is not None or offset > 0,
    )


def counts_by_state(
    session: Session, filters: CaseFilters, now: dt.datetime, settings: Settings
) -> dict[str, int]:
    """How many cases of each state match every filter but the state, in one statement.

    Under the filters ``case_count`` keeps (clause, contract, escalated), read from it: a
    few rows whatever the number of cases, and as current as the case rows (triggers keep
    it in the same transaction). "Stuck" and "due within N days" depend on the time, so
    under them the matching cases are counted (index reads of the matching rows).
    """
    if filters.stuck is None and filters.within_days is None:
        where: list[Any] = []
        if filters.clause:
            where.append(CaseCount.clause == filters.clause)
        if filters.contract_id:
            where.append(CaseCount.contract_id == filters.contract_id)
        if filters.escalated is not None:
            where.append(col(CaseCount.escalated).is_(true() if filters.escalated else false()))
        cases = func.sum(col(CaseCount.cases))
        query: Any = (
            select(CaseCount.state, cases)
            .where(*where)
            .group_by(col(CaseCount.state))
            .having(cases > 0)
        )
    else:
        query = (
            select(Case.state, func.count())
            .where(*_where(filters, now, settings, with_state=False))
            .group_by(col(Case.state))
        )
    return {state: int(n) for state, n in session.exec(query).all()}


def deadlines_of(session: Session, case_ids: list[str]) -> dict[str, list[Deadline]]:
    """The deadlines of each of these cases, earliest first, in one statement."""
    found: dict[str, list[Deadline]] = {}
    if not case_ids:
        return found
    rows = session.exec(
        select(Deadline)
        .where(col(Deadline.case_id).in_(case_ids))
        .order_by(col(Deadline.case_id), col(Deadline.due_at), col(Deadline.id))
    )
    for d in rows:
        found.setdefault(d.case_id, []).append(d)
    return found


def expected_dwell_days(case: Case) -> int | None:
    """How many days the case's rulebook expects it to stay in its current state."""
    try:
        rulebook = default_registry().get(case.clause, case.rulebook_version)
    except Exception:  # an unknown clause or version: no expectation to compare with
        return None
    spec = rulebook.states.get(case.state)
    return spec.expected_dwell_days if spec else None


def stuck_reasons(case: Case, now: dt.datetime, settings: Settings, zone: str = "UTC") -> list[str]:
    """Why a case is stuck, in words an operator can act on (empty when it is not)."""
    reasons = []
    if case.failing_activity and (
        case.failing_attempts >= settings.stuck_after_attempts
        or (
            case.failing_since is not None
            and case.failing_since <= now - dt.timedelta(seconds=settings.stuck_after_seconds)
        )
    ):
        since = f" since {describe_instant(case.failing_since, zone)}" if case.failing_since else ""
        attempts = "once" if case.failing_attempts == 1 else f"{case.failing_attempts} times"
        failure = f": {case.last_failure}" if case.last_failure else ""
        if case.failing_activity == WORKFLOW_TASK:
            # Retrying cannot help here: the code (or its rulebook) needs a fix deployed.
            reasons.append(
                f"the case's workflow code has failed {attempts}{since}{failure}. Temporal "
                "keeps retrying it; a fix to the code or the rulebook must be deployed "
                "(see docs/shipping-changes.md), and the case then carries on by itself"
            )
        else:
            reasons.append(
                f"{case.failing_activity.replace('_', ' ')} has failed {attempts}{since}{failure}"
            )
    if case.dwell_overdue_at is not None and case.dwell_overdue_at <= now and not case.closed:
        entered = case.state_entered_at or case.opened_at
        days = (now - entered).days
        expected = expected_dwell_days(case)
        limit = f"; its rulebook expects at most {expected} days" if expected else ""
        reasons.append(
            f"has stayed in \u201c{case.state_label}\u201d for {days} "
            f"day{'s' if days != 1 else ''} since {describe_instant(entered, zone)}{limit}"
        )
    if (
        case.state == OPENING_STATE
        and case.last_step == 0
        and case.opened_at <= now - dt.timedelta(seconds=settings.stuck_after_seconds)
    ):
        reasons.append(
            f"has not taken its first step since {describe_instant(case.opened_at, zone)}: "
            f"is a worker running for task queue \u201c{settings.temporal_task_queue}\u201d? "
            "If one is, its first step keeps failing (see Temporal's detail on the case "
            "page). The case carries on by itself once its first step succeeds"
        )
    if case.state == COULD_NOT_START:
        why = case.escalation_reason or "the case could not take its first step"
        reasons.append(
            f"{why}. Nothing more will happen to it: cancel it, and start a new case with "
            "the facts corrected"
        )
    return reasons


async def live_activities(client: Client, case_id: str) -> list[PendingActivity]:
    """The case's pending activities as Temporal describes them: attempts, last failure."""
    desc = await client.get_workflow_handle(case_id).describe()
    out = []
    for pa in desc.raw_description.pending_activities:
        failure = None
        if pa.HasField("last_failure"):
            # Failure messages are encrypted like every payload: decode with our codec.
            try:
                err: BaseException | None = await client.data_converter.decode_failure(
                    pa.last_failure
                )
            except Exception:  # a key this process lacks: say so rather than fail the page
                err = None
            # The error the activity raised; its causes are the library's internals.
            failure = str(err) if err is not None else "(the failure could not be decrypted)"
        out.append(
            PendingActivity(
                activity=pa.activity_type.name,
                state=_ACTIVITY_STATES.get(pa.state, str(pa.state)),
                attempt=pa.attempt,
                maximum_attempts=pa.maximum_attempts,
                last_failure=failure,
                last_attempt_at=_instant(pa, "last_attempt_complete_time"),
                next_attempt_at=_instant(pa, "next_attempt_schedule_time"),
                scheduled_at=_instant(pa, "scheduled_time"),
            )
        )
    task = desc.raw_description.pending_workflow_task
    if desc.raw_description.HasField("pending_workflow_task") and task.attempt > 1:
        # The workflow's own code failing: Temporal counts its attempts, the case row
        # keeps its message (workers/task_failures.py).
        out.append(
            PendingActivity(
                activity=WORKFLOW_TASK,
                state=_WORKFLOW_TASK_STATES.get(task.state, str(task.state)),
                attempt=task.attempt,
                maximum_attempts=0,
                last_failure=None,
                last_attempt_at=None,
                next_attempt_at=None,
                scheduled_at=_instant(task, "scheduled_time"),
            )
        )
    return out


async def asked_temporal(
    client: Callable[[], Awaitable[Client]], case_id: str, timeout: float = 5.0
) -> tuple[list[PendingActivity] | None, str | None]:
    """:func:`live_activities`, or None and why when Temporal cannot say (the case
    pages still show everything the store knows)."""

    async def ask() -> list[PendingActivity]:
        return await live_activities(await client(), case_id)

    try:
        return await asyncio.wait_for(ask(), timeout=timeout), None
    except HTTPException as exc:  # Temporal unreachable, from the API's dependency
        return None, str(exc.detail)
    except Exception as exc:
        return None, f"Temporal did not describe the workflow: {exc or type(exc).__name__}"


# temporal.api.enums.v1.PendingActivityState
_ACTIVITY_STATES = {1: "scheduled", 2: "started", 3: "cancel requested", 4: "paused"}
# temporal.api.enums.v1.PendingWorkflowTaskState
_WORKFLOW_TASK_STATES = {1: "scheduled", 2: "started"}


def _instant(message: Any, field_name: str) -> dt.datetime | None:
    """A protobuf Timestamp field as an aware datetime, None when unset."""
    if not message.HasField(field_name):
        return None
    return getattr(message, field_name).ToDatetime(dt.UTC)


def ops_summary(session: Session, now: dt.datetime, settings: Settings) -> dict[str, Any]:
    """Counts for alerting: open, stuck (by kind), escalated, deadlines coming up.

    Two statements whatever the data: every count is a scalar subquery of one SELECT,
    then the open cases per clause and state. The counts of open and escalated cases, and
    those per clause and state, add up ``case_count`` (kept by triggers with the case
    rows); the others are index reads of the few rows they count.
    """

    def count(*where: Any) -> Any:
        return select(func.count()).select_from(Case).where(*where).scalar_subquery()

    def tally(*where: Any) -> Any:
        total = func.coalesce(func.sum(col(CaseCount.cases)), 0)
        return select(total).where(*where).scalar_subquery()

    open_ = col(Case.closed).is_(false())
    counts = {
        "open_cases": tally(col(CaseCount.closed).is_(false())),
        "stuck": count(stuck_condition(now, settings)),
        "stuck_failing_activity": count(failing_condition(now, settings)),
        "stuck_overdue_in_state": count(overdue_condition(now)),
        "stuck_not_started": count(not_started_condition(now, settings)),
        "stuck_could_not_start": count(could_not_start_condition()),
        "failing_activity": count(col(Case.failing_activity).is_not(None)),
        # Through the failing_attempts index: only failing cases have attempts.
        "failing_workflow_code": count(
            col(Case.failing_attempts) >= 1, col(Case.failing_activity) == WORKFLOW_TASK
        ),
        "escalated": tally(col(CaseCount.escalated).is_(true())),
        "deadlines_within_24_hours": count(
            open_, col(Case.next_deadline_at) <= now + dt.timedelta(hours=24)
        ),
        "deadlines_within_7_days": count(
            open_, col(Case.next_deadline_at) <= now + dt.timedelta(days=7)
        ),
        "pending_amendments": select(func.count())
        .select_from(DeadlineAmendment)
        .where(DeadlineAmendment.status == "pending")
        .scalar_subquery(),
        "notices_failed": select(func.count())
        .select_from(Notice)
        .where(Notice.status == "failed")
        .scalar_subquery(),
    }
    row = (
        session.connection()
        .execute(sa_select(*(q.label(name) for name, q in counts.items())))
        .one()
    )
    cases = func.sum(col(CaseCount.cases))
    by_state = session.exec(
        select(CaseCount.clause, CaseCount.state, cases)
        .where(col(CaseCount.closed).is_(false()))
        .group_by(col(CaseCount.clause), col(CaseCount.state))
        .having(cases > 0)
        .order_by(col(CaseCount.clause), col(CaseCount.state))
    ).all()
    return {
        "generated_at": now,
        **{name: int(n) for name, n in row._mapping.items()},
        "open_by_clause_and_state": [
            {"clause": clause, "state": state, "count": int(n)} for clause, state, n in by_state
        ],
        "thresholds": {
            "stuck_after_attempts": settings.stuck_after_attempts,
            "stuck_after_seconds": settings.stuck_after_seconds,
        },
    }
