"""What crosses the hand-written workflow's boundaries: one dataclass in, one out.

They travel through Clauseflow's data converter (pydantic, encrypted), so datetimes and
dates keep their types. Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.terms import TermSheet

#: The workflow type and the activity's name, as Temporal knows them.
WORKFLOW_NAME = "HandwrittenTermination"
ACTIVITY_NAME = "send_termination_notice"

CLAUSE = "termination_for_convenience"


@dataclass
class TerminationTerms:
    """The term-sheet figures the clause needs, taken from the contract when the case starts.

    The starter has the term sheet already (the API checks the facts against it), so these
    few figures travel in the input rather than being loaded by an activity: no extra
    activity (three history events and a round trip) per case, and the deadlines of a
    running case stay as they were when it started, as Clauseflow's do.
    """

    notice_period_days: int
    reminder_days_before: list[int]
    our_side: str
    time_zone: str
    holiday_calendar: str
    business_weekdays: list[int]

    @classmethod
    def of(cls, sheet: TermSheet) -> TerminationTerms:
        """The figures of a contract's term sheet (completed with the rulebooks' defaults)."""
        heading = f"clauses.{CLAUSE}"
        return cls(
            notice_period_days=int(sheet.parameter(f"{heading}.notice_period_days")),
            reminder_days_before=[
                int(d) for d in sheet.parameter(f"{heading}.reminder_days_before")
            ],
            our_side=sheet.our_side,
            time_zone=sheet.time_zone,
            holiday_calendar=sheet.holiday_calendar,
            business_weekdays=list(sheet.business_hours.weekdays),
        )


@dataclass
class TerminationInput:
    case_id: str
    contract_id: str
    notice_received_at: dt.datetime
    #: "customer" or "provider": who gave the notice.
    given_by: str
    terms: TerminationTerms
    #: The rulebook version whose templates the notices are written with.
    rulebook_version: int
    #: The contract workflow to tell that the agreement is terminating, as Clauseflow's
    #: case tells its own under a rulebook version that says so (termination v4 on): the
    #: same work each side, each side's contract workflow on its own worker.
    contract_workflow: str | None = None


@dataclass
class TerminationResult:
    case_id: str
    state: str
    notice_keys: list[str]


@dataclass
class Deadline:
    """A deadline as the notices quote it and the store keeps it (rules.render.DeadlineLike)."""

    name: str
    group: str
    label: str
    due_at: dt.datetime
    last_day: dt.date | None
    explanation: list[str]
    status: str = "pending"


@dataclass
class CaseOpening:
    """What the first step records besides its notice: the case row and its deadlines."""

    contract_id: str
    rulebook_version: int
    opened_at: dt.datetime
    facts: dict[str, str]
    deadlines: list[Deadline] = field(default_factory=list)


@dataclass
class NoticeInput:
    """One step of the case: the notice it sends and what else it changed.

    Ids and the change only; the activity reads the rest (facts, deadlines, term sheet)
    from the store, except on the case's first step, which brings them (``opening``).
    """

    case_id: str
    step: int
    notice: str
    #: Unique within the case: the same on every retry, so the notice is written once.
    notice_key: str
    rule: str
    #: The workflow's time of the step (the notice's date).
    at: dt.datetime
    #: The case's state after the step, and the state it left if the step changed it.
    state: str
    from_state: str | None = None
    closed: bool = False
    #: The deadline whose arrival caused the step.
    reached: str | None = None
    opening: CaseOpening | None = None


@dataclass
class NoticeResult:
    notice_id: str
    #: False when an earlier attempt had written it already (a retry).
    written: bool
